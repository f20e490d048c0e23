package cgroups

import "testing"

func TestPath(t *testing.T) {
	for _, tc := range []struct{ daemon, own, id, want string }{
		{"berth", "", "abc", "/berth/abc"},
		{"/berth", "", "abc", "/berth/abc"},
		{"berth", "/custom/parent", "abc", "/custom/parent/abc"},
		{"", "", "abc", "/abc"},
	} {
		if got := Path(tc.daemon, tc.own, tc.id); got != tc.want {
			t.Errorf("Path(%q, %q, %q) = %q, want %q", tc.daemon, tc.own, tc.id, got, tc.want)
		}
	}
}

func TestFreezeMissing(t *testing.T) {
	// no such cgroup: neither hierarchy has its files
	if err := Freeze("/berth-test-no-such-cgroup/x", "x", true); err == nil {
		t.Error("Freeze of a missing cgroup succeeded")
	}
}
