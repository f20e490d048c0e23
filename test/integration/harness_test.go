package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/network/firewall"
)

// binDir holds berthd, berth, berth-monitor, berth-seccomp and berth-init (make build).
var binDir = os.Getenv("BERTH_BIN")

// daemon is one berthd on its own data root, exec root and socket.
type daemon struct {
	t                        *testing.T
	root, dataRoot, execRoot string
	sock                     string
	cmd                      *exec.Cmd
	logf                     *os.File
	bridge                   string // the default bridge's interface
}

func requireEnv(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("integration tests run real containers and need root")
	}
	if binDir == "" {
		t.Skip("set BERTH_BIN to the directory with berthd and berth (make test does)")
	}
}

// startDaemon starts a berthd that is killed and cleaned up with the test.
func startDaemon(t *testing.T) *daemon { return startDaemonWith(t, nil) }

// startDaemonWith starts a berthd whose daemon.json also has conf's keys
// (they win over the per-test defaults).
func startDaemonWith(t *testing.T, conf map[string]any) *daemon {
	requireEnv(t)
	root, err := os.MkdirTemp("", "berth-it-")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, root: root, dataRoot: filepath.Join(root, "data"), execRoot: filepath.Join(root, "exec"), sock: filepath.Join(root, "berth.sock")}
	// BERTH_RUNTIME picks the runtime under test ("native", "runc"; empty: the daemon's default).
	// Each daemon gets its own default bridge interface (its subnet is
	// chosen clear of the others' routes).
	sum := sha256.Sum256([]byte(root))
	d.bridge = "bt" + hex.EncodeToString(sum[:])[:10]
	full := map[string]any{"cgroup-parent": "/" + filepath.Base(root), "default-runtime": os.Getenv("BERTH_RUNTIME"), "bridge": d.bridge}
	for k, v := range conf {
		full[k] = v
	}
	b, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "daemon.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	d.start()
	t.Cleanup(func() {
		for _, id := range strings.Fields(d.berth("ps", "-aq").stdout) {
			d.berth("rm", "-f", id)
		}
		d.berth("network", "prune", "-f") // their bridges and rules go with them
		d.stop(syscall.SIGTERM)
		d.reclaim()
		// net/http recovers a handler's panic and only logs it: a test
		// whose client coped must still fail.
		if b, _ := os.ReadFile(filepath.Join(root, "berthd.log")); bytes.Contains(b, []byte("http: panic serving")) {
			t.Errorf("berthd panicked serving a request:\n%s", b)
		}
		if !t.Failed() {
			os.RemoveAll(root)
		} else {
			t.Logf("daemon root kept at %s", root)
		}
	})
	return d
}

func (d *daemon) start() {
	t := d.t
	logf, err := os.OpenFile(filepath.Join(d.root, "berthd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	d.logf = logf
	d.cmd = exec.Command(filepath.Join(binDir, "berthd"), "-H", "unix://"+d.sock, "--data-root", d.dataRoot,
		"--exec-root", d.execRoot, "--pidfile", filepath.Join(d.root, "berthd.pid"), "--config-file", filepath.Join(d.root, "daemon.json"))
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	// An inherited descriptor, as a shell or service manager may leave:
	// none may reach a container (TestIsolation checks).
	if stray, err := os.Open(os.DevNull); err == nil {
		defer stray.Close()
		d.cmd.ExtraFiles = []*os.File{stray}
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// /_ping answers as soon as berthd listens; any other request waits
	// until it has restored its containers and networks, which the tests
	// take for granted (published ports answer again, and so on)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", d.sock)
		}}}
	for i := 0; i < 200; i++ {
		if resp, err := hc.Get("http://berthd/containers/json?limit=1"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(d.root, "berthd.log"))
	t.Fatalf("berthd did not come up:\n%s", b)
}

func (d *daemon) stop(sig syscall.Signal) {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
	d.logf.Close()
	d.cmd = nil
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

func (d *daemon) cli(bin string, stdin string, args ...string) result {
	return d.run(bin, stdin, nil, args...)
}

// cliEnv runs a CLI with extra environment variables.
func (d *daemon) cliEnv(bin string, env []string, args ...string) result {
	d.t.Helper()
	if _, err := exec.LookPath(bin); err != nil && !strings.Contains(bin, "/") {
		d.t.Skipf("%s not installed", bin)
	}
	return d.run(bin, "", env, args...)
}

func (d *daemon) run(bin string, stdin string, env []string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), "DOCKER_HOST=unix://"+d.sock, "DOCKER_CLI_HINTS=false"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatalf("%s %v: %v", bin, args, err)
	}
	return result{out.String(), errb.String(), code}
}

