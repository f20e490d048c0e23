package integration

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/store/metadata"
)

// TestKill9Daemon: containers outlive kill -9 of berthd; after a restart the
// running ones are still running and one that exited meanwhile shows its
// real exit code.
func TestKill9Daemon(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	long := must(t, d.berth("run", "-d", "--name", "long", "busybox", "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"))
	short := must(t, d.berth("run", "-d", "--name", "short", "busybox", "sh", "-c", "sleep 1; exit 42"))
	// an --rm container that ends while no daemon runs is removed by the
	// next start, as dockerd does (the exit handling an auto-remove's
	// record delete in the background relies on)
	must(t, d.berth("run", "-d", "--rm", "--name", "gone", "busybox", "sleep", "1"))
	must(t, d.berth("create", "--name", "created", "busybox", "true"))
	// output that never pauses: the monitor sees the daemon's socket hang
	// up in the same wake-up as it has output to broadcast
	flood := must(t, d.berth("run", "-d", "--name", "flood", "busybox", "sh", "-c", "while :; do echo flood; done"))
	// a crash between a create's commit and its directory (made after the
	// commit) leaves a record without one: its start makes it
	undone := must(t, d.berth("create", "--name", "undone", "busybox", "cat", "/etc/hostname"))
	d.stop(syscall.SIGKILL)
	if err := os.RemoveAll(filepath.Join(d.dataRoot, "containers", undone)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // let "short" exit while no daemon runs
	d.start()
	if out := must(t, d.berth("start", "-a", "undone")); out != undone[:12] {
		t.Fatalf("start of a container whose directory was lost: %q", out)
	}
	if out := must(t, d.berth("inspect", "-f", "{{.State.Status}}", long)); out != "running" {
		t.Fatalf("long-running container after restart: %q", out)
	}
	waitFor(t, func() bool {
		return must(t, d.berth("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", short)) == "exited 42"
	})
	waitFor(t, func() bool { return strings.Contains(d.berth("inspect", "gone").stderr, "No such") })
	if out := must(t, d.berth("inspect", "-f", "{{.State.Status}}", "created")); out != "created" {
		t.Fatalf("created container after restart: %q", out)
	}
	// Logs kept flowing while the daemon was down; exec and stop still work.
	before := strings.Count(d.berth("logs", long).stdout, "tick")
	waitFor(t, func() bool { return strings.Count(d.berth("logs", long).stdout, "tick") > before })
	if out := must(t, d.berth("exec", long, "echo", "alive")); out != "alive" {
		t.Fatalf("exec after restart: %q", out)
	}
	// attach reaches the restored containers' live output
	for _, id := range []string{long, flood} {
		if got := attachRead(t, d, id, 5, 10*time.Second); !strings.Contains(got, "tick") && !strings.Contains(got, "flood") {
			t.Fatalf("attach to %s after restart read %q", id, got)
		}
	}
	must(t, d.berth("rm", "-f", flood))
	must(t, d.berth("stop", "-t", "1", long))
	if out := must(t, d.berth("ps", "-q")); out != "" {
		t.Fatalf("still running: %q", out)
	}
}

// attachRead runs `berth attach --no-stdin id` and returns what it printed
// once it has n bytes, or after the timeout.
func attachRead(t *testing.T, d *daemon, id string, n int, timeout time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	attach := exec.CommandContext(ctx, filepath.Join(binDir, "berth"), "attach", "--no-stdin", id)
	attach.Env = append(os.Environ(), "DOCKER_HOST=unix://"+d.sock)
	out, err := attach.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := attach.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	got, _ := io.ReadAtLeast(out, buf, n)
	attach.Process.Kill()
	attach.Wait()
	return string(buf[:got])
}

// TestNoLeaks: after many run/rm cycles the daemon's mounts, cgroups, open
// files and processes are back where they started.
func TestNoLeaks(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	cycles := 200
	if testing.Short() {
		cycles = 20
	}
	must(t, d.berth("run", "--rm", "busybox", "true")) // warm up lazily made state
	base := d.leakBaseline()
	for i := 0; i < cycles; i++ {
		id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", "echo "+strconv.Itoa(i)))
		must(t, d.berth("wait", id))
		must(t, d.berth("rm", id))
	}
	// Dual-stack containers with a port published on both families leave
	// no ip6tables rules, ports or addresses behind either.
	must(t, d.docker("network", "create", "--ipv6", "leak6"))
	rules6 := d.berthRules()
	for i := 0; i < cycles/10; i++ {
		id := must(t, d.berth("run", "-d", "--network", "leak6", "-p", "80", "busybox", "sh", "-c", "echo "+strconv.Itoa(i)))
		must(t, d.berth("wait", id))
		must(t, d.berth("rm", id))
	}
	if r := d.berthRules(); r != rules6 {
		t.Errorf("iptables rules changed on the dual-stack network:\nbefore:\n%s\nafter:\n%s", rules6, r)
	}
	must(t, d.docker("network", "rm", "leak6"))
	// A failed start and a forced removal of a running container leave nothing either.
	d.berth("run", "--rm", "busybox", "/nonexistent")
	id := must(t, d.berth("run", "-d", "busybox", "sleep", "100"))
	must(t, d.berth("rm", "-f", id))
	base.check(t)
}

// leaks is what a daemon holds at a moment: leakBaseline takes it, check
// waits for background cleanup to settle and fails the test for anything
// held beyond it.
type leaks struct {
	d                                     *daemon
	mounts, cgroups, fds, monitors, veths int
	rules                                 string
}

func (d *daemon) leakBaseline() leaks {
	return leaks{d: d, mounts: d.mountCount(), cgroups: d.cgroupCount(), fds: d.fdCount(), monitors: d.monitorCount(),
		veths: d.vethCount(), rules: d.berthRules()}
}

func (b leaks) check(t *testing.T) {
	t.Helper()
	d := b.d
	waitFor(t, func() bool { return d.monitorCount() == b.monitors })
	// endpoints and run directories (with their pinned network namespaces)
	// are deleted in the background after a container ends: let them settle
	for i := 0; i < 100 && (d.fdCount() > b.fds+2 || d.vethCount() != b.veths || d.mountCount() != b.mounts); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if v := d.vethCount(); v != b.veths {
		t.Errorf("veths on the bridge: %d before, %d after", b.veths, v)
	}
	if r := d.berthRules(); r != b.rules {
		t.Errorf("iptables rules changed:\nbefore:\n%s\nafter:\n%s", b.rules, r)
	}
	if m := d.mountCount(); m != b.mounts {
		t.Errorf("mounts: %d before, %d after", b.mounts, m)
	}
	if c := d.cgroupCount(); c != b.cgroups {
		t.Errorf("cgroups: %d before, %d after", b.cgroups, c)
	}
	if f := d.fdCount(); f > b.fds+2 {
		t.Errorf("berthd fds: %d before, %d after", b.fds, f)
	}
	if ents, _ := os.ReadDir(filepath.Join(d.dataRoot, "containers")); len(ents) != 0 {
		t.Errorf("container dirs left: %d", len(ents))
	}
}

// mountCount counts the mounts under the daemon's root but the network
// namespaces it makes ahead (its netns pool holds two at all times).
func (d *daemon) mountCount() int {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, d.root) && !strings.Contains(line, "/netns-pool/") {
			n++
		}
	}
	return n
}

