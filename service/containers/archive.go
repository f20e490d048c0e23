package containers

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/containerfs"
	"github.com/containerd/errdefs"
	"github.com/moby/go-archive/compression"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"
)

// docker cp's three calls. Each works on a running or stopped container
// through a containerfs.View: the rootfs (mounted only inside the view when
// the container is stopped) with the container's volumes and bind mounts
// and its hosts, hostname and resolv.conf bound in, as dockerd's
// openContainerFS. tmpfs mounts exist only inside a running container, so
// the view shows what is under them, as dockerd does.

// StatPath is HEAD /containers/{id}/archive: path's stat in the container.
func (s *Service) StatPath(ref, path string) (*container.PathStat, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, done, err := s.openFS(c, ref)
	if err != nil {
		return nil, err
	}
	defer done()
	st, err := v.Stat(path)
	if err != nil {
		return nil, pathError(err, path, ref)
	}
	return st, nil
}

// ArchivePath is GET /containers/{id}/archive: a tar of path with its stat.
// The container is locked while the view is set up, not while the tar is
// read (a slow reader would stall ps and inspect).
func (s *Service) ArchivePath(ref, path string) (io.ReadCloser, *container.PathStat, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, done, err := s.openFS(c, ref)
	if err != nil {
		return nil, nil, err
	}
	rc, st, err := v.Archive(path)
	if err != nil {
		done()
		return nil, nil, pathError(err, path, ref)
	}
	s.publish(c, eventtypes.ActionArchivePath, nil)
	return &closeView{ReadCloser: rc, done: done}, st, nil
}

// ExtractOptions are the query of PUT /containers/{id}/archive.
type ExtractOptions struct {
	// AllowOverwriteDirWithFile is noOverwriteDirNonDir's opposite.
	AllowOverwriteDirWithFile bool
	// CopyUIDGID gives what is extracted to the container's Config.User
	// (when it has one; otherwise the archive's owners stay).
	CopyUIDGID bool
}

// ExtractToDir is PUT /containers/{id}/archive: content (a tar, maybe
// compressed) unpacked into the directory path. The container stays locked
// meanwhile, as dockerd's does, so it cannot start on a rootfs mounted
// here.
func (s *Service) ExtractToDir(ref, path string, o ExtractOptions, content io.Reader) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	// Decompress out here: xz and unpigz must be the host's, never
	// binaries from the container's filesystem.
	r, err := compression.DecompressStream(content)
	if err != nil {
		return err
	}
	defer r.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	v, done, err := s.openFS(c, ref)
	if err != nil {
		return err
	}
	defer done()
	eo := containerfs.ExtractOptions{
		AllowOverwriteDirWithFile: o.AllowOverwriteDirWithFile,
		Writable:                  writable(c.Mounts, c.HostConfig.ReadonlyRootfs),
	}
	if o.CopyUIDGID && c.Config != nil {
		eo.ChownUser = c.Config.User
	}
	if err := v.Extract(path, r, eo); err != nil {
		return pathError(err, path, ref)
	}
	s.publish(c, eventtypes.ActionExtractToDir, nil)
	return nil
}

// openFS opens a view of c's filesystem; done closes it and releases the
// volumes it mounted. Callers hold c.mu.
func (s *Service) openFS(c *Container, ref string) (_ *containerfs.View, done func(), retErr error) {
	if c.removed || c.removing {
		return nil, nil, NotFound(ref)
	}
	o := containerfs.Options{Root: c.rootfs()}
	if !c.running() {
		chain, dir, rootfs := c.Chain, c.dir, c.rootfs()
		o.MountRoot = func() error { return s.snaps.Mount(chain, dir, rootfs) }
	}
	// The network files first: a user's mount at the same place goes on top.
	for _, f := range []string{"resolv.conf", "hostname", "hosts"} {
		if p := filepath.Join(c.dir, f); fileExists(p) {
			o.Binds = append(o.Binds, containerfs.Bind{Source: p, Destination: "/etc/" + f, ReadOnly: c.HostConfig.ReadonlyRootfs})
		}
	}
	var volumes []string
	release := func() {
		for _, n := range volumes {
			s.volumes.Unmount(n)
		}
	}
	defer func() {
		if retErr != nil {
			release()
		}
	}()
	for _, m := range c.Mounts {
		b := containerfs.Bind{Destination: m.Destination, ReadOnly: !m.RW}
		switch m.Type {
		case mount.TypeVolume:
			src, err := s.volumes.Mount(m.Name)
			if err != nil {
				return nil, nil, err
			}
			volumes = append(volumes, m.Name)
			b.Source = src
		case mount.TypeBind:
			if err := m.PrepareBindSource(); err != nil { // as a start would (-v)
				return nil, nil, err
			}
			b.Source = m.Source
		default:
			continue
		}
		o.Binds = append(o.Binds, b)
	}
	v, err := containerfs.Open(o)
	if err != nil {
		return nil, nil, fmt.Errorf("container %s: open its filesystem: %w", c.ID, err)
	}
	return v, func() { v.Close(); release() }, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// writable is dockerd's checkWritablePath: the extraction directory's
// mount (the deepest one holding it) must be read-write, or the rootfs
// when no mount holds it.
func writable(mounts []Mount, readonlyRootfs bool) func(dir string) error {
	return func(dir string) error {
		dir = filepath.Clean(dir)
		var holder *Mount
		for i := range mounts {
			m := &mounts[i]
			if dir == m.Destination || strings.HasPrefix(dir, m.Destination+"/") {
				if holder == nil || len(m.Destination) > len(holder.Destination) {
					holder = m
				}
			}
		}
		switch {
		case holder != nil && !holder.RW:
			return errdefs.ErrInvalidArgument.WithMessage("mounted volume is marked read-only")
		case holder == nil && readonlyRootfs:
			return errdefs.ErrInvalidArgument.WithMessage("container rootfs is marked read-only")
		}
		return nil
	}
}

// pathError gives a missing path docker's words and 404.
func pathError(err error, path, ref string) error {
	if os.IsNotExist(err) { // not errors.Is: dockerd looks no deeper either
		return fmt.Errorf("Could not find the file %s in container %s: %w", path, ref, errdefs.ErrNotFound)
	}
	return err
}

// closeView ends the view once the archive has been read.
type closeView struct {
	io.ReadCloser
	done func()
}

func (c *closeView) Close() error {
	err := c.ReadCloser.Close()
	c.done()
	return err
}
