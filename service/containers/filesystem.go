package containers

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/berth-project/berth/internal/containerfs"
	"github.com/berth-project/berth/store/snapshots/overlay"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"
	"github.com/opencontainers/go-digest"
)

// Filesystem is a container's filesystem opened from the host (for docker
// cp, see service/containers/archive): a view of its rootfs with its
// volumes, bind mounts and network files bound in. The container stays
// locked until Unlock or Close, so it cannot start on a rootfs mounted
// here.
type Filesystem struct {
	View           *containerfs.View
	Mounts         []Mount
	ReadonlyRootfs bool
	User           string // Config.User, for copyUIDGID

	s      *Service
	c      *Container
	done   func()
	unlock sync.Once
	close  sync.Once
}

// OpenFilesystem opens ref's filesystem and locks the container.
func (s *Service) OpenFilesystem(ref string) (*Filesystem, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	v, done, err := s.openFS(c, ref)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	fs := &Filesystem{View: v, Mounts: c.Mounts, ReadonlyRootfs: c.HostConfig.ReadonlyRootfs, s: s, c: c, done: done}
	if c.Config != nil {
		fs.User = c.Config.User
	}
	return fs, nil
}

// Publish sends the container event action (archive-path, extract-to-dir).
func (fs *Filesystem) Publish(action eventtypes.Action) { fs.s.publish(fs.c, action, nil) }

// Unlock lets the container change again while the view stays open (a
// slow reader of an archive must not stall ps and inspect).
func (fs *Filesystem) Unlock() { fs.unlock.Do(fs.c.mu.Unlock) }

// Close ends the view, releases the volumes it mounted and unlocks.
func (fs *Filesystem) Close() {
	fs.close.Do(func() {
		fs.done()
		fs.Unlock()
	})
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

// ReadRootfs gives ref's rootfs for reading (export), mounting a stopped
// container's for the time until release, which unmounts it unless the
// container was started meanwhile.
func (s *Service) ReadRootfs(ref string) (rootfs string, release func(), err error) {
	c, err := s.Get(ref)
	if err != nil {
		return "", nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed || c.removing {
		return "", nil, NotFound(ref)
	}
	if c.running() {
		return c.rootfs(), func() {}, nil
	}
	if err := s.snaps.Mount(c.Chain, c.dir, c.rootfs()); err != nil {
		return "", nil, err
	}
	return c.rootfs(), func() {
		c.mu.Lock()
		if !c.running() {
			_ = overlay.Unmount(c.rootfs())
		}
		c.mu.Unlock()
	}, nil
}

// WritableLayer is ref's upper directory and the image it is over.
func (s *Service) WritableLayer(ref string) (upper string, image digest.Digest, err error) {
	c, err := s.Get(ref)
	if err != nil {
		return "", "", err
	}
	return filepath.Join(c.dir, "upper"), c.Image, nil
}
