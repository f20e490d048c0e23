package containers

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/berth-project/berth/core/runtime"
	"github.com/berth-project/berth/internal/trace"
	"github.com/berth-project/berth/service/containers/networking"
	"github.com/berth-project/berth/service/events"
	"github.com/berth-project/berth/service/images"
	"github.com/berth-project/berth/service/networks"
	"github.com/berth-project/berth/service/volumes"
	"github.com/berth-project/berth/store/metadata"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
)

// Config locates what the service needs on the host.
type Config struct {
	DataRoot     string                     // containers' persistent dirs live in DataRoot/containers
	ExecRoot     string                     // bundles and sockets in ExecRoot/containers
	Runtime      runtime.Runtime            // the default runtime
	Runtimes     map[string]runtime.Runtime // by Name, the default among them; HostConfig.Runtime picks one
	RuntimeRoot  string                     // runc's --root, passed to the monitor
	MonitorPath  string                     // berth-monitor binary
	InitPath     string                     // berth-init binary for --init
	CgroupParent string                     // e.g. "/berth"
	Netns        NetnsMaker                 // makes containers' network namespaces; nil: netns.Create
}

// NetnsMaker pins a new network namespace with lo up at a path
// (netns.Pool, which makes them ahead).
type NetnsMaker = networking.NetnsMaker

// Service owns all containers.
type Service struct {
	cfg      Config
	db       *metadata.DB
	images   *images.Service
	volumes  *volumes.Service
	networks *networks.Service
	net      *networking.Service
	snaps    *overlay.Snapshotter
	events   *events.Bus

	mu     sync.RWMutex
	byID   map[string]*Container
	byName map[string]string // "/name" → ID

	execer Execer // set by SetExecer
}

// New loads container records and reconciles them with what is running.
func New(cfg Config, db *metadata.DB, imgs *images.Service, vols *volumes.Service, nets *networks.Service, snaps *overlay.Snapshotter, bus *events.Bus) (*Service, error) {
	cfg.DataRoot = filepath.Join(cfg.DataRoot, "containers")
	cfg.ExecRoot = filepath.Join(cfg.ExecRoot, "containers")
	for _, d := range []string{cfg.DataRoot, cfg.ExecRoot} {
		if err := os.MkdirAll(d, 0o710); err != nil {
			return nil, err
		}
	}
	s := &Service{cfg: cfg, db: db, images: imgs, volumes: vols, networks: nets, snaps: snaps, events: bus, byID: map[string]*Container{}, byName: map[string]string{}}
	s.net = networking.New(nets, cfg.Netns, peers{s})
	imgs.SetUsers(s.imageUsers)
	vols.SetUsers(s.volumeUsers)
	nets.SetUsers(s.networkUsers)
	return s, nil
}

// Restore loads the containers' records, reconciles them with the host
// (see restore) and starts those whose restart policy asks for it. It
// runs once, after the networks are up and before any request reaches
// the service.
func (s *Service) Restore() error {
	s.mu.Lock()
	err := s.db.ForEach(metadata.Containers, func(_ string, raw []byte) error {
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		c := newContainer(r, s.cfg.DataRoot, s.cfg.ExecRoot)
		s.byID[r.ID] = c
		s.byName[r.Name] = r.ID
		return nil
	})
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("load containers: %w", err)
	}
	trace.Mark("containers: records loaded")
	s.restore()
	s.restartOnBoot()
	return nil
}

// save persists c's record; callers hold c.mu.
func (s *Service) save(c *Container) error {
	if c.removed {
		return nil
	}
	if err := s.db.Put(metadata.Containers, c.ID, c.Record); err != nil {
		return fmt.Errorf("save container %s: %w", c.ID, err)
	}
	return nil
}

// NotFound is Docker's "No such container" error.
func NotFound(ref string) error {
	return fmt.Errorf("No such container: %s: %w", ref, errdefs.ErrNotFound)
}

// Get finds a container by full ID, name, or unique ID prefix.
func (s *Service) Get(ref string) (*Container, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ref == "" {
		return nil, NotFound(ref)
	}
	if c, ok := s.byID[ref]; ok {
		return c, nil
	}
	if id, ok := s.byName["/"+strings.TrimPrefix(ref, "/")]; ok {
		return s.byID[id], nil
	}
	var found *Container
	for id, c := range s.byID {
		if strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, fmt.Errorf("multiple IDs found with provided prefix: %s: %w", ref, errdefs.ErrInvalidArgument)
			}
			found = c
		}
	}
	if found == nil {
		return nil, NotFound(ref)
	}
	return found, nil
}

func (s *Service) all() []*Container {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Container, 0, len(s.byID))
	for _, c := range s.byID {
		out = append(out, c)
	}
	// creation order: restores (and their firewall rules) come back the same way
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// imageUsers lists containers using an image, for rmi's conflict rules.
func (s *Service) imageUsers(id digest.Digest) (running, stopped []string) {
	for _, c := range s.all() {
		c.mu.Lock()
		if c.Image == id {
			if c.running() {
				running = append(running, c.ID)
			} else {
				stopped = append(stopped, c.ID)
			}
		}
		c.mu.Unlock()
	}
	return running, stopped
}

// PublishEvent publishes a container event for work done on it by a
// service beside this one (top, export).
func (s *Service) PublishEvent(ref string, action eventtypes.Action) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	s.publish(c, action, nil)
	return nil
}

func (s *Service) publish(c *Container, action eventtypes.Action, extra map[string]string) {
	attrs := map[string]string{"name": c.currentName(), "image": c.Config.Image}
	for k, v := range c.Config.Labels {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	s.events.Publish(eventtypes.ContainerEventType, action, c.ID, attrs)
}

// runtimeOf is the runtime c was created for (the default for records
// from before HostConfig.Runtime was kept).
func (s *Service) runtimeOf(c *Container) runtime.Runtime {
	if rt, ok := s.cfg.Runtimes[c.HostConfig.Runtime]; ok {
		return rt
	}
	return s.cfg.Runtime
}

// runtimes lists every configured runtime once.
func (s *Service) runtimes() []runtime.Runtime {
	out := []runtime.Runtime{s.cfg.Runtime}
	for name, rt := range s.cfg.Runtimes {
		if name != s.cfg.Runtime.Name() {
			out = append(out, rt)
		}
	}
	return out
}

// checkRuntime fills in the default runtime's name or refuses an unknown one.
func (s *Service) checkRuntime(hc *container.HostConfig) error {
	if hc.Runtime == "" {
		hc.Runtime = s.cfg.Runtime.Name()
		return nil
	}
	if _, ok := s.cfg.Runtimes[hc.Runtime]; !ok && hc.Runtime != s.cfg.Runtime.Name() {
		return fmt.Errorf("unknown or invalid runtime name: %s: %w", hc.Runtime, errdefs.ErrInvalidArgument)
	}
	return nil
}
