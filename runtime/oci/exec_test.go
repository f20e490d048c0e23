package oci

import (
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestExecProcess(t *testing.T) {
	o := testOptions(t)
	o.Rootfs = userRootfs(t)
	o.Config.Env = []string{"A=1"}
	o.Config.WorkingDir = "/srv"
	o.HostConfig.GroupAdd = []string{"staff"}
	base := mustSpec(t, o)
	origEnv := slices.Clone(base.Process.Env)

	tests := []struct {
		name  string
		cfg   ExecConfig
		check func(*testing.T, *specs.Process)
	}{
		{"inherits container process", ExecConfig{Cmd: []string{"ls", "-l"}}, func(t *testing.T, p *specs.Process) {
			if !slices.Equal(p.Args, []string{"ls", "-l"}) || p.Cwd != "/srv" || p.Terminal || p.User.UID != 0 {
				t.Errorf("process = %+v", p)
			}
			if !slices.Equal(p.Env, origEnv) || !slices.Equal(p.Capabilities.Bounding, DefaultCapabilities()) {
				t.Errorf("env %v caps %v", p.Env, p.Capabilities.Bounding)
			}
		}},
		{"env, tty, workdir", ExecConfig{Cmd: []string{"sh"}, Env: []string{"A=2", "B=3"}, Tty: true, WorkingDir: "/tmp", ConsoleSize: &[2]uint{24, 80}},
			func(t *testing.T, p *specs.Process) {
				want := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=abc", "A=2", "HOME=/root", "TERM=xterm", "B=3"}
				if !slices.Equal(p.Env, want) {
					t.Errorf("env = %v, want %v", p.Env, want)
				}
				if !p.Terminal || p.Cwd != "/tmp" || p.ConsoleSize == nil || p.ConsoleSize.Width != 80 {
					t.Errorf("process = %+v", p)
				}
			}},
		{"user", ExecConfig{Cmd: []string{"id"}, User: "alice", GroupAdd: []string{"staff"}}, func(t *testing.T, p *specs.Process) {
			if p.User.UID != 1000 || !slices.Equal(p.User.AdditionalGids, []uint32{1000, 10, 29, 50}) {
				t.Errorf("user = %+v", p.User)
			}
			if home, _ := lookupEnv(p.Env, "HOME"); home != "/home/alice" {
				t.Errorf("HOME = %q", home)
			}
		}},
		{"privileged", ExecConfig{Cmd: []string{"id"}, Privileged: true}, func(t *testing.T, p *specs.Process) {
			if !slices.Equal(p.Capabilities.Effective, AllCapabilities()) {
				t.Errorf("caps = %v", p.Capabilities.Effective)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ExecProcess(base, o.Rootfs, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p)
			if !slices.Equal(base.Process.Env, origEnv) || !slices.Equal(base.Process.Args, []string{"sh"}) {
				t.Errorf("base spec modified: %v %v", base.Process.Env, base.Process.Args)
			}
		})
	}

	if _, err := ExecProcess(base, o.Rootfs, ExecConfig{}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("empty cmd: %v", err)
	}
	if _, err := ExecProcess(base, o.Rootfs, ExecConfig{Cmd: []string{"x"}, User: "nobody"}); err == nil ||
		err.Error() != "unable to find user nobody: no matching entries in passwd file" || !errdefs.IsInvalidArgument(err) {
		t.Errorf("unknown user: %v", err)
	}
}
