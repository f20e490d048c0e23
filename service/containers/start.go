package containers

import (
	"encoding/json"
	"errors"
	"fmt"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-project/berth/core/runtime"
	"github.com/berth-project/berth/internal/trace"
	"github.com/berth-project/berth/network/netns"
	"github.com/berth-project/berth/runtime/monitor"
	"github.com/berth-project/berth/runtime/oci"
	"github.com/berth-project/berth/service/containers/runconfig"
	"github.com/berth-project/berth/store/metadata"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
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
	cgroupsMade, removeCgroups := s.cgroupsAhead(c)
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
	nsPath, err := s.setupNetwork(c)
	if err != nil {
		return err
	}
	trace.Mark("start: network set up")
	shared, err := s.shareNamespaces(c)
	if err != nil {
		return err
	}
	cfg, err := s.withLinkEnv(c) // the legacy links' variables (links.go)
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
	var typ byte
	var payload []byte
	for {
		typ, payload, err = monitor.ReadFrame(conn)
		if err != nil {
			conn.Close()
			return unsaved(fmt.Errorf("container %s: monitor ended before the container started: %w", c.ID, err))
		}
		if typ != monitor.Stdout && typ != monitor.Stderr {
			break
		}
		// Output can precede the Started frame: the process runs as soon
		// as the runtime starts it.
		for a := range c.attached {
			a.write(typ, payload)
		}
	}
	if typ != monitor.Failed && typ != monitor.Started {
		conn.Close()
		return unsaved(fmt.Errorf("container %s: unexpected monitor frame %d", c.ID, typ))
	}
	saveErr := <-saved // before any other save of c
	if typ == monitor.Failed {
		conn.Close()
		var f monitor.Failure
		_ = json.Unmarshal(payload, &f)
		return s.startFailed(c, f.Message, nil)
	}
	var info monitor.StartInfo
	if err := json.Unmarshal(payload, &info); err != nil {
		conn.Close()
		return errors.Join(fmt.Errorf("container %s: bad Started frame: %w", c.ID, err), s.save(c))
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

// cgroupsAhead starts making c's cgroups when its runtime can (the native
// one). made waits until that is done and says whether it was tried;
// remove removes them.
func (s *Service) cgroupsAhead(c *Container) (made func() bool, remove func()) {
	cm, ok := s.runtimeOf(c).(runtime.CgroupMaker)
	if !ok {
		return func() bool { return false }, func() {}
	}
	path := s.cgroupPath(c)
	done := make(chan struct{})
	// an error leaves the making to the monitor, which reports it in
	// Docker's words; what was made is removed like the rest
	go func() { _ = cm.MakeCgroups(path); close(done) }()
	made = func() bool { <-done; return true }
	return made, func() { _ = cm.RemoveCgroups(path) }
}

func (s *Service) cgroupPath(c *Container) string {
	parent := s.cfg.CgroupParent
	if c.HostConfig.CgroupParent != "" {
		parent = c.HostConfig.CgroupParent
	}
	return filepath.Join("/", parent, c.ID)
}

// spawnMonitor starts berth-monitor for c with a socketpair as its first
// client, so no output can be missed between start and attach.
func (s *Service) spawnMonitor(c *Container) (net.Conn, int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, 0, err
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "daemon"), os.NewFile(uintptr(fds[1]), "monitor")
	defer theirs.Close()
	conn, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		return nil, 0, err
	}
	args := []string{
		"--id", c.ID, "--bundle", c.bundle(), "--runtime", s.runtimeOf(c).Name(), "--runtime-root", s.cfg.RuntimeRoot,
		"--exit-file", c.exitPath(), "--socket", c.socketPath(), "--cgroup", s.cgroupPath(c),
	}
	if lc := c.HostConfig.LogConfig; lc.Type != "none" {
		lo, err := runconfig.ParseLogOptions(lc)
		if err != nil {
			conn.Close()
			return nil, 0, err
		}
		if err := os.MkdirAll(filepath.Dir(c.logPath()), 0o700); err != nil {
			conn.Close()
			return nil, 0, err
		}
		args = append(args, "--log", c.logPath(), "--log-format", lc.Type)
		if lo.MaxSize > 0 {
			args = append(args, "--log-max-size", strconv.FormatInt(lo.MaxSize, 10), "--log-max-file", strconv.Itoa(lo.MaxFile))
		}
		if lo.Compress {
			args = append(args, "--log-compress")
		}
	}
	if c.Config.Tty {
		args = append(args, "--tty")
	}
	if c.HostConfig.AutoRemove { // its exit only matters to this boot's waiters
		args = append(args, "--exit-nosync")
	}
	if c.Config.OpenStdin {
		args = append(args, "--stdin")
	}
	logf, err := os.OpenFile(filepath.Join(c.runDir, "monitor.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		conn.Close()
		return nil, 0, err
	}
	defer logf.Close()
	cmd := exec.Command(s.cfg.MonitorPath, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, 0, fmt.Errorf("start monitor: %w", err)
	}
	go cmd.Wait() // reap it if it ends while we live; after a restart init does
	return conn, cmd.Process.Pid, nil
}

// pump forwards a monitor's frames until the container exits.
func (s *Service) pump(c *Container, conn net.Conn) {
	defer conn.Close()
	for {
		typ, payload, err := monitor.ReadFrame(conn)
		if err != nil {
			// The monitor died without reporting: use its exit file if any.
			exit, ferr := monitor.ReadExitFile(c.exitPath())
			if ferr != nil {
				exit = monitor.Exit{ExitCode: 255, FinishedAt: time.Now().UTC(), Error: "container monitor exited unexpectedly"}
			}
			s.handleExit(c, exit)
			return
		}
		switch typ {
		case monitor.Stdout, monitor.Stderr:
			c.mu.Lock()
			for a := range c.attached {
				a.write(typ, payload)
			}
			c.mu.Unlock()
		case monitor.Exited:
			trace.Mark("exit: exited frame read")
			var exit monitor.Exit
			_ = json.Unmarshal(payload, &exit)
			s.handleExit(c, exit)
			return
		}
	}
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
	for a := range c.attached {
		a.finish()
	}
	c.attached = map[*attacher]struct{}{}
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
	s.teardownNetwork(c)
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
