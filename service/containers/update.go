package containers

import (
	"fmt"

	"github.com/berth-project/berth/runtime/oci"
	"github.com/berth-project/berth/service/containers/runconfig"
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
	if err := runconfig.MergeUpdate(&hc, u); err != nil {
		return nil, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
	}
	if c.running() {
		res, err := oci.LinuxResources(runconfig.UpdatedOnly(hc.Resources, u.Resources))
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
