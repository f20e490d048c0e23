package containers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/trace"
	"github.com/berth-project/berth/network/netns"
	"github.com/berth-project/berth/runtime/monitor"
	"github.com/berth-project/berth/runtime/oci"
	"github.com/berth-project/berth/service/containers/cgroups"
	"github.com/berth-project/berth/service/containers/monitors"
	"github.com/berth-project/berth/store/metadata"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"
)

// Start runs a created or exited container under a new monitor.
func (s *Service) Start(ref string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.removed || c.removing {
		c.mu.Unlock()
		return NotFound(ref)
	}
	if c.running() || c.State.Status == container.StateRestarting {
		c.mu.Unlock()
		return fmt.Errorf("container %s is already started: %w", c.ID, errdefs.ErrNotModified)
	}
	c.resetRestarts()
	err = s.startLocked(c)
	if err != nil {
		c.recordExit()
		c.notify()
	}
	autoRemove := c.HostConfig.AutoRemove
	c.mu.Unlock()
	if err != nil && autoRemove {
		_ = s.Remove(c.ID, RemoveOptions{Force: true, RemoveVolumes: true})
	}
	return err
}

func (s *Service) startLocked(c *Container) (retErr error) {
	defer func() {
		if retErr != nil {
			s.cleanupRun(c)
		}
	}()
	trace.Mark("start: begin")
	// The cgroups are made while the rootfs mounts and the spec is written;
	// a start that fails before its monitor took them over removes them.
	cgroupsMade, removeCgroups := cgroups.Ahead(s.runtimeOf(c), s.cgroupPath(c))
	monitorOwnsCgroups := false
	defer func() {
		if !monitorOwnsCgroups && cgroupsMade() {
			removeCgroups()
		}
	}()
	if err := s.ensureDir(c); err != nil {
		return err
	}
	_ = os.Remove(c.exitPath())
	if err := os.MkdirAll(c.bundle(), 0o700); err != nil {
		return err
	}
	mount := s.snaps.Mount
	if c.HostConfig.AutoRemove { // its writable layer goes with it
		mount = s.snaps.MountVolatile
	}
	if err := mount(c.Chain, c.dir, c.rootfs()); err != nil {
		return err
	}
	trace.Mark("start: rootfs mounted")
	mounts, release, err := s.setupMounts(c)
	if err != nil {
		return err
	}
	c.releaseMounts = func() {
		release()
		s.publishVolumes(c, "unmount")
	}
	s.publishVolumes(c, "mount")
	trace.Mark("start: volumes mounted")
	nsPath, err := s.net.Setup(c.net())
	if err != nil {
		return err
	}
	trace.Mark("start: network set up")
	shared, err := s.shareNamespaces(c)
	if err != nil {
		return err
	}
	cfg, err := s.net.WithLinkEnv(c.net()) // the legacy links' variables
	if err != nil {
		return err
	}
	spec, err := oci.Spec(oci.Options{
		ID: c.ID, Rootfs: c.rootfs(), Config: cfg, HostConfig: c.HostConfig, Hostname: c.Hostname,
		HostnamePath:   filepath.Join(c.dir, "hostname"),
		HostsPath:      filepath.Join(c.dir, "hosts"),
		ResolvConfPath: filepath.Join(c.dir, "resolv.conf"),
		CgroupsPath:    s.cgroupPath(c),
		InitPath:       s.cfg.InitPath,
		ExtraMounts:    mounts,
		NetNSPath:      nsPath,
		IpcNSPath:      shared.ipcPath,
		PidNSPath:      shared.pidPath,
		ShmSource:      shared.shm,
	})
	if err != nil {
		return s.startFailed(c, err.Error(), err)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.bundle(), "config.json"), b, 0o600); err != nil {
		return err
	}
	c.spec = spec
	trace.Mark("start: spec written")
	if err := s.runtimeOf(c).Prepare(c.bundle(), spec); err != nil {
		return s.startFailed(c, err.Error(), err)
	}
	trace.Mark("start: runtime prepared (plan)")
	startedAt := time.Now().UTC()
	saved, err := s.saveRunning(c, startedAt)
	if err != nil {
		return err
	}
	// a start that fails without the monitor's word saves c's own state
	// over that record again
	unsaved := func(err error) error {
		<-saved
		return errors.Join(err, s.save(c))
	}
	cgroupsMade()
	conn, pid, err := s.spawnMonitor(c)
	if err != nil {
		return unsaved(err)
	}
	monitorOwnsCgroups = true
	trace.Mark("start: monitor spawned")
	info, failure, err := monitors.AwaitStart(conn, c.ID, c.attached.Write)
	if err != nil {
		return unsaved(err)
	}
	saveErr := <-saved // before any other save of c
	if failure != nil {
		return s.startFailed(c, failure.Message, nil)
	}
	trace.Mark("start: started frame read")
	c.monitor = conn
	c.State = State{Status: container.StateRunning, Pid: info.Pid, MonitorPid: pid, StartedAt: startedAt}
	if saveErr != nil {
		return saveErr
	}
	trace.Mark("start: state saved")
	close(c.started)
	c.notify()
	go s.pump(c, conn)
	s.startHealth(c, true)
	s.publish(c, "start", nil)
	return nil
}

