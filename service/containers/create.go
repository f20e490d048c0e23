package containers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/ids"
	"github.com/berth-project/berth/internal/names"
	"github.com/berth-project/berth/internal/trace"
	"github.com/berth-project/berth/service/containers/runconfig"
	"github.com/berth-project/berth/service/images"
	"github.com/berth-project/berth/store/metadata"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// CreateRequest is the body of POST /containers/create plus its name.
type CreateRequest struct {
	Name             string
	Config           *container.Config
	HostConfig       *container.HostConfig
	NetworkingConfig *network.NetworkingConfig
	// Platform, when set, is the platform the image must be of.
	Platform *ocispec.Platform
}

// Create makes a container record and its directory; nothing runs yet.
func (s *Service) Create(req CreateRequest) (string, error) {
	c, err := s.create(req, true)
	if err != nil {
		return "", err
	}
	return c.ID, nil
}

// StartError is a start's failure after CreateAndStart created the
// container, which stays (unless it is an auto-remove one).
type StartError struct {
	ID  string
	Err error
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// CreateAndStart creates a container and starts it, for the one-request
// `run -d` (docs/api-extensions.md). Its record is not committed on its
// own first: the start's running record carries it, committed while the
// container is set up, and the answer waits for that commit. A crash
// before it leaves no record, and the restore removes a container that
// runs without one: the container never existed, as for a crash during
// a create. A start that fails returns a *StartError.
func (s *Service) CreateAndStart(req CreateRequest) (string, error) {
	c, err := s.create(req, false)
	if err != nil {
		return "", err
	}
	if err := s.Start(c.ID); err != nil {
		c.mu.Lock()
		serr := s.save(c) // a removed (auto-remove) container is not saved again
		c.mu.Unlock()
		return c.ID, &StartError{ID: c.ID, Err: errors.Join(err, serr)}
	}
	return c.ID, nil
}

// create makes the container and its directory; commit says whether its
// record is committed before it returns.
func (s *Service) create(req CreateRequest, commit bool) (*Container, error) {
	if req.Config == nil {
		return nil, fmt.Errorf("config cannot be empty in order to create a container: %w", errdefs.ErrInvalidArgument)
	}
	cfg := *req.Config
	hc := req.HostConfig
	if hc == nil {
		hc = &container.HostConfig{}
	}
	img, err := s.images.Resolve(cfg.Image)
	if err != nil {
		return nil, err
	}
	if err := images.CheckPlatform(cfg.Image, img, req.Platform); err != nil {
		return nil, err
	}
	runconfig.MergeImage(&cfg, &img.Config.Config)
	args := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	if len(args) == 0 {
		return nil, fmt.Errorf("no command specified: %w", errdefs.ErrInvalidArgument)
	}
	id := ids.New()
	if cfg.Hostname == "" {
		cfg.Hostname = ids.Short(id)
	}
	runconfig.SetDefaults(hc)
	if err := runconfig.Validate(&cfg, hc); err != nil {
		return nil, err
	}
	if err := s.checkRuntime(hc); err != nil {
		return nil, err
	}
	// container:<name> modes are recorded with the full ID, as dockerd does
	if m := hc.IpcMode; m.IsContainer() {
		if d, err := s.Get(m.Container()); err == nil {
			hc.IpcMode = container.IpcMode("container:" + d.ID)
		}
	}
	if m := hc.PidMode; m.IsContainer() {
		if d, err := s.Get(m.Container()); err == nil {
			hc.PidMode = container.PidMode("container:" + d.ID)
		}
	}
	if err := s.net.ResolveLinks(hc); err != nil {
		return nil, err
	}
	r := Record{
		ID: id, Created: time.Now().UTC(), Path: args[0], Args: args[1:],
		Config: &cfg, HostConfig: hc, Image: img.ID, Chain: img.ChainIDs(), Hostname: cfg.Hostname,
		State: State{Status: container.StateCreated},
	}
	c := newContainer(r, s.cfg.DataRoot, s.cfg.ExecRoot)
	if err := s.reserveName(c, req.Name); err != nil {
		return nil, err
	}
	mounts, err := s.resolveMounts(&cfg, hc)
	if err != nil {
		s.releaseName(c)
		return nil, err
	}
	c.Mounts = mounts
	if hc.NetworkMode == "" || hc.NetworkMode == "default" {
		hc.NetworkMode = network.NetworkBridge
	}
	if c.Networks, err = s.net.Resolve(hc, req.NetworkingConfig); err != nil {
		s.releaseName(c)
		for _, m := range mounts {
			if m.Anonymous {
				_ = s.volumes.Remove(m.Name, true)
			}
		}
		return nil, err
	}
	trace.Mark("create: resolved (image, name, mounts, networks)")
	// The record first: its commit's fsync then carries only the record,
	// not the directory's metadata too (a start makes a directory that a
	// crash between the two left unmade; see ensureDir).
	if commit {
		c.mu.Lock()
		err = s.save(c)
		c.mu.Unlock()
		trace.Mark("create: record saved")
	}
	if err == nil {
		if err = s.prepareDir(c); err != nil && commit {
			if derr := s.db.Delete(metadata.Containers, c.ID); derr != nil {
				err = errors.Join(err, derr)
			}
		}
	}
	trace.Mark("create: directory prepared")
	if err != nil {
		s.releaseName(c)
		os.RemoveAll(c.dir)
		return nil, err
	}
	s.publish(c, "create", nil)
	return c, nil
}

// reserveName claims a name (or generates one) and registers c.
func (s *Service) reserveName(c *Container, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name != "" {
		if !validName.MatchString(name) {
			return fmt.Errorf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", name, errdefs.ErrInvalidArgument)
		}
		name = "/" + strings.TrimPrefix(name, "/")
		if other, ok := s.byName[name]; ok {
			return fmt.Errorf("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.: %w",
				name, other, errdefs.ErrConflict)
		}
	} else {
		for i := 0; ; i++ {
			name = "/" + names.Generate(i)
			if _, ok := s.byName[name]; !ok {
				break
			}
		}
	}
	c.Name = name
	s.byName[name] = c.ID
	s.byID[c.ID] = c
	return nil
}

func (s *Service) releaseName(c *Container) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName[c.Name] == c.ID {
		delete(s.byName, c.Name)
	}
	delete(s.byID, c.ID)
}

// prepareDir makes the container's directory: its hostname file and the
// directories of its writable layer (hosts and resolv.conf are written by
// each start, for its network).
func (s *Service) prepareDir(c *Container) error {
	if err := os.MkdirAll(c.dir, 0o710); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.dir, "hostname"), []byte(c.Hostname+"\n"), 0o644); err != nil {
		return fmt.Errorf("container hostname: %w", err)
	}
	return s.snaps.PrepareDirs(c.dir, c.rootfs())
}

// ensureDir makes c's directory again if a crash came between its
// create's commit and its prepareDir.
func (s *Service) ensureDir(c *Container) error {
	if _, err := os.Stat(filepath.Join(c.dir, "hostname")); err == nil {
		return nil
	}
	return s.prepareDir(c)
}
