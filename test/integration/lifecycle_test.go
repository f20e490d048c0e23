package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLifecycle(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	// sleep as PID 1 ignores SIGTERM: stop must fall back to SIGKILL (137).
	must(t, d.berth("run", "-d", "--name", "web", "busybox", "sleep", "1000"))
	if r := d.berth("run", "--name", "web", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, `Conflict. The container name "/web" is already in use`) {
		t.Fatalf("name conflict: %s", r)
	}
	if r := d.berth("rm", "web"); r.code == 0 || !strings.Contains(r.stderr, "container is running") {
		t.Fatalf("rm of a running container: %s", r)
	}
	if out := must(t, d.berth("ps", "--format", "{{.Names}} {{.Status}}")); !strings.HasPrefix(out, "web Up ") {
		t.Fatalf("ps: %q", out)
	}
	must(t, d.berth("stop", "-t", "1", "web"))
	if out := must(t, d.berth("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "web")); out != "exited 137" {
		t.Fatalf("after stop: %q", out)
	}
	if out := must(t, d.berth("ps", "-a", "--filter", "exited=137", "--format", "{{.Names}}")); out != "web" {
		t.Fatalf("ps --filter exited=137: %q", out)
	}
	// start again, kill with a signal the shell handles.
	must(t, d.berth("rename", "web", "web2"))
	must(t, d.berth("start", "web2"))
	must(t, d.berth("kill", "web2"))
	if out := must(t, d.berth("wait", "web2")); out != "137" {
		t.Fatalf("wait after kill: %q", out)
	}
	must(t, d.berth("rm", "web2"))
	if r := d.berth("inspect", "web2"); r.code == 0 {
		t.Fatalf("inspect after rm: %s", r)
	}
	// A graceful stop: a shell that traps TERM exits with its own code.
	id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.1; done"))
	must(t, d.berth("stop", id))
	if out := must(t, d.berth("inspect", "-f", "{{.State.ExitCode}}", id)); out != "7" {
		t.Fatalf("graceful stop: exit %q", out)
	}
	must(t, d.berth("container", "prune", "-f"))
	if out := must(t, d.berth("ps", "-aq")); out != "" {
		t.Fatalf("prune left %q", out)
	}
}

func TestLogsAndExec(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", "echo one; echo two >&2; echo three; sleep 1000"))
	waitFor(t, func() bool { return strings.Contains(d.berth("logs", id).stdout, "three") })
	r := d.berth("logs", id)
	if r.stdout != "one\nthree\n" || r.stderr != "two\n" {
		t.Fatalf("logs: %s", r)
	}
	// stdout and stderr are separate pipes, so their relative order is not fixed.
	if r := d.berth("logs", "--tail", "1", id); strings.Count(r.stdout+r.stderr, "\n") != 1 {
		t.Fatalf("--tail 1: %s", r)
	}
	if out := must(t, d.berth("logs", "-t", id)); !strings.Contains(out, "Z one") {
		t.Fatalf("-t: %q", out)
	}
	for _, cli := range []func(...string) result{d.berth, d.docker} {
		if r := cli("exec", "-e", "X=5", "-w", "/tmp", id, "sh", "-c", "echo $X $(pwd); exit 4"); r.code != 4 || r.stdout != "5 /tmp\n" {
			t.Fatalf("exec: %s", r)
		}
		if r := cli("exec", id, "nope"); r.code != 127 {
			t.Fatalf("exec of a missing command: %s", r)
		}
		if out := must(t, cli("exec", "-u", "nobody", id, "id", "-u")); out != "65534" {
			t.Fatalf("exec -u: %q", out)
		}
	}
	if r := d.cli(binDir+"/berth", "piped\n", "exec", "-i", id, "cat"); r.stdout != "piped\n" {
		t.Fatalf("exec -i: %s", r)
	}
	if r := d.cli(binDir+"/berth", "in\n", "run", "--rm", "-i", "busybox", "cat"); r.stdout != "in\n" {
		t.Fatalf("run -i: %s", r)
	}
	top := must(t, d.berth("top", id))
	if !strings.Contains(top, "sleep 1000") {
		t.Fatalf("top: %s", top)
	}
}

// TestExecDetachedIsReaped: a detached exec is reparented to berthd (a child
// subreaper) and must be reaped, not left a zombie.
func TestExecDetachedIsReaped(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	id := must(t, d.berth("run", "-d", "busybox", "sleep", "1000"))
	must(t, d.berth("exec", "-d", id, "sh", "-c", "echo done > /tmp/mark"))
	must(t, d.berth("exec", "-d", "-t", id, "true"))
	waitFor(t, func() bool { return d.berth("exec", id, "cat", "/tmp/mark").stdout == "done\n" })
	waitFor(t, func() bool { return d.zombies() == 0 })
}

// zombies counts zombie children of berthd.
func (d *daemon) zombies() int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(d.cmd.Process.Pid) {
			n++
		}
	}
	return n
}

