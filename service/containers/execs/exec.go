package execs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/core/runtime"
	"github.com/berth-project/berth/internal/ids"
	"github.com/berth-project/berth/internal/trace"
	"github.com/berth-project/berth/runtime/oci"
	"github.com/berth-project/berth/runtime/runc"
	"github.com/berth-project/berth/service/containers"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/term"
	"golang.org/x/sys/unix"
)

// errDetached tells ExecStart that a detached exec is still running.
var errDetached = errors.New("exec detached")

// defaultDetachKeys is ctrl-p ctrl-q.
var defaultDetachKeys = []byte{16, 17}

// execProcess is one `exec` in a container.
type execProcess struct {
	mu          sync.Mutex
	id          string
	containerID string
	cfg         container.ExecCreateRequest
	running     bool
	started     bool
	exitCode    *int
	pid         int
	console     *os.File
}

// ExecCreate registers a command to run in a running container.
func (s *Service) ExecCreate(ref string, req container.ExecCreateRequest) (string, error) {
	if _, err := s.containers.Get(ref); err != nil {
		return "", err
	}
	if len(req.Cmd) == 0 {
		return "", fmt.Errorf("No exec command specified: %w", errdefs.ErrInvalidArgument)
	}
	if req.DetachKeys != "" {
		if _, err := term.ToBytes(req.DetachKeys); err != nil {
			return "", fmt.Errorf("Invalid escape keys (%s) provided: %w", req.DetachKeys, errdefs.ErrInvalidArgument)
		}
	}
	t, err := s.containers.ExecTarget(ref, true)
	if err != nil {
		return "", err
	}
	// the user is looked up before the exec exists (dockerd's early exit)
	if req.User != "" {
		if err := oci.CheckUser(t.Rootfs, req.User); err != nil {
			return "", err
		}
	}
	e := &execProcess{id: ids.New(), containerID: t.ID, cfg: req}
	s.mu.Lock()
	s.execs[e.id] = e
	if s.byContainer[t.ID] == nil {
		s.byContainer[t.ID] = map[string]bool{}
	}
	s.byContainer[t.ID][e.id] = true
	s.mu.Unlock()
	t.Publish(execAction("exec_create", req.Cmd), map[string]string{"execID": e.id})
	return e.id, nil
}

// execAction is an exec event's action as dockerd writes it: the name,
// then the program and its arguments, a space between them even when
// there are none ("exec_start: true ").
func execAction(name string, cmd []string) eventtypes.Action {
	if len(cmd) == 0 {
		return eventtypes.Action(name + ":  ")
	}
	return eventtypes.Action(name + ": " + cmd[0] + " " + strings.Join(cmd[1:], " "))
}

// ExecIDs lists the execs created in a container.
func (s *Service) ExecIDs(containerID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byContainer[containerID]) == 0 {
		return nil
	}
	out := make([]string, 0, len(s.byContainer[containerID]))
	for id := range s.byContainer[containerID] {
		out = append(out, id)
	}
	return out
}

func (s *Service) getExec(id string) (*execProcess, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[id]
	if !ok {
		return nil, fmt.Errorf("No such exec instance: %s: %w", id, errdefs.ErrNotFound)
	}
	return e, nil
}

// StartOptions are the streams of an exec.
type StartOptions struct {
	Detach         bool
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	ConsoleSize    *[2]uint
	// Kill, when closed, kills the exec's process (healthcheck timeouts).
	Kill <-chan struct{}
	// DetachKeys end a terminal session, leaving the process running; nil
	// means the exec's own (create-time) keys, or ctrl-p ctrl-q.
	DetachKeys []byte
}

// detachableWriter writes to w until the client detaches or goes away,
// then discards, so a terminal whose client left is still drained.
type detachableWriter struct {
	mu sync.Mutex
	w  io.Writer // nil: discard
}

func (d *detachableWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w != nil {
		if _, err := d.w.Write(p); err != nil {
			d.w = nil
		}
	}
	return len(p), nil
}

func (d *detachableWriter) detach() {
	d.mu.Lock()
	d.w = nil
	d.mu.Unlock()
}

