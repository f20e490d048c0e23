// Package health is Docker's healthcheck monitor: the probe a container's
// HEALTHCHECK (or --health-*) describes with Docker's defaults, the rules
// that turn probe results into a status, and the loop that runs the probes.
// The containers service runs the probes as execs and stores the results;
// it reaches this package through the Target interface.
package health

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
)

// Docker's healthcheck defaults and limits.
const (
	DefaultInterval      = 30 * time.Second
	DefaultTimeout       = 30 * time.Second
	DefaultStartInterval = 5 * time.Second
	DefaultRetries       = 3
	MaxLog               = 5    // results kept in State.Health.Log
	MaxOutput            = 4096 // bytes of a probe's output kept
)

// Probe is a healthcheck with Docker's defaults applied.
type Probe struct {
	Cmd                            []string
	Interval, Timeout, StartPeriod time.Duration
	StartInterval                  time.Duration
	Retries                        int
}

// ProbeFor returns cfg's probe, nil when it has none (or disables it with
// NONE).
func ProbeFor(cfg *container.Config) *Probe {
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
	p := &Probe{
		Cmd: cmd, Interval: or(hc.Interval, DefaultInterval), Timeout: or(hc.Timeout, DefaultTimeout),
		StartPeriod: hc.StartPeriod, StartInterval: or(hc.StartInterval, DefaultStartInterval), Retries: hc.Retries,
	}
	if p.Retries <= 0 {
		p.Retries = DefaultRetries
	}
	return p
}

// Record adds one probe result to h the way Docker's health monitor does.
// Failures within the start period do not count while the container has
// not been healthy yet.
func Record(h *container.Health, r container.HealthcheckResult, retries int, inStartPeriod bool) {
	h.Log = append(h.Log, &r)
	if len(h.Log) > MaxLog {
		h.Log = append([]*container.HealthcheckResult{}, h.Log[len(h.Log)-MaxLog:]...)
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

// Target is the container a monitor probes.
type Target interface {
	// Started is when the container's current run began.
	Started() time.Time
	// Status is the container's state now (running, paused, …) and its
	// health status.
	Status() (container.ContainerState, container.HealthStatus)
	// Exec runs cmd in the container with out as stdout and stderr; closing
	// kill kills it.
	Exec(cmd []string, out io.Writer, kill <-chan struct{}) (exitCode int, err error)
	// Store records a result (with Record's rules) and reports the status
	// before and after; ok false means the monitor was replaced or the
	// container is gone, and the loop ends.
	Store(r container.HealthcheckResult, retries int, inStartPeriod bool) (before, after container.HealthStatus, ok bool)
}

// Run probes t until stop is closed or t stops running; changed is called
// when a result changes the health status.
func Run(p *Probe, t Target, stop <-chan struct{}, changed func(container.HealthStatus)) {
	next := func() time.Duration {
		if _, h := t.Status(); p.StartPeriod > 0 && h == container.Starting && time.Since(t.Started()) < p.StartPeriod {
			return p.StartInterval
		}
		return p.Interval
	}
	timer := time.NewTimer(next())
	defer timer.Stop()
	for {
		select {
		case <-stop:
			return
		case <-timer.C:
		}
		r, ok := probe(p, t, stop)
		if !ok {
			return
		}
		before, after, ok := t.Store(r, p.Retries, p.StartPeriod > 0 && r.Start.Sub(t.Started()) < p.StartPeriod)
		if !ok {
			return
		}
		if after != before && changed != nil {
			changed(after)
		}
		timer.Reset(next())
	}
}

// probe runs the command once, killed at the timeout; ok is false when the
// loop should end.
func probe(p *Probe, t Target, stop <-chan struct{}) (container.HealthcheckResult, bool) {
	r := container.HealthcheckResult{Start: time.Now()}
	switch state, _ := t.Status(); state {
	case container.StatePaused:
		// a frozen container cannot answer; Docker skips the probe too
		r.End, r.ExitCode, r.Output = time.Now(), -1, "container is paused"
		return r, true
	case container.StateRunning:
	default:
		return r, false
	}
	out := &Output{max: MaxOutput}
	kill := make(chan struct{})
	timer := time.AfterFunc(p.Timeout, func() { close(kill) })
	done := make(chan struct{})
	go func() {
		select {
		case <-stop:
			if timer.Stop() {
				close(kill)
			}
		case <-done:
		}
	}()
	code, err := t.Exec(p.Cmd, out, kill)
	close(done)
	timedOut := !timer.Stop()
	r.End = time.Now()
	switch {
	case timedOut:
		r.ExitCode, r.Output = -1, fmt.Sprintf("Health check exceeded timeout (%v)", p.Timeout)
	case err != nil:
		r.ExitCode, r.Output = -1, err.Error()
	default:
		r.ExitCode, r.Output = code, out.String()
	}
	return r, true
}

// Output keeps the first bytes written to it, up to its limit.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *Output) Write(p []byte) (int, error) {
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

func (b *Output) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Suffix is ps's health note: " (healthy)", " (health: starting)".
func Suffix(h *container.Health) string {
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

// Copy is a copy of h that shares nothing with it.
func Copy(h *container.Health) *container.Health {
	if h == nil {
		return nil
	}
	out := *h
	out.Log = append([]*container.HealthcheckResult{}, h.Log...)
	return &out
}
