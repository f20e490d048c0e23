package containers

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
)

// runtimeMountpoints are the files the runtime creates in a rootfs to bind
// mount over (Docker keeps them in an "init" layer); they are never part
// of a container's changes.
var runtimeMountpoints = []string{"etc/hosts", "etc/hostname", "etc/resolv.conf", "dev/console"}

// Diff returns the container's filesystem changes as a layer tar (overlay
// whiteouts turned into .wh. entries), for build steps and commit.
func (s *Service) Diff(ref string) (io.ReadCloser, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	removed := c.removed
	c.mu.Unlock()
	if removed {
		return nil, fmt.Errorf("No such container: %s: %w", ref, errdefs.ErrNotFound)
	}
	return archive.TarWithOptions(filepath.Join(c.dir, "upper"), &archive.TarOptions{
		WhiteoutFormat:  archive.OverlayWhiteoutFormat,
		ExcludePatterns: runtimeMountpoints,
	})
}

// Export streams the container's whole filesystem as a tar (volumes and
// the runtime's mounts are not part of it). A stopped container's rootfs
// is mounted for the time of the export.
func (s *Service) Export(ref string) (io.ReadCloser, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed || c.removing {
		return nil, NotFound(ref)
	}
	if c.running() {
		return archive.TarWithOptions(c.rootfs(), &archive.TarOptions{})
	}
	if err := s.snaps.Mount(c.Chain, c.dir, c.rootfs()); err != nil {
		return nil, err
	}
	rc, err := archive.TarWithOptions(c.rootfs(), &archive.TarOptions{})
	if err != nil {
		_ = overlay.Unmount(c.rootfs())
		return nil, err
	}
	return &unmountOnClose{ReadCloser: rc, s: s, c: c}, nil
}

// unmountOnClose releases a stopped container's rootfs after an export,
// unless the container was started meanwhile.
type unmountOnClose struct {
	io.ReadCloser
	s *Service
	c *Container
}

func (u *unmountOnClose) Close() error {
	err := u.ReadCloser.Close()
	u.c.mu.Lock()
	if !u.c.running() {
		_ = overlay.Unmount(u.c.rootfs())
	}
	u.c.mu.Unlock()
	return err
}