// saveRunning persists c's record as running since startedAt, in the
// background: the fsync overlaps the container's set-up by the monitor
// rather than following it. The pids are not in it; a restore gets them
// from the monitor, and a crash before the container runs leaves a
// record that restore reconciles like any other (no monitor: the exit it
// wrote, or 255). The caller receives from the channel before c's next
// save, so the saves land in order.
func (s *Service) saveRunning(c *Container, startedAt time.Time) (<-chan error, error) {
	done := make(chan error, 1)
	if c.removed {
		done <- nil
		return done, nil
	}
	rec := c.Record
	rec.State = State{Status: container.StateRunning, StartedAt: startedAt}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	go func() {
		if err := s.db.Put(metadata.Containers, c.ID, json.RawMessage(b)); err != nil {
			done <- fmt.Errorf("save container %s: %w", c.ID, err)
			return
		}
		done <- nil
	}()
	return done, nil
}

// startFailed records a start error with Docker's exit codes (127: command
// not found, 126: not executable) and returns the error for the API.
func (s *Service) startFailed(c *Container, msg string, cause error) error {
	code := 128
	switch {
	case strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory"):
		code = 127
	case strings.Contains(msg, "permission denied"):
		code = 126
	}
	c.State.ExitCode, c.State.Error = code, msg
	_ = s.save(c)
	if cause != nil && errdefs.IsInvalidArgument(cause) {
		return cause
	}
	return fmt.Errorf("failed to create task for container: OCI runtime create failed: %s: %w", msg, errdefs.ErrUnknown)
}

// Process is what can be seen of a container's processes from the host.
type Process struct {
	ID, Name string
	Running  bool
	Pid      int    // the init's, while running
	Cgroup   string // the cgroup's path below each hierarchy's root
}

