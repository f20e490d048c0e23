package integration

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// runInPty drives a CLI through a real terminal: it types input and returns
// everything printed until the command exits.
func (d *daemon) runInPty(t *testing.T, bin string, input string, args ...string) (string, int) {
	t.Helper()
	return d.runInPtyAfter(t, "# ", bin, input, args...)
}

// runInPtyAfter types input once prompt is seen; with prompt "" it waits a
// second instead (attach shows nothing until a key is pressed).
func (d *daemon) runInPtyAfter(t *testing.T, prompt, bin string, input string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+d.sock, "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	seen := func(s string) bool { mu.Lock(); defer mu.Unlock(); return strings.Contains(out.String(), s) }
	if prompt == "" {
		time.Sleep(time.Second)
	}
	for i := 0; prompt != "" && !seen(prompt); i++ { // the shell's prompt
		if i == 400 {
			mu.Lock()
			t.Fatalf("no prompt from %v; output:\n%q", args, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// a NUL in input is a pause: the program catches up before the rest
	for i, part := range strings.Split(input, "\x00") {
		if i > 0 {
			time.Sleep(500 * time.Millisecond)
		}
		_, _ = io.WriteString(f, part)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("%v did not exit; output:\n%s", args, out.String())
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	return out.String(), cmd.ProcessState.ExitCode()
}

func TestInteractiveTTY(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	out, code := d.runInPty(t, binDir+"/berth", "stty size; echo h''i; exit 5\r", "run", "-it", "--rm", "busybox", "sh")
	if code != 5 || !strings.Contains(out, "hi") || !strings.Contains(out, "30 100") {
		t.Fatalf("run -it: exit %d, output:\n%q", code, out)
	}
	id := must(t, d.berth("run", "-d", "busybox", "sleep", "1000"))
	out, code = d.runInPty(t, binDir+"/berth", "tty; exit 3\r", "exec", "-it", id, "sh")
	if code != 3 || !strings.Contains(out, "/dev/pts/") {
		t.Fatalf("exec -it: exit %d, output:\n%q", code, out)
	}
	if _, err := exec.LookPath("docker"); err == nil {
		out, code = d.runInPty(t, "docker", "echo d''ocker; exit\r", "run", "-it", "--rm", "busybox", "sh")
		if code != 0 || !strings.Contains(out, "docker") {
			t.Fatalf("docker run -it: exit %d, output:\n%q", code, out)
		}
	}
}
