package oci

import (
	"slices"
	"testing"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func i64p(v int64) *int64 { return &v }

func TestResources(t *testing.T) {
	o := testOptions(t)
	o.HostConfig.Resources = container.Resources{
		Memory:            64 << 20,
		MemoryReservation: 32 << 20,
		NanoCPUs:          1.5e9,
		CPUShares:         512,
		CpusetCpus:        "0",
		CpusetMems:        "0",
		PidsLimit:         i64p(100),
		BlkioWeight:       300,
		OomKillDisable:    boolp(true),
		MemorySwappiness:  i64p(10),
	}
	r := mustSpec(t, o).Linux.Resources
	m := r.Memory
	if m == nil || *m.Limit != 64<<20 || *m.Swap != 128<<20 || *m.Reservation != 32<<20 || !*m.DisableOOMKiller || *m.Swappiness != 10 {
		t.Errorf("memory = %+v", m)
	}
	c := r.CPU
	if c == nil || *c.Period != 100000 || *c.Quota != 150000 || *c.Shares != 512 || c.Cpus != "0" || c.Mems != "0" {
		t.Errorf("cpu = %+v", c)
	}
	if r.Pids == nil || *r.Pids.Limit != 100 {
		t.Errorf("pids = %+v", r.Pids)
	}
	if r.BlockIO == nil || *r.BlockIO.Weight != 300 {
		t.Errorf("blkio = %+v", r.BlockIO)
	}
}

func TestResourcesVariants(t *testing.T) {
	tests := []struct {
		name  string
		res   container.Resources
		check func(*testing.T, *specs.LinuxResources)
	}{
		{"none", container.Resources{}, func(t *testing.T, r *specs.LinuxResources) {
			if r.Memory != nil || r.CPU != nil || r.Pids != nil || r.BlockIO != nil {
				t.Errorf("resources = %+v", r)
			}
		}},
		{"unlimited swap", container.Resources{Memory: 64 << 20, MemorySwap: -1}, func(t *testing.T, r *specs.LinuxResources) {
			if r.Memory.Swap != nil {
				t.Errorf("swap = %d, want unset", *r.Memory.Swap)
			}
		}},
		{"explicit swap", container.Resources{Memory: 64 << 20, MemorySwap: 100 << 20}, func(t *testing.T, r *specs.LinuxResources) {
			if *r.Memory.Swap != 100<<20 {
				t.Errorf("swap = %d", *r.Memory.Swap)
			}
		}},
		{"pids unlimited", container.Resources{PidsLimit: i64p(0)}, func(t *testing.T, r *specs.LinuxResources) {
			if *r.Pids.Limit != -1 {
				t.Errorf("pids = %d", *r.Pids.Limit)
			}
		}},
		{"cpu period quota", container.Resources{CPUPeriod: 50000, CPUQuota: 25000}, func(t *testing.T, r *specs.LinuxResources) {
			if *r.CPU.Period != 50000 || *r.CPU.Quota != 25000 {
				t.Errorf("cpu = %+v", r.CPU)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t)
			o.HostConfig.Resources = tc.res
			tc.check(t, mustSpec(t, o).Linux.Resources)
		})
	}
}

func TestUlimits(t *testing.T) {
	hard := hostNofileHard()
	o := testOptions(t)
	o.HostConfig.Ulimits = []*container.Ulimit{
		{Name: "nofile", Soft: 1 << 30, Hard: 1 << 30},
		{Name: "nproc", Soft: 100, Hard: 200},
		{Name: "core", Soft: 0, Hard: 0},
	}
	got := mustSpec(t, o).Process.Rlimits
	want := []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: min(hard, 1<<30), Hard: min(hard, 1<<30)},
		{Type: "RLIMIT_NPROC", Soft: 100, Hard: 200},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("rlimits = %+v, want %+v", got, want)
	}
	if o := testOptions(t); mustSpec(t, o).Process.Rlimits != nil {
		t.Error("rlimits set without --ulimit")
	}
}

func TestSysctlsAndOOMScore(t *testing.T) {
	o := testOptions(t)
	o.Config.Domainname = "example.org"
	o.HostConfig.Sysctls = map[string]string{"net.core.somaxconn": "1024", "net.ipv4.ip_unprivileged_port_start": "1024"}
	o.HostConfig.OomScoreAdj = 500
	s := mustSpec(t, o)
	sc := s.Linux.Sysctl
	if sc["kernel.domainname"] != "example.org" || sc["net.core.somaxconn"] != "1024" {
		t.Errorf("sysctls = %v", sc)
	}
	if sysctlExists("net.ipv4.ip_unprivileged_port_start") && sc["net.ipv4.ip_unprivileged_port_start"] != "1024" {
		t.Errorf("user sysctl does not win: %v", sc)
	}
	if *s.Process.OOMScoreAdj != 500 {
		t.Errorf("oom score adj = %d", *s.Process.OOMScoreAdj)
	}
	o.HostConfig.NetworkMode = "host"
	o.HostConfig.Sysctls = nil
	s = mustSpec(t, o)
	if _, ok := s.Linux.Sysctl["net.ipv4.ping_group_range"]; ok {
		t.Error("network sysctls set for host network")
	}
	for _, n := range s.Linux.Namespaces {
		if n.Type == specs.NetworkNamespace {
			t.Error("network namespace with --network host")
		}
	}
}
