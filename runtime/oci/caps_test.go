package oci

import (
	"slices"
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestTweakCapabilities(t *testing.T) {
	without := func(drop ...string) []string {
		return slices.DeleteFunc(DefaultCapabilities(), func(c string) bool { return slices.Contains(drop, c) })
	}
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
	}{
		{name: "defaults", want: DefaultCapabilities()},
		{name: "add without prefix, lower case", add: []string{"net_admin"}, want: append(DefaultCapabilities(), "CAP_NET_ADMIN")},
		{name: "add with prefix", add: []string{"CAP_SYS_PTRACE"}, want: append(DefaultCapabilities(), "CAP_SYS_PTRACE")},
		{name: "add existing is no-op", add: []string{"chown"}, want: DefaultCapabilities()},
		{name: "drop", drop: []string{"Cap_Chown", "kill"}, want: without("CAP_CHOWN", "CAP_KILL")},
		{name: "drop all add one", drop: []string{"ALL"}, add: []string{"chown"}, want: []string{"CAP_CHOWN"}},
		{name: "drop all", drop: []string{"all"}, want: nil},
		{name: "add all drop one", add: []string{"ALL"}, drop: []string{"SYS_ADMIN"},
			want: slices.DeleteFunc(slices.Clone(AllCapabilities()), func(c string) bool { return c == "CAP_SYS_ADMIN" })},
		{name: "privileged", privileged: true, drop: []string{"chown"}, want: AllCapabilities()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TweakCapabilities(DefaultCapabilities(), tc.add, tc.drop, tc.privileged)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestCapabilitiesInSpec(t *testing.T) {
	o := testOptions(t)
	o.HostConfig = &container.HostConfig{CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"MKNOD"}}
	s := mustSpec(t, o)
	c := s.Process.Capabilities
	for _, set := range [][]string{c.Bounding, c.Effective, c.Permitted} {
		if !slices.Contains(set, "CAP_NET_ADMIN") || slices.Contains(set, "CAP_MKNOD") {
			t.Errorf("caps set %v", set)
		}
	}
	if len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
		t.Errorf("inheritable %v ambient %v, want none", c.Inheritable, c.Ambient)
	}
}

func TestAllCapabilitiesKnown(t *testing.T) {
	all := AllCapabilities()
	if len(all) == 0 {
		t.Fatal("no capabilities available")
	}
	for _, c := range all {
		if !slices.Contains(knownCaps, c) {
			t.Errorf("unknown capability %s", c)
		}
	}
	for _, c := range DefaultCapabilities() {
		if !slices.Contains(all, c) {
			t.Errorf("default capability %s not available", c)
		}
	}
}