// TestLogsFollow: logs -f streams lines as they come and returns when the
// container stops.
func TestLogsFollow(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.3; done; echo err >&2"))
	for _, cli := range []func(...string) result{d.berth, d.docker} {
		r := cli("logs", "-f", id)
		if r.code != 0 || r.stdout != "line1\nline2\nline3\n" || r.stderr != "err\n" {
			t.Fatalf("logs -f: %s", r)
		}
	}
}

// TestPauseUnpause: the freezer stops every process; ps says so; exec is
// refused while paused; stop and rm -f still end a paused container.
func TestPauseUnpause(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /n; sleep 0.05; done"))
	count := func() string { return must(t, d.berth("exec", id, "cat", "/n")) }
	waitFor(t, func() bool { return d.berth("exec", id, "test", "-s", "/n").code == 0 })
	must(t, d.docker("pause", id))
	if st := must(t, d.berth("ps", "--format", "{{.Status}}")); !strings.HasSuffix(st, "(Paused)") {
		t.Fatalf("ps: %q", st)
	}
	if st := must(t, d.berth("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", id)); st != "paused true" {
		t.Fatalf("inspect: %q", st)
	}
	// every process of the container is frozen (the kernel's view)
	pid := must(t, d.berth("inspect", "-f", "{{.State.Pid}}", id))
	b, _ := os.ReadFile("/proc/" + pid + "/status")
	if !strings.Contains(string(b), "State:\tD") {
		t.Fatalf("init is not frozen:\n%s", b)
	}
	if r := d.berth("exec", id, "true"); r.code == 0 || !strings.Contains(r.stderr, "is paused, unpause the container before exec") {
		t.Fatalf("exec while paused: %s", r)
	}
	if r := d.berth("pause", id); r.code == 0 || !strings.Contains(r.stderr, "is already paused") {
		t.Fatalf("pause twice: %s", r)
	}
	must(t, d.berth("unpause", id))
	before := count()
	waitFor(t, func() bool { return count() != before }) // it runs again
	if r := d.berth("unpause", id); r.code == 0 || !strings.Contains(r.stderr, "is not paused") {
		t.Fatalf("unpause of a running container: %s", r)
	}
	must(t, d.berth("pause", id))
	must(t, d.berth("stop", "-t", "1", id))
	if st := must(t, d.berth("inspect", "-f", "{{.State.Status}}", id)); st != "exited" {
		t.Fatalf("stop of a paused container: %s", st)
	}
	id2 := must(t, d.berth("run", "-d", "busybox", "sleep", "1000"))
	must(t, d.berth("pause", id2))
	must(t, d.berth("rm", "-f", id2))
	out := must(t, d.berth("events", "--since", "0", "--until", "0s", "--filter", "container="+id, "--format", "{{.Action}}"))
	if !strings.Contains(out, "pause") || !strings.Contains(out, "unpause") {
		t.Fatalf("events: %s", out)
	}
}

// TestDiffAndCommit: diff's A/C/D lines (berth and docker CLI), commit
// with -m/-a/-c of a running container, and commit of a removed one.
func TestDiffAndCommit(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", "echo hi > /etc/new; rm /bin/vi; echo x >> /etc/passwd; sleep 1000"))
	want := "C /bin\nD /bin/vi\nC /etc\nA /etc/new\nC /etc/passwd"
	waitFor(t, func() bool { return must(t, d.berth("diff", id)) == want })
	if got := must(t, d.docker("diff", id)); got != want {
		t.Errorf("docker diff:\n%s", got)
	}
	imgID := must(t, d.berth("commit", "-m", "saved state", "-a", "tester", "-c", `CMD ["cat", "/etc/new"]`, "-c", "ENV SAVED=1", id, "saved:1"))
	if !strings.HasPrefix(imgID, "sha256:") {
		t.Fatalf("commit printed %q", imgID)
	}
	if got := must(t, d.berth("run", "--rm", "saved:1")); got != "hi" {
		t.Fatalf("the committed image: %q", got)
	}
	if got := must(t, d.berth("run", "--rm", "saved:1", "sh", "-c", "echo $SAVED; test -e /bin/vi || echo no-vi")); got != "1\nno-vi" {
		t.Fatalf("changes and deletions in the committed image: %q", got)
	}
	hist := must(t, d.berth("history", "--format", "{{.Comment}}|{{.CreatedBy}}", "saved:1"))
	if !strings.HasPrefix(hist, "saved state|sh -c echo hi") {
		t.Fatalf("history: %s", hist)
	}
	if a := must(t, d.berth("image", "inspect", "-f", "{{.Author}}", "saved:1")); a != "tester" {
		t.Fatalf("author %q", a)
	}
	// the container kept running, unpaused, through the commit
	if st := must(t, d.berth("inspect", "-f", "{{.State.Status}}", id)); st != "running" {
		t.Fatalf("after commit: %s", st)
	}
	must(t, d.berth("rm", "-f", id))
	if r := d.berth("commit", id, "x"); r.code == 0 || !strings.Contains(r.stderr, "No such container") {
		t.Fatalf("commit of a removed container: %s", r)
	}
}