// berth runs the berth CLI against this daemon.
func (d *daemon) berth(args ...string) result {
	return d.cli(filepath.Join(binDir, "berth"), "", args...)
}

// docker runs the real docker CLI against this daemon.
func (d *daemon) docker(args ...string) result {
	d.t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		d.t.Skip("docker CLI not installed")
	}
	return d.cli("docker", "", args...)
}

// must fails the test unless the command exited 0, and returns stdout trimmed.
func must(t *testing.T, r result) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("command failed: %s", r)
	}
	return strings.TrimSpace(r.stdout)
}

// imagesDir is where scripts/make-images.sh left the test images.
func imagesDir() string {
	if dir := os.Getenv("BERTH_IMAGES"); dir != "" {
		return dir
	}
	return "/var/cache/berth/images"
}

// loadBusybox imports the busybox test image (scripts/make-images.sh).
func (d *daemon) loadBusybox() {
	t := d.t
	t.Helper()
	tarball := filepath.Join(imagesDir(), "busybox.tar")
	if _, err := os.Stat(tarball); err != nil {
		t.Skipf("busybox test image missing (%v): run scripts/make-images.sh %s", err, imagesDir())
	}
	must(t, d.berth("import", "-c", `CMD ["sh"]`, tarball, "busybox:latest"))
}

// waitFor polls cond for up to 20 s (a deadline for progress, not a timing assertion).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 400; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("condition not met within 20s")
}

// reclaim removes whatever a failed test left of this daemon's containers
// (monitors, runtime state, mounts, cgroups), so one failure does not leak
// into the machine or the next test.
func (d *daemon) reclaim() {
	pids := d.monitorPids()
	for i := 0; len(pids) > 0 && i < 100; i++ { // monitors exit just after reporting
		time.Sleep(50 * time.Millisecond)
		pids = d.monitorPids()
	}
	if len(pids) > 0 {
		d.t.Errorf("monitors still running after cleanup: %v", pids)
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
	if ids, err := os.ReadDir(filepath.Join(d.execRoot, "runc")); err == nil {
		for _, id := range ids {
			_ = exec.Command("runc", "--root", filepath.Join(d.execRoot, "runc"), "delete", "--force", id.Name()).Run()
		}
	}
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], d.root) {
			_ = syscall.Unmount(f[4], syscall.MNT_DETACH)
		}
	}
	// the daemon keeps its default bridge and chains (as dockerd keeps
	// docker0); a test machine gets them back
	_ = exec.Command("ip", "link", "del", d.bridge).Run()
	if fw, err := firewall.NewSet(chainSuffix(d.dataRoot), ""); err == nil {
		_ = fw.Teardown()
	}
	parent := filepath.Base(d.root) // runc creates but never removes the cgroup parent
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + parent + "/*")
	more, _ := filepath.Glob("/sys/fs/cgroup/*/" + parent)
	for _, p := range append(append(dirs, more...), "/sys/fs/cgroup/"+parent) {
		_ = os.Remove(p)
	}
}

// chainSuffix is berthd's per-data-root iptables chain suffix (daemon.chainSuffix).
func chainSuffix(dataRoot string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(dataRoot)))
	return hex.EncodeToString(sum[:])[:6]
}

// monitorPids lists berth-monitor processes of this daemon's containers.
func (d *daemon) monitorPids() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), "berth-monitor") && strings.Contains(string(b), d.root) {
			if pid, err := strconv.Atoi(e.Name()); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
