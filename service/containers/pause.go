package containers

import (
	"fmt"

	"github.com/berth-project/berth/service/containers/cgroups"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// freeze freezes (or thaws) the container's processes through its cgroup.
func (s *Service) freeze(c *Container, frozen bool) error {
	return cgroups.Freeze(s.cgroupPath(c), c.ID, frozen)
}

// Pause freezes every process of a running container.
func (s *Service) Pause(ref string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.running():
		return fmt.Errorf("Container %s is not running: %w", c.ID, errdefs.ErrConflict)
	case c.State.Status == container.StatePaused:
		return fmt.Errorf("Container %s is already paused: %w", c.ID, errdefs.ErrConflict)
	}
	if err := s.freeze(c, true); err != nil {
		_ = s.freeze(c, false)
		return fmt.Errorf("Cannot pause container %s: %w", c.ID, err)
	}
	c.State.Status = container.StatePaused
	_ = s.save(c)
	c.notify()
	s.publish(c, "pause", nil)
	return nil
}

// Unpause thaws a paused container.
func (s *Service) Unpause(ref string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.State.Status != container.StatePaused {
		return fmt.Errorf("Container %s is not paused: %w", c.ID, errdefs.ErrConflict)
	}
	if err := s.freeze(c, false); err != nil {
		return fmt.Errorf("Cannot unpause container %s: %w", c.ID, err)
	}
	c.State.Status = container.StateRunning
	_ = s.save(c)
	c.notify()
	s.publish(c, "unpause", nil)
	return nil
}

// thawForKill lets a SIGKILL reach a paused container (frozen tasks only
// die once thawed); callers hold c.mu.
func (s *Service) thawForKill(c *Container) {
	if c.State.Status == container.StatePaused {
		_ = s.freeze(c, false)
	}
}
