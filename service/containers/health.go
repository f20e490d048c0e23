package containers

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/ids"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
)

// Docker's healthcheck defaults and limits.
const (
	defaultProbeInterval = 30 * time.Second
	defaultProbeTimeout  = 30 * time.Second
	defaultStartInterval = 5 * time.Second
	defaultProbeRetries  = 3
	maxHealthLog         = 5
	maxProbeOutput       = 4096
)

// healthProbe is a healthcheck with Docker's defaults applied; nil when
// the container has none (or has it disabled with NONE).
type healthProbe struct {
	cmd                            []string
	interval, timeout, startPeriod time.Duration
	startInterval                  time.Duration
	retries                        int
}

func probeFor(cfg *container.Config) *healthProbe {
	hc := cfg.Healthcheck
	if hc == nil || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		return nil
	}
	var cmd []string
	switch hc.Test[0] {
	case "CMD":
		cmd = hc.Test[1:]
	case "CMD-SHELL":
		shell := cfg.Shell
		if len(shell) == 0 {
			shell = []string{"/bin/sh", "-c"}
		}
		cmd = append(append([]string{}, shell...), hc.Test[1:]...)
	default:
		return nil
	}
	if len(cmd) == 0 {
		return nil
	}
	or := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	p := &healthProbe{
		cmd: cmd, interval: or(hc.Interval, defaultProbeInterval), timeout: or(hc.Timeout, defaultProbeTimeout),
		startPeriod: hc.StartPeriod, startInterval: or(hc.StartInterval, defaultStartInterval), retries: hc.Retries,
	}
	if p.retries <= 0 {
		p.retries = defaultProbeRetries
	}
	return p
}

// healthStep records one probe result the way Docker's health monitor
// does and returns the new status. Failures within the start period do
// not count while the container has not been healthy yet.
func healthStep(h *container.Health, r container.HealthcheckResult, retries int, inStartPeriod bool) {
	h.Log = append(h.Log, &r)
	if len(h.Log) > maxHealthLog {
		h.Log = append([]*container.HealthcheckResult{}, h.Log[len(h.Log)-maxHealthLog:]...)
	}
	if r.ExitCode == 0 {
		h.FailingStreak = 0
		h.Status = container.Healthy
		return
	}
	if inStartPeriod && h.Status == container.Starting {
		return
	}
	h.FailingStreak++
	if h.FailingStreak >= retries {
		h.Status = container.Unhealthy
	}
}

// startHealth starts c's healthcheck loop; fresh (a new run) resets the
// status to starting, a daemon restart keeps it. Callers hold c.mu.
func (s *Service) startHealth(c *Container, fresh bool) {
	p := probeFor(c.Config)
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
	go s.healthLoop(c, p, stop)
}

// stopHealth ends c's healthcheck loop. Callers hold c.mu.
func (s *Service) stopHealth(c *Container) {
	if c.health != nil {
		close(c.health)
		c.health = nil
	}
}

func (s *Service) healthLoop(c *Container, p *healthProbe, stop chan struct{}) {
	next := func() time.Duration {
		c.mu.Lock()
		defer c.mu.Unlock()
		if p.startPeriod > 0 && c.State.Health != nil && c.State.Health.Status == container.Starting &&
			time.Since(c.State.StartedAt) < p.startPeriod {
			return p.startInterval
		}
		return p.interval
	}
	t := time.NewTimer(next())
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		r, ok := s.probe(c, p, stop)
		if !ok {
			return
		}
		c.mu.Lock()
		if c.health != stop || c.State.Health == nil {
			c.mu.Unlock()
			return
		}
		before := c.State.Health.Status
		healthStep(c.State.Health, r, p.retries, p.startPeriod > 0 && r.Start.Sub(c.State.StartedAt) < p.startPeriod)
		after := c.State.Health.Status
		_ = s.save(c)
		c.mu.Unlock()
		if after != before {
			s.publish(c, eventtypes.Action("health_status: "+after), nil)
		}
		t.Reset(next())
	}
}

// probe runs the healthcheck command once, as an exec in the container
// that is killed at the timeout. ok is false when the loop should end.
func (s *Service) probe(c *Container, p *healthProbe, stop chan struct{}) (container.HealthcheckResult, bool) {
	c.mu.Lock()
	status, bundle, rootfs, pid := c.State.Status, c.bundle(), c.rootfs(), c.State.Pid
	c.mu.Unlock()
	r := container.HealthcheckResult{Start: time.Now()}
	if status == container.StatePaused {
		// a frozen container cannot answer; Docker skips the probe too
		r.End, r.ExitCode, r.Output = time.Now(), -1, "container is paused"
		return r, true
	}
	if status != container.StateRunning {
		return r, false
	}
	e := &execProcess{id: ids.New(), containerID: c.ID, cfg: container.ExecCreateRequest{
		Cmd: p.cmd, AttachStdout: true, AttachStderr: true, User: c.Config.User,
	}}
	out := &limitedBuffer{max: maxProbeOutput}
	kill := make(chan struct{})
	timer := time.AfterFunc(p.timeout, func() { close(kill) })
	done := make(chan struct{})
	go func() {
		select {
		case <-stop:
			timer.Stop()
			select {
			case <-kill:
			default:
				close(kill)
			}
		case <-done:
		}
	}()
	code, err := s.runExec(c, e, bundle, rootfs, pid, nil, ExecStartOptions{Stdout: out, Stderr: out, Kill: kill})
	close(done)
	timedOut := !timer.Stop()
	r.End = time.Now()
	switch {
	case timedOut:
		r.ExitCode, r.Output = -1, fmt.Sprintf("Health check exceeded timeout (%v)", p.timeout)
	case err != nil:
		r.ExitCode, r.Output = -1, err.Error()
	default:
		r.ExitCode, r.Output = code, out.String()
	}
	if code == 126 || code == 127 {
		fmt.Fprintf(os.Stderr, "berthd: healthcheck of %s: exit %d: %s\n", c.ID, code, out.String())
	}
	return r, true
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// healthSuffix is ps's health note: " (healthy)", " (health: starting)".
func healthSuffix(h *container.Health) string {
	if h == nil {
		return ""
	}
	switch h.Status {
	case container.Starting:
		return " (health: starting)"
	case container.Healthy, container.Unhealthy:
		return " (" + string(h.Status) + ")"
	}
	return ""
}

func copyHealth(h *container.Health) *container.Health {
	if h == nil {
		return nil
	}
	out := *h
	out.Log = append([]*container.HealthcheckResult{}, h.Log...)
	return &out
}
