package containers

import (
	"fmt"

	"github.com/berth-project/berth/runtime/oci"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// Update changes a container's resource limits and restart policy, live
// when it runs (Docker's `update`). Only the fields set in u change.
func (s *Service) Update(ref string, u container.UpdateConfig) ([]string, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removing || c.removed {
		return nil, NotFound(ref)
	}
	hc := *c.HostConfig
	if err := mergeUpdate(&hc, u); err != nil {
		return nil, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
	}
	if c.running() {
		res, err := oci.LinuxResources(updatedOnly(hc.Resources, u.Resources))
		if err != nil {
			return nil, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
		}
		if err := s.runtimeOf(c).Update(c.ID, s.readSpec(c), res); err != nil {
			return nil, fmt.Errorf("Cannot update container %s: %w: %w", c.ID, err, errdefs.ErrUnknown)
		}
	} else if _, err := oci.LinuxResources(hc.Resources); err != nil {
		return nil, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
	}
	c.HostConfig = &hc
	if err := s.save(c); err != nil {
		return nil, err
	}
	s.publish(c, "update", nil)
	return nil, nil
}

// mergeUpdate applies u to hc with the daemon's rules (moby's
// container.UpdateContainer): zero values leave a setting alone.
func mergeUpdate(hc *container.HostConfig, u container.UpdateConfig) error {
	r, cur := u.Resources, &hc.Resources
	conflict := func(msg string) error { return fmt.Errorf("%s: %w", msg, errdefs.ErrInvalidArgument) }
	if r.NanoCPUs > 0 && cur.CPUPeriod > 0 {
		return conflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set")
	}
	if r.NanoCPUs > 0 && cur.CPUQuota > 0 {
		return conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set")
	}
	if r.CPUPeriod > 0 && cur.NanoCPUs > 0 {
		return conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
	}
	if r.CPUQuota > 0 && cur.NanoCPUs > 0 {
		return conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")
	}
	if r.BlkioWeight != 0 {
		cur.BlkioWeight = r.BlkioWeight
	}
	if r.CPUShares != 0 {
		cur.CPUShares = r.CPUShares
	}
	if r.NanoCPUs != 0 {
		cur.NanoCPUs = r.NanoCPUs
	}
	if r.CPUPeriod != 0 {
		cur.CPUPeriod = r.CPUPeriod
	}
	if r.CPUQuota != 0 {
		cur.CPUQuota = r.CPUQuota
	}
	if r.CpusetCpus != "" {
		cur.CpusetCpus = r.CpusetCpus
	}
	if r.CpusetMems != "" {
		cur.CpusetMems = r.CpusetMems
	}
	if r.Memory != 0 {
		// a memory limit above the swap limit already set needs the swap
		// limit updated too
		if cur.MemorySwap > 0 && r.Memory > cur.MemorySwap && r.MemorySwap == 0 {
			return conflict("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
		}
		cur.Memory = r.Memory
	}
	if r.MemorySwap != 0 {
		cur.MemorySwap = r.MemorySwap
	}
	if r.MemoryReservation != 0 {
		cur.MemoryReservation = r.MemoryReservation
	}
	if r.PidsLimit != nil {
		cur.PidsLimit = r.PidsLimit
	}
	if u.RestartPolicy.Name != "" {
		if err := container.ValidateRestartPolicy(u.RestartPolicy); err != nil {
			return conflict(err.Error())
		}
		if hc.AutoRemove && u.RestartPolicy.Name != container.RestartPolicyDisabled {
			return conflict("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		hc.RestartPolicy = u.RestartPolicy
	}
	return nil
}

// updatedOnly keeps, from the merged resources, the limits the update
// names, so a live update writes nothing else.
func updatedOnly(merged, u container.Resources) container.Resources {
	var out container.Resources
	if u.BlkioWeight != 0 {
		out.BlkioWeight = merged.BlkioWeight
	}
	if u.CPUShares != 0 {
		out.CPUShares = merged.CPUShares
	}
	if u.NanoCPUs != 0 {
		out.NanoCPUs = merged.NanoCPUs
	}
	if u.CPUPeriod != 0 || u.CPUQuota != 0 {
		out.CPUPeriod, out.CPUQuota = merged.CPUPeriod, merged.CPUQuota
	}
	out.CpusetCpus, out.CpusetMems = u.CpusetCpus, u.CpusetMems
	if u.Memory != 0 || u.MemorySwap != 0 {
		out.Memory, out.MemorySwap = merged.Memory, merged.MemorySwap
		if out.Memory > 0 && out.MemorySwap == 0 {
			out.MemorySwap = -1 // keep the swap limit as it is (unlimited when never set)
		}
	}
	if u.MemoryReservation != 0 {
		out.MemoryReservation = merged.MemoryReservation
	}
	if u.PidsLimit != nil {
		out.PidsLimit = merged.PidsLimit
	}
	return out
}
