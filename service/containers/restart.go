package containers

import (
	"fmt"
	"os"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// Docker's restart back-off: the first restart waits 100 ms, each further
// one twice as long up to a minute, and a run of 10 s or more resets it.
const (
	backoffStart = 100 * time.Millisecond
	backoffMax   = time.Minute
	backoffReset = 10 * time.Second
)

// restartDecision is what a restart policy says about one exit.
type restartDecision struct {
	restart bool
	delay   time.Duration // the back-off before the restart
	backoff time.Duration // the back-off to remember for the next exit
}

// decideRestart applies Docker's restart manager rules. count is the
// number of policy restarts since the last manual start, prev the last
// back-off, ran how long the exited run lasted.
func decideRestart(p container.RestartPolicy, exitCode int, stoppedByUser bool, count int, prev, ran time.Duration) restartDecision {
	if p.Name == "" || p.Name == container.RestartPolicyDisabled {
		return restartDecision{}
	}
	next := prev
	if ran >= backoffReset {
		next = 0
	}
	switch {
	case next == 0:
		next = backoffStart
	case next < backoffMax:
		next *= 2
	}
	if next > backoffMax {
		next = backoffMax
	}
	// A stop or kill by the user wins over every policy (Docker cancels
	// the restart manager); "always" comes back at the next daemon start.
	restart := false
	switch p.Name {
	case container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		restart = !stoppedByUser
	case container.RestartPolicyOnFailure:
		restart = !stoppedByUser && exitCode != 0 && (p.MaximumRetryCount == 0 || count < p.MaximumRetryCount)
	}
	if !restart {
		return restartDecision{backoff: next}
	}
	return restartDecision{restart: true, delay: next, backoff: next}
}

// restartAtBoot is Docker's rule for containers that are not running when
// the daemon starts: "always" ones come back even after a manual stop,
// "unless-stopped" ones only if nobody stopped them, "on-failure" ones if
// they failed and have retries left.
func restartAtBoot(p container.RestartPolicy, st State, count int) bool {
	switch p.Name {
	case container.RestartPolicyAlways:
		return true
	case container.RestartPolicyUnlessStopped:
		return !st.StoppedByUser
	case container.RestartPolicyOnFailure:
		return !st.StoppedByUser && st.ExitCode != 0 && (p.MaximumRetryCount == 0 || count < p.MaximumRetryCount)
	}
	return false
}

// scheduleRestart applies c's restart policy to the exit just recorded and,
// if it says so, marks c restarting and starts it after the back-off.
// Callers hold c.mu.
func (s *Service) scheduleRestart(c *Container, exitCode int) bool {
	if c.removing || c.removed || c.HostConfig.AutoRemove {
		return false
	}
	ran := c.State.FinishedAt.Sub(c.State.StartedAt)
	d := decideRestart(c.HostConfig.RestartPolicy, exitCode, c.State.StoppedByUser, c.policyRestarts, c.backoff, ran)
	c.backoff = d.backoff
	if !d.restart {
		return false
	}
	c.policyRestarts++
	c.RestartCount++
	c.State.Status = container.StateRestarting
	c.restartTimer = time.AfterFunc(d.delay, func() { s.policyRestart(c) })
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
		c.exits++
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
			restartAtBoot(c.HostConfig.RestartPolicy, c.State, c.policyRestarts)
		if boot {
			c.State.Status = container.StateRestarting
		}
		c.mu.Unlock()
		if pending || boot {
			go s.policyRestart(c)
		}
	}
}
