package integration

import (
	"strings"
	"testing"
)

func TestCgroupLimitsAndOOM(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	out := must(t, d.berth("run", "--rm", "-m", "32m", "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0", "--pids-limit", "20",
		"busybox", "sh", "-c", `for f in memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.shares cpuset/cpuset.cpus pids/pids.max \
		memory.max cpu.max cpu.weight cpuset.cpus pids.max; do [ -f /sys/fs/cgroup/$f ] && echo "$f=$(cat /sys/fs/cgroup/$f)"; done; true`))
	for _, want := range [][]string{
		{"memory/memory.limit_in_bytes=33554432", "memory.max=33554432"},
		{"cpu/cpu.cfs_quota_us=50000", "cpu.max=50000 100000"},
		{"pids/pids.max=20", "pids.max=20"},
		{"cpuset/cpuset.cpus=0", "cpuset.cpus=0"},
	} {
		if !strings.Contains(out, want[0]) && !strings.Contains(out, want[1]) {
			t.Errorf("limit %v not applied:\n%s", want, out)
		}
	}
	r := d.berth("run", "--name", "hog", "-m", "16m", "--memory-swap", "16m", "busybox", "tail", "/dev/zero")
	if r.code != 137 {
		t.Fatalf("memory hog: %s", r)
	}
	if out := must(t, d.berth("inspect", "-f", "{{.State.OOMKilled}}", "hog")); out != "true" {
		t.Fatalf("OOMKilled = %q", out)
	}
	if r := d.berth("run", "--rm", "--pids-limit", "5", "busybox", "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait"); r.code == 0 {
		t.Fatalf("pids limit not enforced: %s", r)
	}
}
