package monitors

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/berth-project/berth/runtime/monitor"
	"github.com/berth-project/berth/service/containers/runconfig"
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
)

// Options are what a container's monitor is started with.
type Options struct {
	Path        string // the berth-monitor binary
	ID          string
	Bundle      string
	Runtime     string // the runtime's name
	RuntimeRoot string
	ExitFile    string // where the monitor writes the exit
	Socket      string // where it listens for clients
	Cgroup      string
	LogConfig   container.LogConfig
	LogPath     string // where it writes the log
	MonitorLog  string // where its own output goes
	Tty, Stdin  bool
	// NoSyncExit is an --rm container's: its exit only matters to this
	// boot's waiters.
	NoSyncExit bool
}

// Spawn starts berth-monitor with a socketpair as its first client, so
// no output can be missed between start and attach. It returns the
// daemon's end and the monitor's pid.
func Spawn(o Options) (net.Conn, int, error) {
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
		"--id", o.ID, "--bundle", o.Bundle, "--runtime", o.Runtime, "--runtime-root", o.RuntimeRoot,
		"--exit-file", o.ExitFile, "--socket", o.Socket, "--cgroup", o.Cgroup,
	}
	if lc := o.LogConfig; lc.Type != "none" {
		lo, err := runconfig.ParseLogOptions(lc)
		if err != nil {
			conn.Close()
			return nil, 0, err
		}
		if err := os.MkdirAll(filepath.Dir(o.LogPath), 0o700); err != nil {
			conn.Close()
			return nil, 0, err
		}
		args = append(args, "--log", o.LogPath, "--log-format", lc.Type)
		if lo.MaxSize > 0 {
			args = append(args, "--log-max-size", strconv.FormatInt(lo.MaxSize, 10), "--log-max-file", strconv.Itoa(lo.MaxFile))
		}
		if lo.Compress {
			args = append(args, "--log-compress")
		}
	}
	if o.Tty {
		args = append(args, "--tty")
	}
	if o.NoSyncExit {
		args = append(args, "--exit-nosync")
	}
	if o.Stdin {
		args = append(args, "--stdin")
	}
	logf, err := os.OpenFile(o.MonitorLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		conn.Close()
		return nil, 0, err
	}
	defer logf.Close()
	cmd := exec.Command(o.Path, args...)
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

// AwaitStart reads a new monitor's frames until container id started
// (its StartInfo) or failed to (the Failure), passing the output that
// can precede the Started frame to out: the process runs as soon as the
// runtime starts it. conn is closed unless the container started.
func AwaitStart(conn net.Conn, id string, out func(typ byte, p []byte)) (*monitor.StartInfo, *monitor.Failure, error) {
	var typ byte
	var payload []byte
	var err error
	for {
		typ, payload, err = monitor.ReadFrame(conn)
		if err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("container %s: monitor ended before the container started: %w", id, err)
		}
		if typ != monitor.Stdout && typ != monitor.Stderr {
			break
		}
		out(typ, payload)
	}
	switch typ {
	case monitor.Failed:
		conn.Close()
		var f monitor.Failure
		_ = json.Unmarshal(payload, &f)
		return nil, &f, nil
	case monitor.Started:
		var info monitor.StartInfo
		if err := json.Unmarshal(payload, &info); err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("container %s: bad Started frame: %w", id, err)
		}
		return &info, nil, nil
	}
	conn.Close()
	return nil, nil, fmt.Errorf("container %s: unexpected monitor frame %d", id, typ)
}

// Dial connects to the monitor listening at socket and reads its first
// frame: Started while the container runs, Exited once it ended.
func Dial(socket string) (net.Conn, byte, []byte, error) {
	conn, err := net.DialTimeout("unix", socket, 2*time.Second)
	if err != nil {
		return nil, 0, nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, payload, err := monitor.ReadFrame(conn)
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil {
		conn.Close()
		return nil, 0, nil, err
	}
	return conn, typ, payload, nil
}

// Lost is the exit of a container whose monitor ended without a word:
// the one it wrote to exitFile, or Docker's 255 if there is none.
func Lost(exitFile string) monitor.Exit {
	exit, err := monitor.ReadExitFile(exitFile)
	if err != nil {
		exit = monitor.Exit{ExitCode: 255, FinishedAt: time.Now().UTC(), Error: "container monitor exited unexpectedly"}
	}
	return exit
}
