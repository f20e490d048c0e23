package oci

import (
	"runtime"
	"strings"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// linuxMinMemory is Docker's minimum memory limit (6 MiB).
const linuxMinMemory = 6 * 1024 * 1024

// validateResources applies Docker's resource checks
// (verifyPlatformContainerResources) that do not depend on cgroup probing.
func validateResources(r *container.Resources) error {
	if r.Memory != 0 && r.Memory < linuxMinMemory {
		return invalidf("Minimum memory limit allowed is 6MB")
	}
	if r.Memory > 0 && r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		return invalidf("Minimum memoryswap limit should be larger than memory limit, see usage")
	}
	if r.Memory == 0 && r.MemorySwap > 0 {
		return invalidf("You should always set the Memory limit when using Memoryswap limit, see usage")
	}
	if s := r.MemorySwappiness; s != nil && *s != -1 && (*s < 0 || *s > 100) {
		return invalidf("Invalid value: %v, valid memory swappiness range is 0-100", *s)
	}
	if r.MemoryReservation > 0 && r.MemoryReservation < linuxMinMemory {
		return invalidf("Minimum memory reservation allowed is 6MB")
	}
	if r.Memory > 0 && r.MemoryReservation > 0 && r.Memory < r.MemoryReservation {
		return invalidf("Minimum memory limit can not be less than memory reservation limit, see usage")
	}
	if r.NanoCPUs > 0 && r.CPUPeriod > 0 {
		return invalidf("Conflicting options: Nano CPUs and CPU Period cannot both be set")
	}
	if r.NanoCPUs > 0 && r.CPUQuota > 0 {
		return invalidf("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
	}
	if nc := runtime.NumCPU(); r.NanoCPUs < 0 || r.NanoCPUs > int64(nc)*1e9 {
		return invalidf("range of CPUs is from 0.01 to %[1]d.00, as there are only %[1]d CPUs available", nc)
	}
	if r.CPUShares < 0 {
		return invalidf("invalid CPU shares (%d): value must be a positive integer", r.CPUShares)
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000) {
		return invalidf("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
	}
	if r.CPUQuota > 0 && r.CPUQuota < 1000 {
		return invalidf("CPU cfs quota can not be less than 1ms (i.e. 1000)")
	}
	if r.BlkioWeight > 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000) {
		return invalidf("Range of blkio weight is from 10 to 1000")
	}
	return nil
}

// LinuxResources converts resources for a runtime's update: only the
// limits that are set.
func LinuxResources(r container.Resources) (*specs.LinuxResources, error) {
	if err := validateResources(&r); err != nil {
		return nil, err
	}
	res := &specs.LinuxResources{}
	linuxResources(r, res)
	return res, nil
}

// linuxResources converts Docker's resources to the spec's (Docker's
// getMemoryResources, getCPUResources, getPidsLimit and blkio weight).
func linuxResources(r container.Resources, res *specs.LinuxResources) {
	var mem specs.LinuxMemory
	if r.Memory > 0 {
		mem.Limit = &r.Memory
		swap := r.MemorySwap
		if swap == 0 {
			swap = 2 * r.Memory // Docker's default: swap equal to memory
		}
		if swap > 0 {
			mem.Swap = &swap
		}
	}
	if r.MemoryReservation > 0 {
		mem.Reservation = &r.MemoryReservation
	}
	if r.MemorySwappiness != nil && *r.MemorySwappiness != -1 {
		s := uint64(*r.MemorySwappiness)
		mem.Swappiness = &s
	}
	if r.OomKillDisable != nil {
		mem.DisableOOMKiller = r.OomKillDisable
	}
	if mem != (specs.LinuxMemory{}) {
		res.Memory = &mem
	}

	var cpu specs.LinuxCPU
	if r.CPUShares > 0 {
		s := uint64(r.CPUShares)
		cpu.Shares = &s
	}
	cpu.Cpus, cpu.Mems = r.CpusetCpus, r.CpusetMems
	if r.NanoCPUs > 0 {
		period := uint64(100000) // 100ms in µs, as Docker
		quota := r.NanoCPUs * int64(period) / 1e9
		cpu.Period, cpu.Quota = &period, &quota
	}
	if r.CPUPeriod != 0 {
		p := uint64(r.CPUPeriod)
		cpu.Period = &p
	}
	if r.CPUQuota != 0 {
		q := r.CPUQuota
		cpu.Quota = &q
	}
	if r.CPURealtimePeriod != 0 {
		p := uint64(r.CPURealtimePeriod)
		cpu.RealtimePeriod = &p
	}
	if r.CPURealtimeRuntime != 0 {
		rt := r.CPURealtimeRuntime
		cpu.RealtimeRuntime = &rt
	}
	if cpu != (specs.LinuxCPU{}) {
		res.CPU = &cpu
	}

	if r.PidsLimit != nil {
		limit := *r.PidsLimit
		if limit <= 0 {
			limit = -1 // 0 and negative mean unlimited in Docker's API
		}
		res.Pids = &specs.LinuxPids{Limit: &limit}
	}
	if r.BlkioWeight != 0 {
		w := r.BlkioWeight
		res.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
}

// hostNofileHard returns this process's hard RLIMIT_NOFILE: a container
// cannot be given more without CAP_SYS_RESOURCE, which this host may lack.
func hostNofileHard() uint64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return ^uint64(0)
	}
	return rl.Max
}

// rlimits converts --ulimit values to spec rlimits, clamping RLIMIT_NOFILE
// to the host's hard limit.
func rlimits(ulimits []*container.Ulimit) ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	for _, ul := range ulimits {
		if ul == nil {
			continue
		}
		if _, err := ul.GetRlimit(); err != nil {
			return nil, invalid(err)
		}
		if ul.Soft > ul.Hard {
			return nil, invalidf("ulimit soft limit must be less than or equal to hard limit: %d > %d", ul.Soft, ul.Hard)
		}
		rl := specs.POSIXRlimit{
			Type: "RLIMIT_" + strings.ToUpper(ul.Name),
			Soft: uint64(ul.Soft),
			Hard: uint64(ul.Hard),
		}
		if rl.Type == "RLIMIT_NOFILE" {
			max := hostNofileHard()
			rl.Hard = min(rl.Hard, max)
			rl.Soft = min(rl.Soft, rl.Hard)
		}
		out = append(out, rl)
	}
	return out, nil
}

// validateOOMScoreAdj applies Docker's range check.
func validateOOMScoreAdj(v int) error {
	if v < -1000 || v > 1000 {
		return invalidf("Invalid value %d, range for oom score adj is [-1000, 1000]", v)
	}
	return nil
}
