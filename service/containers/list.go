package containers

import (
	"path/filepath"
	"sort"
	"time"

	"github.com/berth-project/berth/service/containers/view"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"
)

// ListOptions are the parameters of GET /containers/json.
type ListOptions = view.ListOptions

// List returns container summaries, newest first (package view filters
// and builds them).
func (s *Service) List(o ListOptions) ([]container.Summary, error) {
	f, err := view.ParseFilters(o.Filters, func(ref string) (time.Time, error) {
		c, err := s.Get(ref)
		if err != nil {
			return time.Time{}, err
		}
		return c.Created, nil
	}, func(ref string) (digest.Digest, error) {
		img, err := s.images.Resolve(ref)
		if err != nil {
			return "", err
		}
		return img.ID, nil
	})
	if err != nil {
		return nil, err
	}
	cs := s.all()
	sort.Slice(cs, func(i, j int) bool { return cs[i].Created.After(cs[j].Created) })
	out := []container.Summary{}
	for _, c := range cs {
		c.mu.Lock()
		var sum container.Summary
		ok := !c.removed
		if ok {
			sum, ok = view.Summary(s.viewOf(c), o, f)
		}
		if ok && o.Size {
			sum.SizeRw, sum.SizeRootFs = s.sizes(c)
		}
		c.mu.Unlock()
		if !ok {
			continue
		}
		out = append(out, sum)
		if o.Limit > 0 && len(out) >= o.Limit {
			break
		}
	}
	return out, nil
}

// Inspect returns Docker's container inspect document.
func (s *Service) Inspect(ref string, size bool) (*container.InspectResponse, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := view.Inspect(s.viewOf(c), s.net.InspectHostConfig(c.net()), s.execIDs(c))
	if size {
		rw, total := s.sizes(c)
		resp.SizeRw, resp.SizeRootFs = &rw, &total
	}
	return resp, nil
}

// viewOf copies what ps and inspect show of c; callers hold c.mu.
func (s *Service) viewOf(c *Container) view.Container {
	st := c.State
	return view.Container{
		ID: c.ID, Name: c.Name, Created: c.Created, Path: c.Path, Args: c.Args,
		Config: c.Config, HostConfig: c.HostConfig, Image: c.Image, RestartCount: c.RestartCount,
		Status: st.Status, Pid: st.Pid, ExitCode: st.ExitCode, OOMKilled: st.OOMKilled, Error: st.Error,
		StartedAt: st.StartedAt, FinishedAt: st.FinishedAt, Health: st.Health,
		Mounts: c.Mounts, MountPoints: view.MountPoints(c.Mounts, s.volumes.Mountpoint), Ports: s.net.ShownPorts(c.net()),
		NetworkSettings: s.net.Settings(c.net(), c.running(), st.Status == container.StateCreated), Dir: c.dir, Rootfs: c.rootfs(), LogPath: c.logPath(),
	}
}

// sizes are c's writable layer's size and that plus its image's.
func (s *Service) sizes(c *Container) (rw, rootFs int64) {
	rw, _ = overlay.DirSize(filepath.Join(c.dir, "upper"))
	rootFs = rw
	if img, ok := s.images.Get(c.Image); ok {
		rootFs += img.Size
	}
	return rw, rootFs
}
