package containers

// Healthchecks: package health runs the probes and keeps Docker's rules;
// this file starts and stops a container's monitor and is its Target
// (probes run as execs, results are stored in State.Health).

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/berth-project/berth/service/containers/health"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
)

// startHealth starts c's healthcheck monitor; fresh (a new run) resets the
// status to starting, a daemon restart keeps it. Callers hold c.mu.
func (s *Service) startHealth(c *Container, fresh bool) {
	p := health.ProbeFor(c.Config)
	if p == nil {
		return
	}
	if c.State.Health == nil {
		c.State.Health = &container.Health{}
	}
	if fresh || c.State.Health.Status == "" {
		c.State.Health.Status, c.State.Health.FailingStreak = container.Starting, 0
	}
	stop := make(chan struct{})
	c.health = stop
	go health.Run(p, healthTarget{s, c, stop}, stop, func(st container.HealthStatus) {
		s.publish(c, eventtypes.Action("health_status: "+st), nil)
	})
}

// stopHealth ends c's healthcheck monitor. Callers hold c.mu.
func (s *Service) stopHealth(c *Container) {
	if c.health != nil {
		close(c.health)
		c.health = nil
	}
}

// healthTarget is a container as its health monitor sees it.
type healthTarget struct {
	s    *Service
	c    *Container
	stop chan struct{} // the monitor's; a newer one replaces it
}

func (t healthTarget) Started() time.Time {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.c.State.StartedAt
}

func (t healthTarget) Status() (container.ContainerState, container.HealthStatus) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	var h container.HealthStatus
	if t.c.State.Health != nil {
		h = t.c.State.Health.Status
	}
	return t.c.State.Status, h
}

// Exec runs a probe as an exec of the container's user.
func (t healthTarget) Exec(cmd []string, out io.Writer, kill <-chan struct{}) (int, error) {
	c := t.c
	c.mu.Lock()
	target, user := t.s.execTargetOf(c), c.Config.User
	c.mu.Unlock()
	if t.s.execer == nil {
		return 126, fmt.Errorf("container %s: no exec service for its healthcheck", c.ID)
	}
	spec, err := t.s.startSpec(c, target.Bundle)
	if err != nil {
		return 126, err
	}
	target.Spec = spec
	code, err := t.s.execer.Probe(target, cmd, user, out, kill)
	if code == 126 || code == 127 {
		fmt.Fprintf(os.Stderr, "berthd: healthcheck of %s: exit %d: %v\n", c.ID, code, out)
	}
	return code, err
}

func (t healthTarget) Store(r container.HealthcheckResult, retries int, inStartPeriod bool) (before, after container.HealthStatus, ok bool) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.health != t.stop || c.State.Health == nil {
		return "", "", false
	}
	before = c.State.Health.Status
	health.Record(c.State.Health, r, retries, inStartPeriod)
	_ = t.s.save(c)
	return before, c.State.Health.Status, true
}
