package containers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
)

// shmPath is where a shareable container's /dev/shm is mounted on the
// host (dockerd's <container>/mounts/shm), so other containers can join it.
func (c *Container) shmPath() string { return filepath.Join(c.dir, "mounts", "shm") }

// sharedNamespaces is what a start needs for IPC and PID modes that name
// the host or another container: the namespaces to join and the source of
// /dev/shm (dockerd's setupIPCDirs, getIPCContainer, getPIDContainer).
type sharedNamespaces struct {
	ipcPath, pidPath, shm string
}

func (s *Service) shareNamespaces(c *Container) (sharedNamespaces, error) {
	var out sharedNamespaces
	hc := c.HostConfig
	switch ipc := hc.IpcMode; {
	case ipc.IsContainer():
		donor, pid, err := s.donor(ipc.Container(), "IPC")
		if err != nil {
			return out, fmt.Errorf("failed to join IPC namespace: %w", err)
		}
		if fi, err := os.Stat(donor.shmPath()); err != nil || !fi.IsDir() || !isMountpoint(donor.shmPath()) {
			return out, fmt.Errorf("failed to join IPC namespace: container %s: non-shareable IPC (hint: use IpcMode:shareable for the donor container): %w",
				ipc.Container(), errdefs.ErrInvalidArgument)
		}
		out.ipcPath, out.shm = "/proc/"+strconv.Itoa(pid)+"/ns/ipc", donor.shmPath()
	case ipc.IsHost():
		if _, err := os.Stat("/dev/shm"); err != nil {
			return out, errors.New("/dev/shm is not mounted, but must be for --ipc=host")
		}
		out.shm = "/dev/shm"
	case ipc.IsShareable():
		p := c.shmPath()
		if err := os.MkdirAll(p, 0o700); err != nil {
			return out, err
		}
		if !isMountpoint(p) {
			opts := "mode=1777,size=" + strconv.FormatInt(hc.ShmSize, 10)
			if err := unix.Mount("shm", p, "tmpfs", unix.MS_NOEXEC|unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
				return out, fmt.Errorf("mounting shm tmpfs: %w", err)
			}
		}
		out.shm = p
	}
	if pm := hc.PidMode; pm.IsContainer() {
		_, pid, err := s.donor(pm.Container(), "PID")
		if err != nil {
			return out, fmt.Errorf("failed to join PID namespace: %w", err)
		}
		out.pidPath = "/proc/" + strconv.Itoa(pid) + "/ns/pid"
	}
	return out, nil
}

// donor is a running container whose namespace another one joins.
func (s *Service) donor(ref, what string) (*Container, int, error) {
	d, err := s.Get(ref)
	if err != nil {
		return nil, 0, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.State.Status == container.StateRestarting {
		return nil, 0, errRestarting(d.ID)
	}
	if !d.running() {
		return nil, 0, fmt.Errorf("container %s is not running: %w", d.ID, errdefs.ErrConflict)
	}
	return d, d.State.Pid, nil
}

// releaseShm unmounts a shareable container's /dev/shm once it stopped.
func releaseShm(c *Container) {
	if p := c.shmPath(); isMountpoint(p) {
		_ = unix.Unmount(p, unix.MNT_DETACH)
	}
}

// isMountpoint reports whether p is mounted on (its device differs from
// its parent's, which holds for a tmpfs).
func isMountpoint(p string) bool {
	var st, parent unix.Stat_t
	if unix.Lstat(p, &st) != nil || unix.Lstat(filepath.Dir(p), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}
