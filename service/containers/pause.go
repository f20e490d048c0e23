package containers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// freeze freezes (or thaws) the container's processes through its cgroup:
// the v1 freezer hierarchy, or cgroup.freeze on v2.
func (s *Service) freeze(c *Container, frozen bool) error {
	cg := s.cgroupPath(c)
	v1 := filepath.Join("/sys/fs/cgroup/freezer", cg, "freezer.state")
	if _, err := os.Stat(v1); err == nil {
		want := "THAWED"
		if frozen {
			want = "FROZEN"
		}
		if err := os.WriteFile(v1, []byte(want), 0o644); err != nil {
			return err
		}
		// FREEZING until every task has stopped
		for i := 0; i < 1000; i++ {
			b, err := os.ReadFile(v1)
			if err != nil {
				return err
			}
			if strings.TrimSpace(string(b)) == want {
				return nil
			}
			time.Sleep(time.Millisecond)
		}
		return fmt.Errorf("container %s did not reach %s", c.ID, want)
	}
	v2 := filepath.Join("/sys/fs/cgroup", cg, "cgroup.freeze")
	val := "0"
	if frozen {
		val = "1"
	}
	if err := os.WriteFile(v2, []byte(val), 0o644); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no freezer for container %s: %w", c.ID, errdefs.ErrNotImplemented)
		}
		return err
	}
	return nil
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
