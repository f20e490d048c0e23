package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestHelloWorldOffline(t *testing.T) {
	d := startDaemon(t)
	for _, cli := range []func(...string) result{d.berth, d.docker} {
		out := must(t, cli("run", "--rm", "hello-world"))
		if !strings.Contains(out, "Hello from Berth!") || !strings.Contains(out, "working correctly") {
			t.Fatalf("hello-world printed:\n%s", out)
		}
	}
}

// TestRuntimeSelected checks the suite runs on the runtime it means to.
func TestRuntimeSelected(t *testing.T) {
	d := startDaemon(t)
	want := os.Getenv("BERTH_RUNTIME")
	if want == "" {
		want = "native" // the default on cgroup v1 and hybrid hosts like these
	}
	if got := must(t, d.berth("info", "--format", "{{.DefaultRuntime}}")); got != want {
		t.Fatalf("default runtime %q, want %q", got, want)
	}
	d.loadBusybox()
	id := must(t, d.berth("run", "-d", "busybox", "sleep", "1000"))
	// runc keeps state under its root; the native runtime has none.
	_, err := os.Stat(filepath.Join(d.execRoot, "runc", id))
	if (err == nil) != (want == "runc") {
		t.Fatalf("runc state for %s: %v (runtime %s)", id, err, want)
	}
}

func TestRunExitCodes(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"output", []string{"run", "--rm", "busybox", "echo", "hi"}, 0, "hi\n", ""},
		{"own code", []string{"run", "--rm", "busybox", "sh", "-c", "exit 3"}, 3, "", ""},
		{"not found", []string{"run", "--rm", "busybox", "nope"}, 127, "", `exec: "nope": executable file not found in $PATH`},
		{"not executable", []string{"run", "--rm", "busybox", "/etc/passwd"}, 126, "", "permission denied"},
		{"unknown image", []string{"run", "--rm", "--pull", "never", "nosuchimage"}, 125, "", "No such image: nosuchimage:latest"},
		{"unknown image pulled", []string{"run", "--rm", "nosuchimage"}, 125, "", "Unable to find image 'nosuchimage:latest' locally"},
		{"bad flag", []string{"run", "--nope", "busybox"}, 125, "", "unknown flag: --nope"},
		{"stderr apart", []string{"run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2"}, 0, "out\n", "err"},
	} {
		for cliName, cli := range map[string]func(...string) result{"berth": d.berth, "docker": d.docker} {
			t.Run(tc.name+"/"+cliName, func(t *testing.T) {
				r := cli(tc.args...)
				if r.code != tc.code || (tc.stdout != "" && r.stdout != tc.stdout) || !strings.Contains(r.stderr, tc.stderr) {
					t.Fatalf("got %s", r)
				}
			})
		}
	}
	if tc := d.berth("run", "--rm", "nosuchimage"); !strings.Contains(tc.stderr, "Unable to find image 'nosuchimage:latest' locally") {
		t.Fatalf("missing pull notice: %s", tc)
	}
	if left := must(t, d.berth("ps", "-aq")); left != "" {
		t.Fatalf("--rm left containers: %s", left)
	}
}

