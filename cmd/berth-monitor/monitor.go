package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/runtime/monitor"
	"github.com/berth-project/berth/runtime/runc"
	"golang.org/x/sys/unix"
)

type monitorState struct {
	o       options
	ln      *net.UnixListener
	log     *jsonLog
	stdinW  *os.File // container stdin (pipe write end or pty master)
	console *os.File

	mu      sync.Mutex
	clients map[net.Conn]bool
	started *monitor.StartInfo
}

func newMonitor(o options) (*monitorState, error) {
	m := &monitorState{o: o, clients: map[net.Conn]bool{}}
	_ = os.Remove(o.socket)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: o.socket, Net: "unix"})
	if err != nil {
		return nil, err
	}
	m.ln = ln
	if o.logPath != "" {
		f, err := os.OpenFile(o.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return nil, err
		}
		m.log = &jsonLog{f: f}
	}
	// fd 3, if present, is the daemon's first connection.
	if f := os.NewFile(3, "daemon"); f != nil {
		if c, err := net.FileConn(f); err == nil {
			f.Close()
			m.addClient(c)
		}
	}
	return m, nil
}

func (m *monitorState) addClient(c net.Conn) {
	m.mu.Lock()
	m.clients[c] = true
	started := m.started
	m.mu.Unlock()
	if started != nil {
		m.sendTo(c, monitor.Started, started)
	}
	go m.readClient(c)
}

func (m *monitorState) sendTo(c net.Conn, typ byte, v any) {
	b, _ := json.Marshal(v)
	m.mu.Lock()
	defer m.mu.Unlock()
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if monitor.WriteFrame(c, typ, b) != nil {
		c.Close()
		delete(m.clients, c)
	}
}

// broadcast sends a frame to every client; a client that cannot keep up is
// dropped rather than allowed to stall the container.
func (m *monitorState) broadcast(typ byte, payload []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for c := range m.clients {
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if monitor.WriteFrame(c, typ, payload) != nil {
			c.Close()
			delete(m.clients, c)
		}
	}
}

func (m *monitorState) readClient(c net.Conn) {
	defer func() {
		m.mu.Lock()
		delete(m.clients, c)
		m.mu.Unlock()
		c.Close()
	}()
	for {
		typ, p, err := monitor.ReadFrame(c)
		if err != nil {
			return
		}
		switch typ {
		case monitor.Stdin:
			if m.stdinW != nil {
				_, _ = m.stdinW.Write(p)
			}
		case monitor.CloseStdin:
			if m.stdinW != nil && m.console == nil {
				m.stdinW.Close()
				m.stdinW = nil
			} else if m.console != nil {
				_, _ = m.console.Write([]byte{4}) // EOF on a terminal is ^D
			}
		case monitor.Resize:
			var ws monitor.WindowSize
			if json.Unmarshal(p, &ws) == nil && m.console != nil {
				_ = unix.IoctlSetWinsize(int(m.console.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Height, Col: ws.Width})
			}
		}
	}
}

func (m *monitorState) accept() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			return
		}
		m.addClient(c)
	}
}

func (m *monitorState) runtime(args ...string) *exec.Cmd {
	rt := runc.Runtime{Binary: m.o.runtime, Root: m.o.runtimeRoot}
	return rt.Command(filepath.Join(m.o.bundle, "runtime.log"), args...)
}

// runtimeError extracts the last error the runtime logged.
func (m *monitorState) runtimeError(fallback error) string {
	if msg := runc.LastError(filepath.Join(m.o.bundle, "runtime.log")); msg != "" {
		return msg
	}
	return fallback.Error()
}

func (m *monitorState) run() int {
	go m.accept()
	defer os.Remove(m.o.socket)
	stdio, err := m.setupIO()
	if err != nil {
		return m.fail(err.Error())
	}
	pidFile := filepath.Join(m.o.bundle, "init.pid")
	args := []string{"create", "--bundle", m.o.bundle, "--pid-file", pidFile}
	if cs := stdio.consoleSocket(); cs != "" {
		args = append(args, "--console-socket", cs)
	}
	cmd := m.runtime(append(args, m.o.id)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.in, stdio.out, stdio.err
	createErr := cmd.Run()
	stdio.closeChildEnds()
	if createErr != nil {
		_ = m.runtime("delete", "--force", m.o.id).Run()
		return m.fail(m.runtimeError(createErr))
	}
	if err := stdio.receiveConsole(m); err != nil {
		_ = m.runtime("delete", "--force", m.o.id).Run()
		return m.fail(err.Error())
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return m.fail(err.Error())
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	copied := m.startCopy(stdio)
	startedAt := time.Now().UTC()
	if err := m.runtime("start", m.o.id).Run(); err != nil {
		_ = m.runtime("delete", "--force", m.o.id).Run()
		return m.fail(m.runtimeError(err))
	}
	info := &monitor.StartInfo{Pid: pid}
	m.mu.Lock()
	m.started = info
	m.mu.Unlock()
	b, _ = json.Marshal(info)
	m.broadcast(monitor.Started, b)

	code := waitExit(pid)
	copied.Wait()
	exit := monitor.Exit{Pid: pid, ExitCode: code, StartedAt: startedAt, FinishedAt: time.Now().UTC(), OOMKilled: oomKilled(m.o.cgroupPath)}
	if m.log != nil {
		m.log.f.Sync()
	}
	if err := monitor.WriteExitFile(m.o.exitPath, exit); err != nil {
		fmt.Fprintln(os.Stderr, "berth-monitor: record exit:", err)
	}
	_ = m.runtime("delete", "--force", m.o.id).Run()
	b, _ = json.Marshal(exit)
	m.broadcast(monitor.Exited, b)
	m.closeClients()
	return 0
}

func (m *monitorState) fail(msg string) int {
	b, _ := json.Marshal(monitor.Failure{Message: msg})
	m.broadcast(monitor.Failed, b)
	_ = monitor.WriteExitFile(m.o.exitPath, monitor.Exit{ExitCode: 128, FinishedAt: time.Now().UTC(), Error: msg})
	m.closeClients()
	return 1
}

func (m *monitorState) closeClients() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for c := range m.clients {
		if uc, ok := c.(*net.UnixConn); ok {
			_ = uc.CloseWrite()
		}
	}
}

// waitExit reaps the container's init (our child once the runtime exits,
// since we are a subreaper) and returns Docker's exit code.
func waitExit(pid int) int {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 255
		}
		if wpid != pid {
			continue // an orphan reparented to us
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

// oomKilled reports whether the kernel OOM-killed a process in the cgroup.
func oomKilled(cgroupPath string) bool {
	if cgroupPath == "" {
		return false
	}
	for _, f := range []string{
		filepath.Join("/sys/fs/cgroup/memory", cgroupPath, "memory.oom_control"),
		filepath.Join("/sys/fs/cgroup", cgroupPath, "memory.events"),
	} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, " "); ok && k == "oom_kill" && v != "0" {
				return true
			}
		}
	}
	return false
}