func (d *daemon) cgroupCount() int {
	n := 0
	parent := filepath.Base(d.root) // each test daemon has its own cgroup parent
	for _, base := range []string{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup"} {
		ents, _ := os.ReadDir(filepath.Join(base, parent))
		for _, e := range ents {
			if e.IsDir() {
				n++
			}
		}
	}
	return n
}

// vethCount counts the links enslaved to the daemon's default bridge.
func (d *daemon) vethCount() int {
	out, _ := exec.Command("ip", "-o", "link", "show", "master", d.bridge).Output()
	return strings.Count(string(out), "\n")
}

func (d *daemon) fdCount() int {
	ents, _ := os.ReadDir("/proc/" + strconv.Itoa(d.cmd.Process.Pid) + "/fd")
	return len(ents)
}

// monitorCount counts berth-monitor processes of this daemon's containers.
func (d *daemon) monitorCount() int { return len(d.monitorPids()) }

// TestReconcileOrphans: a container whose record is gone (a crash in the
// middle of rm) but whose process, monitor, rootfs mount and cgroups are
// still there is cleaned up when berthd starts again.
func TestReconcileOrphans(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("run", "-d", "--name", "keep", "busybox", "sleep", "1000"))
	id := must(t, d.berth("run", "-d", "--name", "orphan", "busybox", "sleep", "1000"))
	pid, _ := strconv.Atoi(must(t, d.berth("inspect", "-f", "{{.State.Pid}}", id)))
	mounts0, cgroups0, monitors0 := d.mountCount(), d.cgroupCount(), d.monitorCount()
	if monitors0 != 2 || pid == 0 {
		t.Fatalf("setup: %d monitors, pid %d", monitors0, pid)
	}
	d.stop(syscall.SIGKILL)
	db, err := metadata.Open(filepath.Join(d.dataRoot, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(metadata.Containers, id); err != nil {
		t.Fatal(err)
	}
	db.Close()
	d.start()
	waitFor(t, func() bool { return syscall.Kill(pid, 0) == syscall.ESRCH })
	waitFor(t, func() bool { return d.monitorCount() == 1 })
	if n := d.cgroupCount(); n >= cgroups0 {
		t.Fatalf("cgroups: %d before, %d after the orphan's cleanup", cgroups0, n)
	}
	for i := 0; i < 100 && d.mountCount() >= mounts0; i++ { // run dirs go in the background
		time.Sleep(50 * time.Millisecond)
	}
	if n := d.mountCount(); n >= mounts0 {
		t.Fatalf("mounts: %d before, %d after the orphan's cleanup", mounts0, n)
	}
	if _, err := os.Stat(filepath.Join(d.dataRoot, "containers", id)); !os.IsNotExist(err) {
		t.Fatalf("the orphan's directory is still there: %v", err)
	}
	if out := must(t, d.berth("inspect", "-f", "{{.State.Status}}", "keep")); out != "running" {
		t.Fatalf("the other container: %s", out)
	}
	if r := d.berth("inspect", id); r.code == 0 {
		t.Fatal("the orphan is still known")
	}
}

// Two daemons sharing a cgroup parent (the default /berth, say, for a
// test daemon beside a user's) never touch each other's containers: a
// restart's orphan sweep kills only what this daemon made.
func TestSharedCgroupParent(t *testing.T) {
	parent := "/berth-shared-" + strconv.Itoa(os.Getpid())
	// runs last: the parent is empty once both daemons cleaned up
	t.Cleanup(func() {
		for _, p := range []string{"/sys/fs/cgroup/*" + parent, "/sys/fs/cgroup/unified" + parent, "/sys/fs/cgroup" + parent} {
			dirs, _ := filepath.Glob(p)
			for _, d := range dirs {
				_ = os.Remove(d)
			}
		}
	})
	a := startDaemonWith(t, map[string]any{"cgroup-parent": parent})
	b := startDaemonWith(t, map[string]any{"cgroup-parent": parent})
	a.loadBusybox()
	b.loadBusybox()
	idA := must(t, a.berth("run", "-d", "busybox", "sleep", "1000"))
	idB := must(t, b.berth("run", "-d", "busybox", "sleep", "1000"))
	pidA, _ := strconv.Atoi(must(t, a.berth("inspect", "-f", "{{.State.Pid}}", idA)))
	// b loses its container's record in a crash: its own orphan goes, a's
	// container (under the same parent, unknown to b) stays.
	pidB, _ := strconv.Atoi(must(t, b.berth("inspect", "-f", "{{.State.Pid}}", idB)))
	b.stop(syscall.SIGKILL)
	db, err := metadata.Open(filepath.Join(b.dataRoot, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(metadata.Containers, idB); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b.start()
	waitFor(t, func() bool { return syscall.Kill(pidB, 0) == syscall.ESRCH })
	if err := syscall.Kill(pidA, 0); err != nil {
		t.Fatalf("the other daemon's container was killed: %v", err)
	}
	if out := must(t, a.berth("inspect", "-f", "{{.State.Status}}", idA)); out != "running" {
		t.Fatalf("the other daemon's container: %s", out)
	}
	must(t, a.berth("rm", "-f", idA))
}