// ExecStart runs the exec and, unless detached, waits for it.
func (s *Service) ExecStart(ctx context.Context, execID string, o StartOptions) error {
	e, err := s.getExec(execID)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if e.started {
		e.mu.Unlock()
		return fmt.Errorf("exec instance %s has already been started: %w", execID, errdefs.ErrConflict)
	}
	e.started, e.running = true, true
	e.mu.Unlock()
	t, err := s.containers.ExecTarget(e.containerID, false)
	if err != nil {
		return err
	}
	size := o.ConsoleSize
	if size == nil {
		size = e.cfg.ConsoleSize
	}
	if o.DetachKeys == nil {
		o.DetachKeys = defaultDetachKeys
		if e.cfg.DetachKeys != "" {
			o.DetachKeys, _ = term.ToBytes(e.cfg.DetachKeys) // checked at create
		}
	}
	code, err := s.run(t, e, size, o)
	if errors.Is(err, errDetached) {
		return nil
	}
	e.mu.Lock()
	e.running, e.exitCode, e.console = false, &code, nil
	e.mu.Unlock()
	t.Publish("exec_die", map[string]string{"execID": e.id, "exitCode": fmt.Sprint(code)})
	return err
}

// Probe runs a healthcheck's command as an exec of user (one that is not
// registered: inspect does not list it).
func (s *Service) Probe(t *containers.ExecTarget, cmd []string, user string, out io.Writer, kill <-chan struct{}) (int, error) {
	e := &execProcess{id: ids.New(), containerID: t.ID, cfg: container.ExecCreateRequest{
		Cmd: cmd, AttachStdout: true, AttachStderr: true, User: user,
	}}
	return s.run(t, e, nil, StartOptions{Stdout: out, Stderr: out, Kill: kill})
}

// run runs e in t with the runtime's exec and returns its exit code.
func (s *Service) run(t *containers.ExecTarget, e *execProcess, size *[2]uint, o StartOptions) (int, error) {
	trace.Mark("exec: begin")
	base, bundle := t.Spec, t.Bundle
	proc, err := oci.ExecProcess(base, t.Rootfs, oci.ExecConfig{
		Cmd: e.cfg.Cmd, Env: e.cfg.Env, User: e.cfg.User, GroupAdd: t.GroupAdd,
		WorkingDir: e.cfg.WorkingDir, Tty: e.cfg.Tty, Privileged: e.cfg.Privileged, ConsoleSize: size,
	})
	if err != nil {
		return 126, err
	}
	procFile := filepath.Join(bundle, "exec-"+e.id+".json")
	logFile := filepath.Join(bundle, "exec-"+e.id+".log")
	pidFile := filepath.Join(bundle, "exec-"+e.id+".pid")
	defer os.Remove(procFile)
	defer os.Remove(logFile)
	defer os.Remove(pidFile)
	req := runtime.ExecRequest{
		ID: t.ID, Pid: t.Pid, Spec: base, Process: proc,
		ProcessFile: procFile, PidFile: pidFile, LogFile: logFile,
		// a terminal's master is handed over only by a detached exec
		// (runc's rule); berthd is a child subreaper, so the detached
		// process is reparented to it and reaped below.
		Detach: o.Detach || e.cfg.Tty,
	}
	var cs *runc.ConsoleSocket
	if e.cfg.Tty {
		if cs, err = runc.NewConsoleSocket(filepath.Join(bundle, "exec-"+ids.Short(e.id)+".sock")); err != nil {
			return 126, err
		}
		defer cs.Close()
		req.ConsoleSocket = cs.Path
	}
	trace.Mark("exec: process spec made")
	cmd, err := t.Runtime.Exec(req)
	if err != nil {
		return 126, err
	}
	trace.Mark("exec: runtime prepared (plan)")
	var stdinW *os.File
	if !e.cfg.Tty {
		if e.cfg.AttachStdin && o.Stdin != nil && !o.Detach {
			r, w, err := os.Pipe()
			if err != nil {
				return 126, err
			}
			defer r.Close()
			cmd.Stdin, stdinW = r, w
		}
		if !o.Detach {
			cmd.Stdout, cmd.Stderr = orDiscard(o.Stdout, e.cfg.AttachStdout), orDiscard(o.Stderr, e.cfg.AttachStderr)
		}
	}
	if err := cmd.Start(); err != nil {
		return 126, fmt.Errorf("exec: %w", err)
	}
	trace.Mark("exec: monitor started")
	t.Publish(execAction("exec_start", e.cfg.Cmd), map[string]string{"execID": e.id})
	if o.Kill != nil {
		waited := make(chan struct{})
		defer close(waited)
		go func() {
			select {
			case <-o.Kill:
				// the runtime writes the pid file before the process runs
				for i := 0; i < 100; i++ {
					if b, err := os.ReadFile(pidFile); err == nil {
						var pid int
						if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 {
							_ = unix.Kill(pid, unix.SIGKILL)
							return
						}
					}
					select {
					case <-waited:
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			case <-waited:
			}
		}()
	}
	var copyDone chan struct{}
	var out *detachableWriter
	detached := make(chan struct{})
	var console *os.File
	if e.cfg.Tty {
		if console, err = cs.Receive(); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return 126, fmt.Errorf("exec terminal: %w", err)
		}
		e.mu.Lock()
		e.console = console
		e.mu.Unlock()
		if !o.Detach {
			copyDone = make(chan struct{})
			out = &detachableWriter{w: o.Stdout}
			go func() {
				defer close(copyDone)
				_, _ = io.Copy(out, console)
			}()
			if o.Stdin != nil && e.cfg.AttachStdin {
				// the detach keys end the client's session, not the process
				in := term.NewEscapeProxy(o.Stdin, o.DetachKeys)
				go func() {
					_, err := io.Copy(console, in)
					var esc term.EscapeError
					if errors.As(err, &esc) {
						out.detach()
						close(detached)
					}
				}()
			}
		}
	}
	closeConsole := func() {
		if console != nil {
			e.mu.Lock()
			e.console = nil
			e.mu.Unlock()
			console.Close()
		}
	}
	if stdinW != nil {
		go func() {
			_, _ = io.Copy(stdinW, o.Stdin)
			stdinW.Close()
		}()
	}
	err = cmd.Wait()
	trace.Mark("exec: monitor waited for")
	if b, rerr := os.ReadFile(pidFile); rerr == nil {
		fmt.Sscan(string(b), &e.pid)
	}
	if (o.Detach || e.cfg.Tty) && err == nil && e.pid > 0 {
		if o.Detach {
			// The process was reparented to berthd: reap it and record
			// its exit when it ends.
			if console != nil {
				go func() { _, _ = io.Copy(io.Discard, console) }()
			}
			go func(pid int) {
				code := reap(pid)
				closeConsole()
				e.mu.Lock()
				e.running, e.exitCode = false, &code
				e.mu.Unlock()
				t.Publish("exec_die", map[string]string{"execID": e.id, "exitCode": fmt.Sprint(code)})
			}(e.pid)
			return 0, errDetached
		}
		reaped := make(chan int, 1)
		go func(pid int) { reaped <- reap(pid) }(e.pid)
		select {
		case code := <-reaped:
			<-copyDone
			closeConsole()
			return code, nil
		case <-detached:
			// the process goes on; its terminal is drained until it ends
			go func() {
				code := <-reaped
				<-copyDone
				closeConsole()
				e.mu.Lock()
				e.running, e.exitCode = false, &code
				e.mu.Unlock()
				t.Publish("exec_die", map[string]string{"execID": e.id, "exitCode": fmt.Sprint(code)})
			}()
			t.Publish("exec_detach", map[string]string{"execID": e.id})
			return 0, errDetached
		}
	}
	defer closeConsole()
	if stdinW != nil {
		stdinW.Close()
	}
	if copyDone != nil {
		<-copyDone
	}
	if msg := runc.LastError(logFile); msg != "" {
		code := 126
		if strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory") {
			code = 127
		}
		if o.Stderr != nil {
			fmt.Fprintf(o.Stderr, "OCI runtime exec failed: %s: unknown\r\n", msg)
		}
		return code, nil
	}
	if err != nil {
		if cmd.ProcessState != nil {
			return cmd.ProcessState.ExitCode(), nil
		}
		return 126, err
	}
	return 0, nil
}

