package containers

// Restart policies: restartmanager decides, this file keeps the state
// (count, back-off, timer) on the container and runs the restarts.

import (
	"fmt"
	"os"
	"time"

	"github.com/berth-project/berth/service/containers/restartmanager"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// scheduleRestart applies c's restart policy to the exit just recorded and,
// if it says so, marks c restarting and starts it after the back-off.
// Callers hold c.mu.
func (s *Service) scheduleRestart(c *Container, exitCode int) bool {
	if c.removing || c.removed || c.HostConfig.AutoRemove {
		return false
	}
	ran := c.State.FinishedAt.Sub(c.State.StartedAt)
	d := restartmanager.Decide(c.HostConfig.RestartPolicy, restartmanager.Exit{Code: exitCode, StoppedByUser: c.State.StoppedByUser,
		Count: c.policyRestarts, Backoff: c.backoff, Ran: ran})
	c.backoff = d.Backoff
	if !d.Restart {
		return false
	}
	c.policyRestarts++
	c.RestartCount++
	c.State.Status = container.StateRestarting
	c.restartTimer = time.AfterFunc(d.Delay, func() { s.policyRestart(c) })
	return true
}

// policyRestart starts a container whose back-off has passed.
func (s *Service) policyRestart(c *Container) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.State.Status != container.StateRestarting || c.removing || c.removed {
		return
	}
	c.restartTimer = nil
	if err := s.startLocked(c); err != nil {
		fmt.Fprintf(os.Stderr, "berthd: restart %s: %v\n", c.ID, err)
		c.State.Status = container.StateExited
		c.State.FinishedAt = time.Now().UTC()
		c.recordExit()
		_ = s.save(c)
		c.notify()
	}
}

// cancelRestart ends a pending policy restart, leaving c exited. It
// reports whether one was pending. Callers hold c.mu.
func (s *Service) cancelRestart(c *Container) bool {
	if c.State.Status != container.StateRestarting {
		return false
	}
	if c.restartTimer != nil {
		c.restartTimer.Stop()
		c.restartTimer = nil
	}
	c.State.Status = container.StateExited
	_ = s.save(c)
	c.notify()
	return true
}

// resetRestarts is what a manual start does to the restart bookkeeping.
// Callers hold c.mu.
func (c *Container) resetRestarts() {
	c.policyRestarts, c.backoff, c.RestartCount = 0, 0, 0
	c.State.StoppedByUser = false
}

// errRestarting is Docker's refusal for operations on a restarting container.
func errRestarting(id string) error {
	return fmt.Errorf("Container %s is restarting, wait until the container is running: %w", id, errdefs.ErrConflict)
}

// restartOnBoot starts, in the background, the containers Docker's daemon
// would start at boot: those the policy brings back and those that were
// waiting out a back-off when the daemon stopped.
func (s *Service) restartOnBoot() {
	for _, c := range s.all() {
		c.mu.Lock()
		pending := c.State.Status == container.StateRestarting
		boot := !c.running() && !pending && c.State.Status != container.StateCreated &&
			restartmanager.AtBoot(c.HostConfig.RestartPolicy, c.State.ExitCode, c.State.StoppedByUser, c.policyRestarts)
		if boot {
			c.State.Status = container.StateRestarting
		}
		c.mu.Unlock()
		if pending || boot {
			go s.policyRestart(c)
		}
	}
}
