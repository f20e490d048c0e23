package containers

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
)

// RuntimeMountpoints are the files the runtime creates in a rootfs to bind
// mount over (Docker keeps them in an "init" layer); they are never part
// of a container's changes.
var RuntimeMountpoints = []string{"etc/hosts", "etc/hostname", "etc/resolv.conf", "dev/console"}

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
		ExcludePatterns: RuntimeMountpoints,
	})
}
