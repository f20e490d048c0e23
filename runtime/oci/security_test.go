package oci

import (
	"slices"
	"testing"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const customSeccomp = `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod"],"action":"SCMP_ACT_ERRNO"}]}`

func TestSeccomp(t *testing.T) {
	tests := []struct {
		name       string
		opts       []string
		privileged bool
		want       specs.LinuxSeccompAction // "" means no filter
	}{
		{name: "default", want: specs.ActErrno},
		{name: "builtin", opts: []string{"seccomp=builtin"}, want: specs.ActErrno},
		{name: "unconfined", opts: []string{"seccomp=unconfined"}},
		{name: "unconfined with colon", opts: []string{"seccomp:unconfined"}},
		{name: "privileged", privileged: true},
		{name: "custom", opts: []string{"seccomp=" + customSeccomp}, want: specs.ActAllow},
		{name: "custom privileged", opts: []string{"seccomp=" + customSeccomp}, privileged: true, want: specs.ActAllow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t)
			o.HostConfig.SecurityOpt, o.HostConfig.Privileged = tc.opts, tc.privileged
			sc := mustSpec(t, o).Linux.Seccomp
			switch {
			case tc.want == "" && sc != nil:
				t.Errorf("seccomp = %v, want none", sc.DefaultAction)
			case tc.want != "" && (sc == nil || sc.DefaultAction != tc.want):
				t.Errorf("seccomp = %+v, want default action %s", sc, tc.want)
			}
		})
	}
}

// The default profile allows some syscalls only with the matching capability.
func TestSeccompFollowsCapabilities(t *testing.T) {
	allows := func(sc *specs.LinuxSeccomp, name string) bool {
		for _, s := range sc.Syscalls {
			if s.Action == specs.ActAllow && slices.Contains(s.Names, name) && len(s.Args) == 0 {
				return true
			}
		}
		return false
	}
	o := testOptions(t)
	plain := mustSpec(t, o).Linux.Seccomp
	if allows(plain, "mount") {
		t.Error("mount allowed without CAP_SYS_ADMIN")
	}
	// the same capabilities share one profile (memoized)
	if again := mustSpec(t, o).Linux.Seccomp; again != plain {
		t.Error("the default profile was built again for the same capabilities")
	}
	o.HostConfig.CapAdd = []string{"SYS_ADMIN"}
	if !allows(mustSpec(t, o).Linux.Seccomp, "mount") {
		t.Error("mount not allowed with CAP_SYS_ADMIN")
	}
	if allows(mustSpec(t, testOptions(t)).Linux.Seccomp, "mount") {
		t.Error("mount allowed without CAP_SYS_ADMIN after a container with it")
	}
}

func TestSecurityOpts(t *testing.T) {
	tests := []struct {
		opts []string
		nnp  bool
	}{
		{[]string{"no-new-privileges"}, true},
		{[]string{"no-new-privileges:true"}, true},
		{[]string{"no-new-privileges=true"}, true},
		{[]string{"no-new-privileges=false"}, false},
		{[]string{"apparmor=unconfined", "label=disable", "label:type:foo_t"}, false},
	}
	for _, tc := range tests {
		o := testOptions(t)
		o.HostConfig.SecurityOpt = tc.opts
		if got := mustSpec(t, o).Process.NoNewPrivileges; got != tc.nnp {
			t.Errorf("%v: no-new-privileges = %v, want %v", tc.opts, got, tc.nnp)
		}
	}
}

func TestPrivileged(t *testing.T) {
	o := testOptions(t)
	o.HostConfig = &container.HostConfig{Privileged: true}
	s := mustSpec(t, o)
	if !slices.Equal(s.Process.Capabilities.Bounding, AllCapabilities()) {
		t.Errorf("caps = %v", s.Process.Capabilities.Bounding)
	}
	if s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil || s.Linux.Seccomp != nil {
		t.Errorf("masked %v readonly %v seccomp %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, s.Linux.Seccomp != nil)
	}
	for _, dst := range []string{"/sys", "/sys/fs/cgroup"} {
		if m := findMount(s, dst); slices.Contains(m.Options, "ro") {
			t.Errorf("%s read-only: %v", dst, m.Options)
		}
	}
	rules := s.Linux.Resources.Devices
	if len(rules) != 1 || !rules[0].Allow || rules[0].Access != "rwm" {
		t.Errorf("device rules = %+v", rules)
	}
	var hasNull bool
	for _, d := range s.Linux.Devices {
		hasNull = hasNull || d.Path == "/dev/null"
	}
	if !hasNull {
		t.Errorf("host devices lack /dev/null: %d devices", len(s.Linux.Devices))
	}
}

func TestMaskedAndReadonlyOverride(t *testing.T) {
	o := testOptions(t)
	o.HostConfig.MaskedPaths = []string{"/proc/foo"}
	o.HostConfig.ReadonlyPaths = []string{}
	s := mustSpec(t, o)
	if !slices.Equal(s.Linux.MaskedPaths, []string{"/proc/foo"}) || len(s.Linux.ReadonlyPaths) != 0 {
		t.Errorf("masked %v readonly %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
}