func orDiscard(w io.Writer, want bool) io.Writer {
	if w == nil || !want {
		return io.Discard
	}
	return w
}

// ExecInspect describes an exec.
func (s *Service) ExecInspect(execID string) (*container.ExecInspectResponse, error) {
	e, err := s.getExec(execID)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	priv := e.cfg.Privileged
	return &container.ExecInspectResponse{
		ID: e.id, Running: e.running, ExitCode: e.exitCode, ContainerID: e.containerID,
		OpenStdin: e.cfg.AttachStdin, OpenStdout: e.cfg.AttachStdout, OpenStderr: e.cfg.AttachStderr,
		Pid: e.pid, CanRemove: !e.running && e.started,
		ProcessConfig: &container.ExecProcessConfig{Tty: e.cfg.Tty, Entrypoint: e.cfg.Cmd[0], Arguments: e.cfg.Cmd[1:], Privileged: &priv, User: e.cfg.User},
	}, nil
}

// ExecResize sets an exec terminal's size.
func (s *Service) ExecResize(execID string, height, width uint16) error {
	e, err := s.getExec(execID)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.console == nil {
		return fmt.Errorf("exec %s has no terminal: %w", execID, errdefs.ErrConflict)
	}
	return unix.IoctlSetWinsize(int(e.console.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: height, Col: width})
}

// reap waits for a process reparented to berthd and returns Docker's exit code.
func reap(pid int) int {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 255
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}
