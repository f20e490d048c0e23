package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

const runcBinary = "/usr/sbin/runc"

// busyboxRootfs builds a rootfs with the static busybox and its applets.
func busyboxRootfs(t *testing.T) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("busybox-static not installed: %v", err)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	for _, name := range strings.Fields(string(out)) {
		if name == "busybox" || strings.Contains(name, "/") {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", name)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
	writeFile(t, filepath.Join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n")
	return root
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runInRunc runs cmd in a fresh container built by Spec and returns its output.
func runInRunc(t *testing.T, rootfs string, hc *container.HostConfig, cmd ...string) (string, error) {
	t.Helper()
	return runInRuncAs(t, rootfs, "", "", hc, cmd...)
}

// runInRuncAs is runInRunc with a user and an init binary.
func runInRuncAs(t *testing.T, rootfs, user, initPath string, hc *container.HostConfig, cmd ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	id := "berth-oci-test-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + time.Now().Format("150405.000000")
	id = strings.ReplaceAll(id, ".", "")
	writeFile(t, filepath.Join(dir, "hostname"), "berth-test\n")
	writeFile(t, filepath.Join(dir, "hosts"), "127.0.0.1\tlocalhost\n")
	writeFile(t, filepath.Join(dir, "resolv.conf"), "nameserver 127.0.0.1\n")
	if hc == nil {
		hc = &container.HostConfig{}
	}
	s, err := Spec(Options{
		ID:             id,
		Rootfs:         rootfs,
		Config:         &container.Config{Cmd: cmd, User: user},
		InitPath:       initPath,
		HostConfig:     hc,
		Hostname:       "berth-test",
		HostnamePath:   filepath.Join(dir, "hostname"),
		HostsPath:      filepath.Join(dir, "hosts"),
		ResolvConfPath: filepath.Join(dir, "resolv.conf"),
		CgroupsPath:    "/berth-test/" + id,
	})
	if err != nil {
		t.Fatalf("Spec: %v", err)
	}
	bundle := filepath.Join(dir, "bundle")
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(bundle, "config.json"), string(b))
	state := filepath.Join(dir, "runc")
	run := exec.Command(runcBinary, "--root", state, "run", "--bundle", bundle, id)
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	err = run.Run()
	_ = exec.Command(runcBinary, "--root", state, "delete", "--force", id).Run()
	return out.String(), err
}

func TestRuncRunsSpec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runc test needs root: run `go test` as root to run containers")
	}
	if _, err := os.Stat(runcBinary); err != nil {
		t.Skipf("runc not installed at %s", runcBinary)
	}
	rootfs := busyboxRootfs(t)
	t.Cleanup(func() {
		// runc delete removes each container's cgroup; drop the empty parents.
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/berth-test")
		for _, d := range append(dirs, "/sys/fs/cgroup/berth-test") {
			_ = os.Remove(d)
		}
	})

	must := func(t *testing.T, hc *container.HostConfig, cmd ...string) string {
		t.Helper()
		out, err := runInRunc(t, rootfs, hc, cmd...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
		return out
	}
	t.Run("id", func(t *testing.T) {
		if out := must(t, nil, "id"); !strings.Contains(out, "uid=0(root)") {
			t.Errorf("id = %q, want uid 0", out)
		}
	})
	t.Run("default caps", func(t *testing.T) {
		out := must(t, nil, "grep", "CapEff", "/proc/self/status")
		if !strings.Contains(out, "00000000a80425fb") {
			t.Errorf("CapEff = %q, want 00000000a80425fb", out)
		}
	})
	t.Run("hostname", func(t *testing.T) {
		if out := must(t, nil, "hostname"); strings.TrimSpace(out) != "berth-test" {
			t.Errorf("hostname = %q", out)
		}
		if out := must(t, nil, "cat", "/etc/hostname"); strings.TrimSpace(out) != "berth-test" {
			t.Errorf("/etc/hostname = %q", out)
		}
	})
	t.Run("seccomp blocks unshare", func(t *testing.T) {
		if out := must(t, nil, "grep", "Seccomp:", "/proc/self/status"); !strings.Contains(out, "2") {
			t.Errorf("Seccomp = %q, want filter mode 2", out)
		}
		if out, err := runInRunc(t, rootfs, nil, "unshare", "-U", "true"); err == nil {
			t.Errorf("unshare -U succeeded under the default profile: %s", out)
		}
		hc := &container.HostConfig{SecurityOpt: []string{"seccomp=unconfined"}}
		if out, err := runInRunc(t, rootfs, hc, "unshare", "-U", "true"); err != nil {
			t.Errorf("unshare -U with seccomp=unconfined: %v: %s", err, out)
		}
	})
	t.Run("masked proc files", func(t *testing.T) {
		// This host's kernel may lack /proc/kcore; check every masked file
		// that exists (runc bind-mounts /dev/null over them).
		checked := 0
		for _, f := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list"} {
			if _, err := os.Stat(f); err != nil {
				continue
			}
			checked++
			out := must(t, nil, "sh", "-c", "test -c "+f+" && wc -c < "+f)
			if strings.TrimSpace(out) != "0" {
				t.Errorf("%s not masked: %q", f, out)
			}
		}
		if checked == 0 {
			t.Skip("no masked /proc file exists on this kernel")
		}
	})
	t.Run("read-only rootfs", func(t *testing.T) {
		hc := &container.HostConfig{ReadonlyRootfs: true}
		if out, err := runInRunc(t, rootfs, hc, "touch", "/x"); err == nil {
			t.Errorf("touch on read-only rootfs succeeded: %s", out)
		}
	})
	t.Run("user", func(t *testing.T) {
		out, err := runInRuncAs(t, rootfs, "nobody", "", nil, "sh", "-c", "id; echo $HOME")
		if err != nil || !strings.Contains(out, "uid=65534(nobody) gid=65534(nogroup)") || !strings.Contains(out, "/nonexistent") {
			t.Errorf("id as nobody = %q, %v", out, err)
		}
	})
	t.Run("init", func(t *testing.T) {
		initBin := filepath.Join(t.TempDir(), "berth-init")
		cc := os.Getenv("CC")
		if cc == "" {
			cc = "gcc"
		}
		build := exec.Command(cc, "-O2", "-static", "-o", initBin, filepath.Join("..", "..", "cmd", "berth-init", "init.c"))
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build berth-init: %v\n%s", err, out)
		}
		hc := &container.HostConfig{Init: boolp(true)}
		out, err := runInRuncAs(t, rootfs, "", initBin, hc, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; exit 3")
		if !strings.HasPrefix(out, "/sbin/docker-init -- sh -c") {
			t.Errorf("PID 1 = %q", out)
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Errorf("exit = %v, want status 3", err)
		}
	})
	t.Run("ulimit nofile clamped", func(t *testing.T) {
		hc := &container.HostConfig{Resources: container.Resources{Ulimits: []*container.Ulimit{{Name: "nofile", Soft: 1 << 20, Hard: 1 << 20}}}}
		out := must(t, hc, "sh", "-c", "ulimit -n")
		if want := strconv.FormatUint(min(hostNofileHard(), 1<<20), 10); strings.TrimSpace(out) != want {
			t.Errorf("ulimit -n = %q, want %s", out, want)
		}
	})
	t.Run("privileged", func(t *testing.T) {
		out := must(t, &container.HostConfig{Privileged: true}, "grep", "CapEff", "/proc/self/status")
		if strings.Contains(out, "a80425fb") {
			t.Errorf("privileged CapEff = %q, want all", out)
		}
	})
}