func TestIsolation(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	id := must(t, d.berth("run", "-d", "busybox", "sleep", "1000"))
	short := id[:12]
	out := must(t, d.berth("exec", id, "sh", "-c", "ps -o pid,comm; hostname; ls /sys/class/net; cat /proc/self/status | grep CapEff"))
	if !regexp.MustCompile(`(?m)^\s*1 sleep$`).MatchString(out) {
		t.Errorf("command is not PID 1:\n%s", out)
	}
	if strings.Count(out, "\n") > 8 {
		t.Errorf("container sees host processes:\n%s", out)
	}
	if !strings.Contains(out, short+"\n") {
		t.Errorf("hostname is not the short ID %s:\n%s", short, out)
	}
	// the default bridge gives eth0; --network none leaves only lo
	if !regexp.MustCompile(`(?m)^lo$`).MatchString(out) || !regexp.MustCompile(`(?m)^eth0$`).MatchString(out) {
		t.Errorf("unexpected interfaces:\n%s", out)
	}
	if out := must(t, d.berth("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net")); out != "lo" {
		t.Errorf("--network none: %q", out)
	}
	if !strings.Contains(out, "CapEff:\t00000000a80425fb") {
		t.Errorf("not Docker's default capabilities:\n%s", out)
	}
	// Writes stay in the container.
	must(t, d.berth("exec", id, "sh", "-c", "echo changed > /etc/motd-test && rm /bin/vi"))
	out = must(t, d.berth("run", "--rm", "busybox", "sh", "-c", "ls /etc/motd-test 2>&1; ls /bin/vi"))
	if !strings.Contains(out, "No such file") || !strings.Contains(out, "/bin/vi") {
		t.Errorf("a container's writes reached another container:\n%s", out)
	}
	if out := must(t, d.berth("run", "--rm", "--hostname", "box", "busybox", "hostname")); out != "box" {
		t.Errorf("--hostname: %q", out)
	}
	// Hardening.
	if r := d.berth("run", "--rm", "busybox", "sh", "-c", "cat /proc/kcore /proc/keys 2>&1 | head -c 100; echo x > /proc/sys/kernel/hostname"); r.code == 0 {
		t.Errorf("/proc/sys is writable: %s", r)
	}
	if r := d.berth("run", "--rm", "--read-only", "busybox", "touch", "/x"); r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("--read-only: %s", r)
	}
	if out := must(t, d.berth("run", "--rm", "--cap-drop", "ALL", "busybox", "sh", "-c", "grep CapEff /proc/self/status")); !strings.Contains(out, "0000000000000000") {
		t.Errorf("--cap-drop ALL: %s", out)
	}
	if out := must(t, d.berth("run", "--rm", "-u", "nobody", "busybox", "id")); !strings.Contains(out, "uid=65534(nobody)") {
		t.Errorf("-u nobody: %s", out)
	}
	// Only stdio crosses into a container (ls itself holds fd 3), however
	// many descriptors berthd inherited.
	for _, args := range [][]string{{"run", "--rm", "busybox"}, {"exec", id}} {
		out := must(t, d.berth(append(args, "ls", "/proc/self/fd")...))
		if strings.Join(strings.Fields(out), " ") != "0 1 2 3" {
			t.Errorf("%s: descriptors %q", args[0], out)
		}
	}
	// Docker's seccomp profile: creating a user namespace needs no
	// capability, only the profile refuses it.
	if r := d.berth("run", "--rm", "busybox", "sh", "-c", "grep '^Seccomp:' /proc/self/status; unshare -U true"); r.code == 0 || !strings.Contains(r.stdout, "Seccomp:\t2") {
		t.Errorf("no seccomp filter by default: %s", r)
	}
	if r := d.berth("run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "sh", "-c", "grep '^Seccomp:' /proc/self/status; unshare -U true"); r.code != 0 || !strings.Contains(r.stdout, "Seccomp:\t0") {
		t.Errorf("seccomp=unconfined: %s", r)
	}
	// exec'd processes get the same confinement
	if r := d.berth("exec", id, "sh", "-c", "grep -E '^(Seccomp|CapEff):' /proc/self/status; unshare -U true"); r.code == 0 || !strings.Contains(r.stdout, "Seccomp:\t2") || !strings.Contains(r.stdout, "CapEff:\t00000000a80425fb") {
		t.Errorf("exec is not confined like the container: %s", r)
	}
}

func TestEntrypointCmdEnvWorkdir(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--rm", "busybox", "ls", "/"}, "bin"},
		{[]string{"run", "--rm", "--entrypoint", "echo", "busybox", "a", "b"}, "a b"},
		{[]string{"run", "--rm", "--entrypoint", "echo", "busybox"}, ""},
		{[]string{"run", "--rm", "-e", "A=1", "-w", "/tmp", "busybox", "sh", "-c", "echo $A $(pwd)"}, "1 /tmp"},
		{[]string{"run", "--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"}, "/sbin/docker-init -- sh -c"},
	} {
		if out := must(t, d.berth(tc.args...)); !strings.Contains(out, tc.want) {
			t.Errorf("%v: got %q, want %q", tc.args, out, tc.want)
		}
	}
}
