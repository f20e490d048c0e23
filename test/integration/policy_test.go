package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uptimes parses a log of /proc/uptime readings, one per run.
func uptimes(t *testing.T, log string) []float64 {
	t.Helper()
	var out []float64
	for _, f := range strings.Fields(log) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("bad uptime %q in log %q", f, log)
		}
		out = append(out, v)
	}
	return out
}

// TestRestartPolicies: on-failure counts and stops, "always" backs off by
// doubling from 100 ms, stop wins, and the daemon's restart rules hold.
func TestRestartPolicies(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()

	// on-failure:3 runs once and restarts three times
	must(t, d.berth("run", "-d", "--name", "onfail", "--restart", "on-failure:3", "busybox", "sh", "-c", "echo run; exit 3"))
	waitFor(t, func() bool {
		return must(t, d.berth("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "onfail")) == "exited 3"
	})
	if n := strings.Count(must(t, d.berth("logs", "onfail")), "run"); n != 4 {
		t.Fatalf("on-failure:3 ran %d times, want 4", n)
	}
	// on-failure does not restart a success
	must(t, d.berth("run", "-d", "--name", "onok", "--restart", "on-failure", "busybox", "true"))
	waitFor(t, func() bool { return must(t, d.berth("inspect", "-f", "{{.State.Status}}", "onok")) == "exited" })
	time.Sleep(300 * time.Millisecond)
	if out := must(t, d.berth("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "onok")); out != "exited 0" {
		t.Fatalf("on-failure after exit 0: %q", out)
	}

	// always: the gaps between runs double from 100 ms (lower bounds
	// only: a restart must not come early)
	must(t, d.berth("run", "-d", "--name", "always", "--restart", "always", "busybox", "sh", "-c", "cut -d' ' -f1 /proc/uptime; exit 1"))
	waitFor(t, func() bool { return len(uptimes(t, d.berth("logs", "always").stdout)) >= 5 })
	ts := uptimes(t, d.berth("logs", "always").stdout)
	for i, want := range []float64{0.1, 0.2, 0.4, 0.8} {
		if gap := ts[i+1] - ts[i]; gap < want*0.9 {
			t.Fatalf("restart %d came %.3fs after the exit, before the %.1fs back-off; runs at %v", i+1, gap, want, ts)
		}
	}
	waitFor(t, func() bool {
		return strings.HasPrefix(must(t, d.berth("ps", "--filter", "name=always", "--format", "{{.Status}}")), "Restarting (1)")
	})
	if r := d.berth("rm", "always"); r.code == 0 || !strings.Contains(r.stderr, "restarting") {
		t.Fatalf("rm of a restarting container: %s", r)
	}
	// stop wins over the policy, even in the middle of a back-off
	must(t, d.berth("stop", "always"))
	n := must(t, d.berth("inspect", "-f", "{{.RestartCount}}", "always"))
	time.Sleep(1500 * time.Millisecond)
	if out := must(t, d.berth("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "always")); out != "exited "+n {
		t.Fatalf("after stop: %q, want exited %s", out, n)
	}
	// and a manual start resets the count
	must(t, d.berth("update", "--restart", "no", "always"))
	must(t, d.berth("start", "always"))
	waitFor(t, func() bool { return must(t, d.berth("inspect", "-f", "{{.State.Status}}", "always")) == "exited" })
	if out := must(t, d.berth("inspect", "-f", "{{.RestartCount}}", "always")); out != "0" {
		t.Fatalf("RestartCount after a manual start: %s", out)
	}

	// bad input, in Docker's words
	if r := d.berth("run", "--rm", "--restart", "always", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "conflicting options: cannot specify both --restart and --rm") {
		t.Fatalf("--rm with --restart: %s", r)
	}
	if r := d.berth("run", "--restart", "sometimes", "busybox", "true"); r.code != 125 {
		t.Fatalf("unknown policy: %s", r)
	}

	// daemon restart: "always" comes back even after a manual stop,
	// "unless-stopped" only if nobody stopped it
	must(t, d.berth("run", "-d", "--name", "pa", "--restart", "always", "busybox", "sleep", "1000"))
	must(t, d.berth("run", "-d", "--name", "pu", "--restart", "unless-stopped", "busybox", "sleep", "1000"))
	must(t, d.berth("run", "-d", "--name", "dies", "--restart", "unless-stopped", "busybox", "sh", "-c", "sleep 1; exit 9"))
	must(t, d.berth("stop", "-t", "0", "pa", "pu"))
	d.stop(syscall.SIGKILL)
	time.Sleep(1500 * time.Millisecond) // "dies" exits while no daemon runs
	d.start()
	waitFor(t, func() bool { return must(t, d.berth("inspect", "-f", "{{.State.Status}}", "pa")) == "running" })
	waitFor(t, func() bool {
		return must(t, d.berth("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "dies")) != "exited 0"
	})
	waitFor(t, func() bool { return must(t, d.berth("inspect", "-f", "{{.RestartCount}}", "dies")) != "0" })
	if out := must(t, d.berth("inspect", "-f", "{{.State.Status}}", "pu")); out != "exited" {
		t.Fatalf("stopped unless-stopped container after a daemon restart: %s", out)
	}
	must(t, d.berth("rm", "-f", "pa", "pu", "dies"))

	// the docker CLI sees the same
	must(t, d.docker("run", "-d", "--name", "dk", "--restart", "on-failure:1", "busybox", "false"))
	waitFor(t, func() bool {
		return must(t, d.docker("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "dk")) == "exited 1"
	})
}

// TestHealthcheck: statuses move starting → unhealthy → healthy with the
// probe's results, show in ps, inspect and events, and the image's
// HEALTHCHECK is used unless --no-healthcheck.
func TestHealthcheck(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	since := strconv.FormatInt(time.Now().Unix()-1, 10)
	must(t, d.berth("run", "-d", "--name", "hh", "--health-cmd", "echo probe; test -f /tmp/ok", "--health-interval", "100ms",
		"--health-retries", "2", "busybox", "sleep", "1000"))
	waitFor(t, func() bool { return must(t, d.berth("inspect", "-f", "{{.State.Health.Status}}", "hh")) == "unhealthy" })
	if out := must(t, d.berth("ps", "--format", "{{.Status}}", "--filter", "name=hh")); !strings.HasSuffix(out, "(unhealthy)") {
		t.Fatalf("ps status: %q", out)
	}
	must(t, d.berth("exec", "hh", "touch", "/tmp/ok"))
	waitFor(t, func() bool { return must(t, d.berth("inspect", "-f", "{{.State.Health.Status}}", "hh")) == "healthy" })
	if out := must(t, d.berth("ps", "-q", "--filter", "health=healthy")); out == "" {
		t.Fatal("ps --filter health=healthy lists nothing")
	}
	waitFor(t, func() bool { return must(t, d.berth("inspect", "-f", "{{len .State.Health.Log}}", "hh")) == "5" })
	if out := must(t, d.berth("inspect", "-f", "{{(index .State.Health.Log 4).Output}}", "hh")); out != "probe" {
		t.Fatalf("probe output: %q", out)
	}
	ev := must(t, d.berth("events", "--since", since, "--until", strconv.FormatInt(time.Now().Unix()+1, 10),
		"--filter", "container=hh", "--format", "{{.Action}}"))
	if !strings.Contains(ev, "health_status: unhealthy") || !strings.Contains(ev, "health_status: healthy") {
		t.Fatalf("events: %q", ev)
	}
	if out := must(t, d.docker("ps", "--filter", "name=hh", "--format", "{{.Status}}")); !strings.HasSuffix(out, "(healthy)") {
		t.Fatalf("docker ps status: %q", out)
	}

	// a probe that outlives its timeout is killed and counts as a failure
	must(t, d.berth("run", "-d", "--name", "slow", "--health-cmd", "sleep 30", "--health-timeout", "200ms",
		"--health-interval", "100ms", "--health-retries", "1", "busybox", "sleep", "1000"))
	waitFor(t, func() bool {
		return must(t, d.berth("inspect", "-f", "{{.State.Health.Status}}", "slow")) == "unhealthy"
	})
	out := must(t, d.berth("inspect", "-f", "{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}|{{end}}", "slow"))
	if !strings.Contains(out, "-1 Health check exceeded timeout (200ms)") {
		t.Fatalf("timed-out probe: %q", out)
	}
	waitFor(t, func() bool { return !strings.Contains(must(t, d.berth("top", "slow")), "sleep 30") })

	// the image's HEALTHCHECK, and --no-healthcheck
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nHEALTHCHECK --interval=100ms CMD true\n"), 0o644)
	must(t, d.berth("build", "-q", "-t", "hc", dir))
	must(t, d.berth("run", "-d", "--name", "img", "hc", "sleep", "1000"))
	waitFor(t, func() bool { return must(t, d.berth("inspect", "-f", "{{.State.Health.Status}}", "img")) == "healthy" })
	must(t, d.berth("run", "-d", "--name", "nohc", "--no-healthcheck", "hc", "sleep", "1000"))
	if out := must(t, d.berth("inspect", "-f", "{{.State.Health}}", "nohc")); out != "<nil>" {
		t.Fatalf("--no-healthcheck: health %q", out)
	}
	if r := d.berth("run", "--no-healthcheck", "--health-cmd", "true", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "--no-healthcheck conflicts with --health-* options") {
		t.Fatalf("conflicting health flags: %s", r)
	}
	must(t, d.berth("rm", "-f", "hh", "slow", "img", "nohc"))
}

// TestUpdate: limits change on a running container (seen through its own
// cgroup files and enforced), the restart policy too, and bad input fails
// in Docker's words.
func TestUpdate(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	// a shell as PID 1 reaps what the pids test below orphans (a plain
	// sleep would keep the zombies, and their pids). The pids limit leaves
	// room for a runc exec: runc init is a Go program whose threads count
	// (at 6 it failed now and then in pthread_create, not in the shell's fork)
	must(t, d.berth("run", "-d", "--name", "pu", "busybox", "sh", "-c", "while :; do sleep 1; done"))
	must(t, d.berth("update", "--memory", "32m", "--pids-limit", "16", "--cpus", "0.5", "--restart", "unless-stopped", "pu"))
	if out := must(t, d.berth("exec", "pu", "cat", "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")); strings.Fields(out)[0] != "16" || strings.Fields(out)[1] != "33554432" || strings.Fields(out)[2] != "50000" {
		if _, err := os.Stat("/sys/fs/cgroup/pids"); err == nil { // cgroup v1 layout
			t.Fatalf("cgroup files after update: %q", out)
		}
	}
	if r := d.berth("exec", "pu", "sh", "-c", "for i in $(seq 24); do sleep 1 & done; wait"); r.code == 0 || !strings.Contains(r.stderr, "can't fork") {
		t.Fatalf("pids limit not enforced: %s", r)
	}
	if out := must(t, d.berth("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}", "pu")); out != "33554432 16 500000000 unless-stopped" {
		t.Fatalf("inspect after update: %q", out)
	}
	// the sleeps that did start hold pids until they end, and a runc exec
	// (a Go program, with threads) needs several itself: lift the limit
	must(t, d.docker("update", "--memory", "64m", "--memory-swap", "128m", "--pids-limit", "-1", "pu"))
	if out := must(t, d.berth("exec", "pu", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")); out != "67108864" {
		t.Fatalf("memory after docker update: %q", out)
	}
	if r := d.berth("update", "--memory", "1g", "pu"); r.code != 1 || !strings.Contains(r.stderr, "Memory limit should be smaller than already set memoryswap limit") {
		t.Fatalf("memory above swap: %s", r)
	}
	if r := d.berth("update", "--memory", "64m", "nope"); r.code != 1 || !strings.Contains(r.stderr, "No such container: nope") {
		t.Fatalf("unknown container: %s", r)
	}
	if r := d.docker("update", "--cpus", "0.5", "nope"); r.code == 0 || !strings.Contains(r.stderr, "No such container: nope") {
		t.Fatalf("docker update of an unknown container: %s", r)
	}
	if r := d.berth("update", "pu"); r.code == 0 {
		t.Fatalf("update without flags: %s", r)
	}
	// a stopped container's update applies at its next start
	must(t, d.berth("create", "--name", "later", "busybox", "cat", "/sys/fs/cgroup/pids/pids.max"))
	must(t, d.berth("update", "--pids-limit", "9", "later"))
	must(t, d.berth("start", "-a", "later"))
	if out := must(t, d.berth("logs", "later")); out != "9" {
		t.Fatalf("pids.max after update of a created container: %q", out)
	}
	must(t, d.berth("rm", "-f", "pu", "later"))
}

// TestAttach: ctrl-p ctrl-q detaches from run -it leaving the container
// running, attach takes over the terminal, --detach-keys changes the
// sequence, and --sig-proxy forwards signals to a non-TTY container.
func TestAttach(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	out, code := d.runInPty(t, binDir+"/berth", "echo fi''rst\r\x00\x10\x11", "run", "-it", "--name", "tty", "busybox", "sh")
	if code != 0 || !strings.Contains(out, "first") {
		t.Fatalf("run -it then detach: exit %d, output %q", code, out)
	}
	if st := must(t, d.berth("inspect", "-f", "{{.State.Status}}", "tty")); st != "running" {
		t.Fatalf("after detach: %s", st)
	}
	out, code = d.runInPtyAfter(t, "", binDir+"/berth", "echo sec''ond\r\x00\x18", "attach", "--detach-keys", "ctrl-x", "tty")
	if code != 0 || !strings.Contains(out, "second") {
		t.Fatalf("attach --detach-keys ctrl-x: exit %d, output %q", code, out)
	}
	if _, err := exec.LookPath("docker"); err == nil {
		out, code = d.runInPtyAfter(t, "", "docker", "echo th''ird; exit 4\r", "attach", "tty")
		if code != 4 || !strings.Contains(out, "third") {
			t.Fatalf("docker attach: exit %d, output %q", code, out)
		}
	} else {
		out, code = d.runInPtyAfter(t, "", binDir+"/berth", "exit 4\r", "attach", "tty")
		if code != 4 {
			t.Fatalf("attach then exit: %d %q", code, out)
		}
	}
	waitFor(t, func() bool {
		return must(t, d.berth("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "tty")) == "exited 4"
	})

	// a stopped container cannot be attached to
	if r := d.berth("attach", "tty"); r.code != 1 || !strings.Contains(r.stderr, "You cannot attach to a stopped container, start it first") {
		t.Fatalf("attach to a stopped container: %s", r)
	}

	// non-TTY: output streams, signals are proxied, the exit code comes back
	must(t, d.berth("run", "-d", "--name", "sig", "busybox", "sh", "-c", `trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 0.1; done`))
	waitFor(t, func() bool { return strings.Contains(d.berth("logs", "sig").stdout, "ready") })
	cmd := exec.Command(binDir+"/berth", "attach", "sig")
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+d.sock)
	var outb strings.Builder
	cmd.Stdout = &outb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let it attach
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 || !strings.Contains(outb.String(), "got TERM") {
		t.Fatalf("attach with sig-proxy: %v, output %q", err, outb.String())
	}
	must(t, d.berth("rm", "-f", "tty", "sig"))
}

// TestLogDrivers: json-file rotation keeps max-file files of max-size,
// the local driver rotates and compresses, none cannot be read, and
// logs -f follows a container across policy restarts.
func TestLogDrivers(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	gen := "i=0; while [ $i -lt 500 ]; do echo line-$i; i=$((i+1)); done; echo done >&2"
	must(t, d.berth("run", "--name", "jj", "--log-opt", "max-size=2k", "--log-opt", "max-file=3", "busybox", "sh", "-c", gen))
	id := must(t, d.berth("inspect", "-f", "{{.Id}}", "jj"))
	files, _ := filepath.Glob(filepath.Join(d.dataRoot, "containers", id, id+"-json.log*"))
	if len(files) != 3 {
		t.Fatalf("json-file with max-file=3 left %d files: %v", len(files), files)
	}
	for _, f := range files {
		if st, _ := os.Stat(f); st.Size() > 2048+200 {
			t.Fatalf("%s is %d bytes, over max-size", f, st.Size())
		}
	}
	checkTail := func(name string) {
		t.Helper()
		r := d.berth("logs", name)
		lines := strings.Fields(r.stdout)
		if len(lines) < 10 || lines[len(lines)-1] != "line-499" || r.stderr != "done\n" {
			t.Fatalf("logs of %s: %d lines ending %q, stderr %q", name, len(lines), lines[len(lines)-1], r.stderr)
		}
		first, _ := strconv.Atoi(strings.TrimPrefix(lines[0], "line-"))
		for i, l := range lines { // contiguous, oldest file first
			if l != "line-"+strconv.Itoa(first+i) {
				t.Fatalf("logs of %s not in order at %d: %q", name, i, l)
			}
		}
		// the tail counts both streams: the last three are two stdout lines and stderr's "done"
		if r := d.berth("logs", "--tail", "3", name); r.stdout != "line-498\nline-499\n" || r.stderr != "done\n" {
			t.Fatalf("--tail 3: %s", r)
		}
	}
	checkTail("jj")

	must(t, d.berth("run", "--name", "ll", "--log-driver", "local", "--log-opt", "max-size=2k", "--log-opt", "max-file=4", "busybox", "sh", "-c", gen))
	id = must(t, d.berth("inspect", "-f", "{{.Id}}", "ll"))
	for i := 0; ; i++ { // the last rotation's gzip may still run
		gz, _ := filepath.Glob(filepath.Join(d.dataRoot, "containers", id, "local-logs", "container.log.*.gz"))
		if len(gz) == 3 {
			break
		}
		if i == 100 {
			all, _ := filepath.Glob(filepath.Join(d.dataRoot, "containers", id, "local-logs", "*"))
			t.Fatalf("local driver with max-file=4: files %v", all)
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkTail("ll")
	if out := must(t, d.docker("logs", "--tail", "2", "ll")); out != "line-499" {
		t.Fatalf("docker logs of the local driver: %q", out)
	}

	must(t, d.berth("run", "--name", "nn", "--log-driver", "none", "busybox", "echo", "hi"))
	if r := d.berth("logs", "nn"); r.code == 0 || !strings.Contains(r.stderr, "configured logging driver does not support reading") {
		t.Fatalf("logs with driver none: %s", r)
	}
	if r := d.berth("run", "--log-opt", "max-size=0", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "max-size must be a positive number") {
		t.Fatalf("bad max-size: %s", r)
	}
	if r := d.berth("run", "--log-driver", "syslog", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "no log driver named 'syslog'") {
		t.Fatalf("unknown driver: %s", r)
	}

	// logs -f follows across the restarts of a policy
	must(t, d.berth("run", "-d", "--name", "ff", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; sleep 0.3; exit 1"))
	r := d.berth("logs", "-f", "ff")
	if n := strings.Count(r.stdout, "run"); r.code != 0 || n != 3 {
		t.Fatalf("logs -f across restarts: %d runs seen, %s", n, r)
	}
	must(t, d.berth("rm", "-f", "jj", "ll", "nn", "ff"))
}

// TestLiveRestoreLogs: kill -9 of berthd in the middle of a log stream
// loses no line, and a follower started after the restart sees the rest.
func TestLiveRestoreLogs(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("run", "-d", "--name", "seq", "busybox", "sh", "-c",
		"i=0; while [ $i -lt 300 ]; do echo $i; i=$((i+1)); sleep 0.01; done"))
	waitFor(t, func() bool { return strings.Contains(d.berth("logs", "seq").stdout, "\n50\n") })
	d.stop(syscall.SIGKILL)
	time.Sleep(time.Second)
	d.start()
	r := d.berth("logs", "-f", "seq")
	lines := strings.Fields(r.stdout)
	if len(lines) != 300 {
		t.Fatalf("logs -f after a kill -9: %d lines, want 300", len(lines))
	}
	for i, l := range lines {
		if l != strconv.Itoa(i) {
			t.Fatalf("line %d is %q", i, l)
		}
	}
	if out := must(t, d.berth("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "seq")); out != "exited 0" {
		t.Fatalf("after the stream: %q", out)
	}
}
