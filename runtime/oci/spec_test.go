package oci

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func boolp(b bool) *bool { return &b }

// testOptions returns options for a container running `sh` in a temp rootfs.
func testOptions(t *testing.T) Options {
	t.Helper()
	root := t.TempDir()
	writeFile(t, root+"/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
	writeFile(t, root+"/etc/group", "root:x:0:\n")
	return Options{
		ID:         "abc",
		Rootfs:     root,
		Config:     &container.Config{Cmd: []string{"sh"}},
		HostConfig: &container.HostConfig{},
		Hostname:   "abc",
	}
}

func mustSpec(t *testing.T, o Options) *specs.Spec {
	t.Helper()
	s, err := Spec(o)
	if err != nil {
		t.Fatalf("Spec: %v", err)
	}
	return s
}

func findMount(s *specs.Spec, dest string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dest {
			return &s.Mounts[i]
		}
	}
	return nil
}

func TestSpecDefaults(t *testing.T) {
	o := testOptions(t)
	o.HostsPath, o.HostnamePath, o.ResolvConfPath = "/h/hosts", "/h/hostname", "/h/resolv.conf"
	o.CgroupsPath = "/berth/abc"
	s := mustSpec(t, o)

	if got := s.Process.Args; !slices.Equal(got, []string{"sh"}) {
		t.Errorf("args = %v", got)
	}
	wantEnv := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=abc", "HOME=/root"}
	if !slices.Equal(s.Process.Env, wantEnv) {
		t.Errorf("env = %v, want %v", s.Process.Env, wantEnv)
	}
	if s.Process.Cwd != "/" || s.Process.Terminal || s.Hostname != "abc" {
		t.Errorf("cwd %q terminal %v hostname %q", s.Process.Cwd, s.Process.Terminal, s.Hostname)
	}
	if s.Root.Path != o.Rootfs || s.Root.Readonly {
		t.Errorf("root = %+v", s.Root)
	}
	if s.Linux.CgroupsPath != "/berth/abc" {
		t.Errorf("cgroups path = %q", s.Linux.CgroupsPath)
	}
	caps := s.Process.Capabilities
	if !slices.Equal(caps.Bounding, DefaultCapabilities()) || !slices.Equal(caps.Effective, DefaultCapabilities()) ||
		!slices.Equal(caps.Permitted, DefaultCapabilities()) || caps.Inheritable != nil || caps.Ambient != nil {
		t.Errorf("caps = %+v", caps)
	}
	var ns []specs.LinuxNamespaceType
	for _, n := range s.Linux.Namespaces {
		ns = append(ns, n.Type)
		if n.Path != "" {
			t.Errorf("namespace %s has path %q", n.Type, n.Path)
		}
	}
	for _, want := range []specs.LinuxNamespaceType{specs.MountNamespace, specs.NetworkNamespace, specs.UTSNamespace, specs.PIDNamespace, specs.IPCNamespace} {
		if !slices.Contains(ns, want) {
			t.Errorf("namespaces %v lack %s", ns, want)
		}
	}
	if slices.Contains(ns, specs.CgroupNamespace) != (CgroupV2() && hostSupportsCgroupns()) {
		t.Errorf("cgroup namespace %v with cgroup v2 = %v", ns, CgroupV2())
	}
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/scsi"} {
		if !slices.Contains(s.Linux.MaskedPaths, p) {
			t.Errorf("masked paths lack %s", p)
		}
	}
	if !slices.Equal(s.Linux.ReadonlyPaths, DefaultReadonlyPaths()) {
		t.Errorf("readonly paths = %v", s.Linux.ReadonlyPaths)
	}
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
		t.Errorf("seccomp = %+v, want the default profile", s.Linux.Seccomp)
	}
	if got := findMount(s, "/dev/shm"); got == nil || !slices.Contains(got.Options, "size=67108864") {
		t.Errorf("/dev/shm = %+v", got)
	}
	if got := findMount(s, "/sys"); got == nil || !slices.Contains(got.Options, "ro") {
		t.Errorf("/sys = %+v", got)
	}
	if got := findMount(s, "/dev"); got == nil || !slices.Contains(got.Options, "size=65536k") || !slices.Contains(got.Options, "mode=755") {
		t.Errorf("/dev = %+v", got)
	}
	for dst, src := range map[string]string{"/etc/hosts": "/h/hosts", "/etc/hostname": "/h/hostname", "/etc/resolv.conf": "/h/resolv.conf"} {
		m := findMount(s, dst)
		if m == nil || m.Source != src || m.Type != "bind" || !slices.Equal(m.Options, []string{"rbind", "rprivate"}) {
			t.Errorf("%s = %+v", dst, m)
		}
	}
	if n := len(s.Linux.Resources.Devices); n != 8 || s.Linux.Resources.Devices[0].Allow {
		t.Errorf("device rules = %+v", s.Linux.Resources.Devices)
	}
	if s.Process.OOMScoreAdj == nil || *s.Process.OOMScoreAdj != 0 || s.Process.NoNewPrivileges {
		t.Errorf("oom %v nnp %v", s.Process.OOMScoreAdj, s.Process.NoNewPrivileges)
	}
	if s.Process.User.UID != 0 || !slices.Equal(s.Process.User.AdditionalGids, []uint32{0}) {
		t.Errorf("user = %+v", s.Process.User)
	}
}

