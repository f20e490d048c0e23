package inittest

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var initBin string

// notExecutable is a file without execute permission (TestMain makes it).
var notExecutable string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-init-test")
	if err != nil {
		panic(err)
	}
	initBin = filepath.Join(dir, "berth-init")
	notExecutable = filepath.Join(dir, "data")
	if err := os.WriteFile(notExecutable, []byte("data"), 0o644); err != nil {
		panic(err)
	}
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	build := exec.Command(cc, "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", initBin, "../init.c")
	if out, err := build.CombinedOutput(); err != nil {
		panic("build berth-init: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("run berth-init: %v", err)
	return -1
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"success", []string{"--", "true"}, 0},
		{"exit code", []string{"--", "sh", "-c", "exit 3"}, 3},
		{"without --", []string{"sh", "-c", "exit 4"}, 4},
		{"killed by signal", []string{"--", "sh", "-c", "kill -KILL $$"}, 128 + 9},
		{"not found", []string{"--", "no-such-command-berth"}, 127},
		{"not executable", []string{"--", notExecutable}, 126},
		{"no command", []string{"--"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(t, exec.Command(initBin, tc.args...).Run()); got != tc.want {
				t.Errorf("exit code %d, want %d", got, tc.want)
			}
		})
	}
}

// startInit runs berth-init with a shell script and returns it once the
// script has printed its first line, which is returned too.
func startInit(t *testing.T, script string) (*exec.Cmd, string, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(initBin, "--", "sh", "-c", script)
	stdin, err := cmd.StdinPipe() // the script may read until the test closes it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close() })
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read first line: %v", err)
	}
	return cmd, strings.TrimSpace(line), r
}

func TestSignalForwarding(t *testing.T) {
	tests := []struct {
		name   string
		script string
		sig    syscall.Signal
		want   int
	}{
		{"trapped USR1", `trap "exit 42" USR1; echo ready; while :; do sleep 0.05; done`, syscall.SIGUSR1, 42},
		{"trapped HUP", `trap "exit 7" HUP; echo ready; while :; do sleep 0.05; done`, syscall.SIGHUP, 7},
		{"default TERM", `echo ready; exec sleep 30`, syscall.SIGTERM, 128 + 15},
		{"default INT", `echo ready; exec sleep 30`, syscall.SIGINT, 128 + 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd, _, _ := startInit(t, tc.script)
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if got := exitCode(t, err); got != tc.want {
					t.Errorf("exit code %d, want %d", got, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("berth-init did not exit after the signal")
			}
		})
	}
}

// procState returns the state letter of pid and its parent, or "" if gone.
func procState(pid int) (state string, ppid int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ppid, _ = strconv.Atoi(f[1])
	return f[0], ppid
}

// An orphaned grandchild is reparented to berth-init (a subreaper here, PID 1
// in a container) and must be reaped when it exits, not left a zombie.
func TestReapsOrphans(t *testing.T) {
	cmd, line, r := startInit(t, `sh -c 'sleep 0.3 & echo $!'; read x; echo done`)
	grandchild, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("grandchild pid %q: %v", line, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		state, ppid := procState(grandchild)
		if state == "" {
			break // reaped
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan %d still there in state %s (parent %d, berth-init %d)", grandchild, state, ppid, cmd.Process.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if state, _ := procState(cmd.Process.Pid); state == "" || state == "Z" {
		t.Fatalf("berth-init exited early (state %q)", state)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_, _ = r.ReadString('\n')
}

// As PID 1 of a new PID namespace (root only), the child sees berth-init (1)
// as its parent and the exit code still passes through.
func TestAsPID1(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a PID namespace")
	}
	cmd := exec.Command(initBin, "--", "sh", "-c", `echo $PPID; sh -c 'sleep 0.1 &'; sleep 0.3; exit 5`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	out, err := cmd.Output()
	if got := exitCode(t, err); got != 5 {
		t.Errorf("exit code %d, want 5", got)
	}
	if got := strings.TrimSpace(string(out)); got != "1" {
		t.Errorf("child's parent = %q, want PID 1", got)
	}
}

// One thread: inside a container it takes one pid of a --pids-limit, as
// Docker's tini does.
func TestSingleThreaded(t *testing.T) {
	cmd, _, _ := startInit(t, `echo ready; exec sleep 30`)
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nThreads:\t1\n") {
		t.Fatalf("berth-init is not one thread:\n%s", b)
	}
}