// TestExport: a running and a stopped container's filesystem as a tar;
// the stopped one's rootfs is mounted only for the export.
func TestExport(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", "echo exported > /marker; sleep 1000"))
	waitFor(t, func() bool { return d.berth("exec", id, "test", "-f", "/marker").code == 0 })
	for _, state := range []string{"running", "stopped"} {
		out := filepath.Join(t.TempDir(), "fs.tar")
		must(t, d.docker("export", "-o", out, id))
		b, err := exec.Command("tar", "-xOf", out, "marker").Output()
		if err != nil || string(b) != "exported\n" {
			t.Fatalf("%s: marker %q %v", state, b, err)
		}
		if names, _ := exec.Command("tar", "-tf", out).Output(); !strings.Contains(string(names), "bin/busybox") {
			t.Fatalf("%s: the image's files are missing", state)
		}
		must(t, d.berth("stop", "-t", "0", id))
	}
	// (a stopped container's pinned network namespace goes in the background)
	for i := 0; i < 100 && d.mountCount() != 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if m := d.mountCount(); m != 0 {
		t.Fatalf("%d mounts left after exporting a stopped container", m)
	}
	if r := d.berth("export", "-o", filepath.Join(t.TempDir(), "x"), "nosuch"); r.code == 0 || !strings.Contains(r.stderr, "No such container") {
		t.Fatalf("export of a missing container: %s", r)
	}
}

// TestStats: CPU, memory limit and pids from the cgroup, with the docker
// CLI's own formulas on berthd's numbers.
func TestStats(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("run", "-d", "--name", "busy", "-m", "64m", "busybox", "sh", "-c", "dd if=/dev/zero of=/dev/null"))
	must(t, d.berth("run", "-d", "--name", "idle", "busybox", "sleep", "1000"))
	out := must(t, d.docker("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", "busy", "idle"))
	lines := strings.Split(out, "\n")
	if len(lines) != 2 {
		t.Fatalf("stats:\n%s", out)
	}
	busy, idle := strings.Fields(lines[0]), strings.Fields(lines[1])
	if busy[0] != "busy" || !strings.HasSuffix(busy[4], "64MiB") || busy[5] != "1" {
		t.Errorf("busy: %q", lines[0])
	}
	// the spinning one uses CPU, the sleeping one (next to) none
	busyCPU, _ := strconv.ParseFloat(strings.TrimSuffix(busy[1], "%"), 64)
	idleCPU, _ := strconv.ParseFloat(strings.TrimSuffix(idle[1], "%"), 64)
	if busyCPU <= idleCPU || busyCPU == 0 {
		t.Errorf("CPU: spinning %s, sleeping %s", busy[1], idle[1])
	}
	if out := must(t, d.berth("stats", "--no-stream")); !strings.Contains(out, "MEM USAGE / LIMIT") || strings.Count(out, "\n") != 2 {
		t.Errorf("berth stats:\n%s", out)
	}
	// without names the docker CLI lists the running containers and also
	// subscribes to events: it waits for the stream's headers, and must
	// see no container that is gone (no replay of past starts)
	must(t, d.berth("run", "--rm", "busybox", "true"))
	if out := must(t, d.docker("stats", "--no-stream", "--format", "{{.Name}}")); out != "busy\nidle" && out != "idle\nbusy" {
		t.Errorf("docker stats --no-stream of all running containers:\n%s", out)
	}
}