func TestSpecProcess(t *testing.T) {
	tests := []struct {
		name    string
		cfg     container.Config
		hc      container.HostConfig
		initBin string
		args    []string
		env     []string
		cwd     string
	}{
		{name: "entrypoint and cmd", cfg: container.Config{Entrypoint: []string{"/bin/echo", "-n"}, Cmd: []string{"hi"}}, args: []string{"/bin/echo", "-n", "hi"}},
		{name: "entrypoint only", cfg: container.Config{Entrypoint: []string{"top"}}, args: []string{"top"}},
		{name: "image env overrides path and unsets", cfg: container.Config{Cmd: []string{"x"}, Env: []string{"PATH=/x", "HOSTNAME", "A=b"}},
			args: []string{"x"}, env: []string{"PATH=/x", "A=b", "HOME=/root"}},
		{name: "tty adds TERM", cfg: container.Config{Cmd: []string{"x"}, Tty: true},
			args: []string{"x"}, env: []string{"PATH=" + DefaultPathEnv, "HOSTNAME=abc", "TERM=xterm", "HOME=/root"}},
		{name: "HOME kept", cfg: container.Config{Cmd: []string{"x"}, Env: []string{"HOME=/h"}},
			args: []string{"x"}, env: []string{"PATH=" + DefaultPathEnv, "HOSTNAME=abc", "HOME=/h"}},
		{name: "working dir", cfg: container.Config{Cmd: []string{"x"}, WorkingDir: "/srv"}, args: []string{"x"}, cwd: "/srv"},
		{name: "init", cfg: container.Config{Cmd: []string{"x", "y"}}, hc: container.HostConfig{Init: boolp(true)},
			initBin: "/usr/libexec/berth-init", args: []string{"/sbin/docker-init", "--", "x", "y"}},
		{name: "init off with host pid", cfg: container.Config{Cmd: []string{"x"}}, hc: container.HostConfig{Init: boolp(true), PidMode: "host"},
			initBin: "/usr/libexec/berth-init", args: []string{"x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t)
			o.Config, o.HostConfig, o.InitPath = &tc.cfg, &tc.hc, tc.initBin
			s := mustSpec(t, o)
			if !slices.Equal(s.Process.Args, tc.args) {
				t.Errorf("args = %q, want %q", s.Process.Args, tc.args)
			}
			if tc.env != nil && !slices.Equal(s.Process.Env, tc.env) {
				t.Errorf("env = %q, want %q", s.Process.Env, tc.env)
			}
			if tc.cwd != "" && s.Process.Cwd != tc.cwd {
				t.Errorf("cwd = %q, want %q", s.Process.Cwd, tc.cwd)
			}
			m := findMount(s, "/sbin/docker-init")
			wantInit := tc.args[0] == "/sbin/docker-init"
			if wantInit != (m != nil) || (m != nil && (m.Source != tc.initBin || !slices.Equal(m.Options, []string{"bind", "ro"}))) {
				t.Errorf("init mount = %+v, want present %v", m, wantInit)
			}
		})
	}
}

func TestSpecErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no command", func(o *Options) { o.Config.Cmd = nil }, "no command specified"},
		{"memory too low", func(o *Options) { o.HostConfig.Memory = 1024 }, "Minimum memory limit allowed is 6MB"},
		{"swap below memory", func(o *Options) { o.HostConfig.Memory, o.HostConfig.MemorySwap = 64<<20, 32<<20 },
			"Minimum memoryswap limit should be larger than memory limit, see usage"},
		{"too many cpus", func(o *Options) { o.HostConfig.NanoCPUs = 1e15 }, "range of CPUs is from 0.01 to"},
		{"cpus and period", func(o *Options) { o.HostConfig.NanoCPUs, o.HostConfig.CPUPeriod = 1e9, 5000 },
			"Conflicting options: Nano CPUs and CPU Period cannot both be set"},
		{"oom score", func(o *Options) { o.HostConfig.OomScoreAdj = 1001 }, "Invalid value 1001, range for oom score adj is [-1000, 1000]"},
		{"shm", func(o *Options) { o.HostConfig.ShmSize = -1 }, "SHM size can not be less than 0"},
		{"unknown cap", func(o *Options) { o.HostConfig.CapAdd = []string{"foo"} }, `unknown capability: "CAP_FOO"`},
		{"unknown user", func(o *Options) { o.Config.User = "bob" }, "unable to find user bob: no matching entries in passwd file"},
		{"unknown group", func(o *Options) { o.Config.User = "root:staff" }, "unable to find group staff: no matching entries in group file"},
		{"bad security opt", func(o *Options) { o.HostConfig.SecurityOpt = []string{"foo=bar"} }, `invalid --security-opt 2: "foo=bar"`},
		{"bad security opt form", func(o *Options) { o.HostConfig.SecurityOpt = []string{"foo"} }, `invalid --security-opt 1: "foo"`},
		{"bad seccomp json", func(o *Options) { o.HostConfig.SecurityOpt = []string{"seccomp={"} }, "Decoding seccomp profile failed"},
		{"bad ulimit", func(o *Options) { o.HostConfig.Ulimits = []*container.Ulimit{{Name: "bogus", Soft: 1, Hard: 1}} }, "invalid ulimit name bogus"},
		{"ulimit soft above hard", func(o *Options) { o.HostConfig.Ulimits = []*container.Ulimit{{Name: "nproc", Soft: 2, Hard: 1}} },
			"ulimit soft limit must be less than or equal to hard limit: 2 > 1"},
		{"bad ipc", func(o *Options) { o.HostConfig.IpcMode = "weird" }, "invalid IPC mode: weird"},
		{"bad device rule", func(o *Options) { o.HostConfig.DeviceCgroupRules = []string{"x 1:2 rwm"} }, "invalid device cgroup rule format: 'x 1:2 rwm'"},
		{"relative rootfs", func(o *Options) { o.Rootfs = "rootfs" }, `rootfs path "rootfs" must be absolute`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t)
			tc.edit(&o)
			_, err := Spec(o)
			if err == nil {
				t.Fatalf("Spec succeeded, want %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %q, want prefix %q", err, tc.want)
			}
			if !errdefs.IsInvalidArgument(err) || !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("error %q is not an invalid argument", err)
			}
		})
	}
}

func TestSpecNotImplementedModes(t *testing.T) {
	o := testOptions(t)
	o.HostConfig.PidMode = "container:other"
	if _, err := Spec(o); !errdefs.IsNotImplemented(err) {
		t.Errorf("error = %v, want not implemented", err)
	}
}
