package procs

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/service/containers"
	"github.com/moby/moby/api/types/container"
)

// Stats sends the container's resource usage to fn: once (stream false;
// precpu_stats from a sample taken half a second before) or every second
// until ctx ends or the container stops.
func (s *Service) Stats(ctx context.Context, ref string, stream bool, fn func(container.StatsResponse) error) error {
	p, err := s.containers.Process(ref)
	if err != nil {
		return err
	}
	interval := time.Second
	if !stream {
		interval = 500 * time.Millisecond
	}
	prev := sample(p)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
		if p, err = s.containers.Process(p.ID); err != nil {
			return nil // removed meanwhile
		}
		cur := sample(p)
		cur.PreCPUStats = prev.CPUStats
		if err := fn(cur); err != nil || !stream {
			return err
		}
		if !p.Running {
			return nil
		}
		prev = cur
	}
}

// sample reads the container's cgroup (v1 or v2) and network counters.
func sample(p containers.Process) container.StatsResponse {
	cg, pid := p.Cgroup, p.Pid
	st := container.StatsResponse{ID: p.ID, Name: p.Name, OSType: "linux", Read: time.Now().UTC()}
	if !p.Running {
		return st
	}
	num := func(p string) uint64 {
		b, err := os.ReadFile(p)
		if err != nil {
			return 0
		}
		v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		return v
	}
	kv := func(p string) map[string]uint64 {
		out := map[string]uint64{}
		f, err := os.Open(p)
		if err != nil {
			return out
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) == 2 {
				v, _ := strconv.ParseUint(fs[1], 10, 64)
				out[fs[0]] = v
			}
		}
		return out
	}
	v1 := func(ctrl, file string) string { return filepath.Join("/sys/fs/cgroup", ctrl, cg, file) }
	if _, err := os.Stat(v1("memory", "memory.usage_in_bytes")); err == nil {
		st.CPUStats.CPUUsage.TotalUsage = num(v1("cpuacct", "cpuacct.usage"))
		st.MemoryStats.Usage = num(v1("memory", "memory.usage_in_bytes"))
		st.MemoryStats.MaxUsage = num(v1("memory", "memory.max_usage_in_bytes"))
		st.MemoryStats.Limit = num(v1("memory", "memory.limit_in_bytes"))
		st.MemoryStats.Failcnt = num(v1("memory", "memory.failcnt"))
		st.MemoryStats.Stats = kv(v1("memory", "memory.stat"))
		st.PidsStats.Current = num(v1("pids", "pids.current"))
		st.PidsStats.Limit = num(v1("pids", "pids.max"))
		st.BlkioStats.IoServiceBytesRecursive = blkio(v1("blkio", "blkio.throttle.io_service_bytes"))
	} else {
		v2 := func(file string) string { return filepath.Join("/sys/fs/cgroup", cg, file) }
		st.CPUStats.CPUUsage.TotalUsage = kv(v2("cpu.stat"))["usage_usec"] * 1000
		st.MemoryStats.Usage = num(v2("memory.current"))
		st.MemoryStats.Limit = num(v2("memory.max"))
		st.MemoryStats.Stats = kv(v2("memory.stat"))
		st.PidsStats.Current = num(v2("pids.current"))
		st.PidsStats.Limit = num(v2("pids.max"))
	}
	if st.MemoryStats.Limit == 0 || st.MemoryStats.Limit > 1<<62 {
		st.MemoryStats.Limit = hostMemory()
	}
	st.CPUStats.SystemUsage = systemCPU()
	st.CPUStats.OnlineCPUs = uint32(runtime.NumCPU())
	st.Networks = netStats(pid)
	return st
}

// systemCPU is the host's CPU time in nanoseconds (/proc/stat, 100 Hz ticks).
func systemCPU() uint64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0
	}
	var total uint64
	for _, v := range strings.Fields(sc.Text())[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		total += n
	}
	return total * (1e9 / 100)
}

func hostMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) >= 2 && fs[0] == "MemTotal:" {
			kb, _ := strconv.ParseUint(fs[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// netStats reads the interfaces of the container's network namespace
// (its init's view of /proc/net/dev), loopback left out.
func netStats(pid int) map[string]container.NetworkStats {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/net/dev")
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]container.NetworkStats{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		name = strings.TrimSpace(name)
		if !ok || name == "lo" {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) < 16 {
			continue
		}
		u := func(i int) uint64 { v, _ := strconv.ParseUint(fs[i], 10, 64); return v }
		out[name] = container.NetworkStats{RxBytes: u(0), RxPackets: u(1), RxErrors: u(2), RxDropped: u(3),
			TxBytes: u(8), TxPackets: u(9), TxErrors: u(10), TxDropped: u(11)}
	}
	return out
}

func blkio(p string) []container.BlkioStatEntry {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []container.BlkioStatEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			continue
		}
		maj, min, _ := strings.Cut(fs[0], ":")
		a, _ := strconv.ParseUint(maj, 10, 64)
		b, _ := strconv.ParseUint(min, 10, 64)
		v, _ := strconv.ParseUint(fs[2], 10, 64)
		out = append(out, container.BlkioStatEntry{Major: a, Minor: b, Op: fs[1], Value: v})
	}
	return out
}
