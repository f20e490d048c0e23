package archive

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/containerfs"
	"github.com/berth-project/berth/service/containers"
	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
	"github.com/moby/go-archive/compression"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
)

// Package archive is what docker cp, export and diff do with a
// container's filesystem from the host.
//
// docker cp's three calls. Each works on a running or stopped container
// through a containerfs.View: the rootfs (mounted only inside the view when
// the container is stopped) with the container's volumes and bind mounts
// and its hosts, hostname and resolv.conf bound in, as dockerd's
// openContainerFS. tmpfs mounts exist only inside a running container, so
// the view shows what is under them, as dockerd does.

// StatPath is HEAD /containers/{id}/archive: path's stat in the container.
func (s *Service) StatPath(ref, path string) (*container.PathStat, error) {
	fs, err := s.containers.OpenFilesystem(ref)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	st, err := fs.View.Stat(path)
	if err != nil {
		return nil, pathError(err, path, ref)
	}
	return st, nil
}

// ArchivePath is GET /containers/{id}/archive: a tar of path with its stat.
// The container is locked while the view is set up, not while the tar is
// read (a slow reader would stall ps and inspect).
func (s *Service) ArchivePath(ref, path string) (io.ReadCloser, *container.PathStat, error) {
	fs, err := s.containers.OpenFilesystem(ref)
	if err != nil {
		return nil, nil, err
	}
	rc, st, err := fs.View.Archive(path)
	if err != nil {
		fs.Close()
		return nil, nil, pathError(err, path, ref)
	}
	fs.Publish(eventtypes.ActionArchivePath)
	fs.Unlock()
	return &closeView{ReadCloser: rc, done: fs.Close}, st, nil
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
	if _, err := s.containers.Get(ref); err != nil {
		return err // before the body is read
	}
	// Decompress out here: xz and unpigz must be the host's, never
	// binaries from the container's filesystem.
	r, err := compression.DecompressStream(content)
	if err != nil {
		return err
	}
	defer r.Close()
	fs, err := s.containers.OpenFilesystem(ref)
	if err != nil {
		return err
	}
	defer fs.Close()
	eo := containerfs.ExtractOptions{
		AllowOverwriteDirWithFile: o.AllowOverwriteDirWithFile,
		Writable:                  writable(fs.Mounts, fs.ReadonlyRootfs),
	}
	if o.CopyUIDGID {
		eo.ChownUser = fs.User
	}
	if err := fs.View.Extract(path, r, eo); err != nil {
		return pathError(err, path, ref)
	}
	fs.Publish(eventtypes.ActionExtractToDir)
	return nil
}

// writable is dockerd's checkWritablePath: the extraction directory's
// mount (the deepest one holding it) must be read-write, or the rootfs
// when no mount holds it.
func writable(mounts []containers.Mount, readonlyRootfs bool) func(dir string) error {
	return func(dir string) error {
		dir = filepath.Clean(dir)
		var holder *containers.Mount
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

// Export streams the container's whole filesystem as a tar (volumes and
// the runtime's mounts are not part of it). A stopped container's rootfs
// is mounted for the time of the export.
func (s *Service) Export(ref string) (io.ReadCloser, error) {
	rootfs, release, err := s.containers.ReadRootfs(ref)
	if err != nil {
		return nil, err
	}
	rc, err := archive.TarWithOptions(rootfs, &archive.TarOptions{})
	if err != nil {
		release()
		return nil, err
	}
	_ = s.containers.PublishEvent(ref, eventtypes.ActionExport)
	return &closeView{ReadCloser: rc, done: release}, nil
}