// Process describes ref's processes as they are now.
func (s *Service) Process(ref string) (Process, error) {
	c, err := s.Get(ref)
	if err != nil {
		return Process{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := Process{ID: c.ID, Name: c.Name, Running: c.running(), Cgroup: s.cgroupPath(c)}
	if p.Running {
		p.Pid = c.State.Pid
	}
	return p, nil
}

func (s *Service) cgroupPath(c *Container) string {
	return cgroups.Path(s.cfg.CgroupParent, c.HostConfig.CgroupParent, c.ID)
}

// spawnMonitor starts berth-monitor for c (package monitors).
func (s *Service) spawnMonitor(c *Container) (net.Conn, int, error) {
	return monitors.Spawn(monitors.Options{
		Path: s.cfg.MonitorPath, ID: c.ID, Bundle: c.bundle(), Runtime: s.runtimeOf(c).Name(), RuntimeRoot: s.cfg.RuntimeRoot,
		ExitFile: c.exitPath(), Socket: c.socketPath(), Cgroup: s.cgroupPath(c),
		LogConfig: c.HostConfig.LogConfig, LogPath: c.logPath(), MonitorLog: filepath.Join(c.runDir, "monitor.log"),
		Tty: c.Config.Tty, Stdin: c.Config.OpenStdin, NoSyncExit: c.HostConfig.AutoRemove,
	})
}

// pump forwards a monitor's frames until the container exits.
func (s *Service) pump(c *Container, conn net.Conn) {
	monitors.Pump(conn, c.exitPath(), func(typ byte, p []byte) {
		c.mu.Lock()
		c.attached.Write(typ, p)
		c.mu.Unlock()
	}, func(exit monitor.Exit) { s.handleExit(c, exit) })
}

// handleExit records an exit, releases the container's mounts and run
// directory, wakes waiters and attachers, and honours --rm.
func (s *Service) handleExit(c *Container, exit monitor.Exit) {
	c.mu.Lock()
	if c.State.Status != container.StateRunning && c.State.Status != container.StatePaused {
		c.mu.Unlock()
		return
	}
	c.State.Status = container.StateExited
	c.State.ExitCode = exit.ExitCode
	c.State.OOMKilled = exit.OOMKilled
	c.State.Error = exit.Error
	c.State.Pid, c.State.MonitorPid = 0, 0
	c.State.FinishedAt = exit.FinishedAt
	if c.State.FinishedAt.IsZero() {
		c.State.FinishedAt = time.Now().UTC()
	}
	c.monitor = nil
	s.cleanupRun(c)
	trace.Mark("exit: run cleaned up")
	c.attached.Finish()
	c.attached = monitors.Clients{}
	c.started = make(chan struct{})
	s.stopHealth(c)
	s.scheduleRestart(c, exit.ExitCode)
	autoRemove := c.HostConfig.AutoRemove && !c.restartingByUser // `restart` keeps an --rm container
	if !autoRemove {
		// an --rm container's record goes next; should berthd die first,
		// the record still says running and the exit file is there, so
		// the restart handles this exit again, removal included
		_ = s.save(c)
		trace.Mark("exit: state saved")
	}
	c.recordExit()
	c.notify()
	c.mu.Unlock()
	attrs := map[string]string{"exitCode": fmt.Sprint(exit.ExitCode)}
	if exit.OOMKilled {
		s.publish(c, "oom", nil)
	}
	s.publish(c, "die", attrs)
	if autoRemove {
		trace.Mark("exit: auto-remove")
		if err := s.Remove(c.ID, RemoveOptions{Force: true, RemoveVolumes: true, Auto: true}); err != nil && !errdefs.IsNotFound(err) {
			fmt.Fprintf(os.Stderr, "berthd: auto-remove %s: %v\n", c.ID, err)
			c.mu.Lock()
			_ = s.save(c) // it stays, exited
			c.mu.Unlock()
		}
		trace.Mark("exit: removed")
	}
}

// cleanupRun releases what a run holds on the host: the rootfs mount, the
// runtime's state and the run directory. Callers hold c.mu.
func (s *Service) cleanupRun(c *Container) {
	s.net.Teardown(c.net())
	releaseShm(c)
	if c.releaseMounts != nil {
		c.releaseMounts()
		c.releaseMounts = nil
	}
	if err := overlay.Unmount(c.rootfs()); err != nil {
		fmt.Fprintf(os.Stderr, "berthd: %v\n", err)
	}
	if err := removeRunDir(c.runDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "berthd: %v\n", err)
	}
}

// removeRunDir removes a run directory. One holding a pinned network
// namespace is renamed away and removed in the background: unmounting the
// namespace waits for an RCU grace period (half a millisecond of every
// `run --rm`'s exit here), and a restart makes a new directory at once.
// The start-up sweep removes what a crash leaves (no record names it).
func removeRunDir(dir string) error {
	ns := filepath.Join(dir, "netns")
	if _, err := os.Lstat(ns); err != nil {
		return os.RemoveAll(dir)
	}
	if !strings.Contains(filepath.Base(dir), ".gone-") {
		gone := dir + ".gone-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		if os.Rename(dir, gone) == nil {
			go func() {
				_ = netns.Remove(filepath.Join(gone, "netns"))
				_ = os.RemoveAll(gone)
			}()
			return nil
		}
	}
	if err := netns.Remove(ns); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// publishVolumes sends a volume event per volume c mounts (dockerd's
// mount and unmount: the actor is the volume, its attributes the container
// and, for mount, where and how).
func (s *Service) publishVolumes(c *Container, action eventtypes.Action) {
	for _, m := range c.Mounts {
		if m.Type != mount.TypeVolume || m.Name == "" {
			continue
		}
		attrs := map[string]string{"container": c.ID, "driver": "local"}
		if action == "mount" {
			attrs["destination"] = m.Destination
			attrs["read/write"] = strconv.FormatBool(m.RW)
			attrs["propagation"] = string(m.Propagation)
		}
		s.events.Publish(eventtypes.VolumeEventType, action, m.Name, attrs)
	}
}
