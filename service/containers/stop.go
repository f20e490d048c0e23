package containers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
)

// ParseSignal accepts "SIGTERM", "TERM", "term" or "15".
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("Invalid signal: %s: %w", s, errdefs.ErrInvalidArgument)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("Invalid signal: %s: %w", s, errdefs.ErrInvalidArgument)
}

// Kill sends a signal (default SIGKILL) to the container's init.
func (s *Service) Kill(ref, signal string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	sig := syscall.SIGKILL
	if signal != "" {
		if sig, err = ParseSignal(signal); err != nil {
			return err
		}
	}
	if err := s.deliver(c, ref, sig); err != nil {
		return err
	}
	if sig != syscall.SIGKILL {
		return nil
	}
	// As dockerd does, a SIGKILL returns once the exit is recorded, so
	// kill then inspect (or rm) sees a stopped container.
	ctx, cancel := context.WithTimeout(context.Background(), killWait)
	defer cancel()
	if _, err := s.waitNotRunning(ctx, c); err != nil {
		return fmt.Errorf("Cannot kill container: %s: tried to kill container, but did not receive an exit event: %w", ref, err)
	}
	return nil
}

// killWait bounds how long a SIGKILL waits for the exit (dockerd's 10 s).
const killWait = 10 * time.Second

// deliver sends sig to c's init.
func (s *Service) deliver(c *Container, ref string, sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.State.Status == container.StateRestarting {
		// the user's kill wins over the pending policy restart
		c.State.StoppedByUser = true
		s.cancelRestart(c)
		s.publish(c, "kill", map[string]string{"signal": strconv.Itoa(int(sig))})
		return nil
	}
	if !c.running() {
		return fmt.Errorf("Cannot kill container: %s: Container %s is not running: %w", ref, c.ID, errdefs.ErrConflict)
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM || sig == syscall.SIGINT {
		c.State.StoppedByUser = true
	}
	if err := unix.Kill(c.State.Pid, sig); err != nil && err != unix.ESRCH {
		return fmt.Errorf("Cannot kill container: %s: %w", ref, err)
	}
	if sig == syscall.SIGKILL {
		s.thawForKill(c)
	}
	s.publish(c, "kill", map[string]string{"signal": strconv.Itoa(int(sig))})
	return nil
}

// Stop sends the stop signal, waits up to the timeout (default 10 s, or the
// container's StopTimeout; -1 waits forever), then kills.
func (s *Service) Stop(ref string, timeout *int, signal string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.State.Status == container.StateRestarting {
		c.State.StoppedByUser = true
		s.cancelRestart(c)
		c.mu.Unlock()
		s.publish(c, "stop", nil)
		return nil
	}
	if !c.running() {
		c.mu.Unlock()
		return fmt.Errorf("container %s is already stopped: %w", ref, errdefs.ErrNotModified)
	}
	if signal == "" {
		signal = c.Config.StopSignal
	}
	wait := 10
	if c.Config.StopTimeout != nil {
		wait = *c.Config.StopTimeout
	}
	if timeout != nil {
		wait = *timeout
	}
	c.State.StoppedByUser = true
	c.mu.Unlock()
	sig := syscall.SIGTERM
	if signal != "" {
		if sig, err = ParseSignal(signal); err != nil {
			return err
		}
	}
	if err := s.signal(c, sig); err != nil {
		return err
	}
	ctx := context.Background()
	if wait >= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(wait)*time.Second)
		defer cancel()
	}
	if _, err := s.waitNotRunning(ctx, c); err == nil {
		s.publish(c, "stop", nil)
		return nil
	}
	if err := s.signal(c, syscall.SIGKILL); err != nil {
		return err
	}
	if _, err := s.waitNotRunning(context.Background(), c); err != nil {
		return err
	}
	s.publish(c, "stop", nil)
	return nil
}

func (s *Service) signal(c *Container, sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running() {
		return nil
	}
	if err := unix.Kill(c.State.Pid, sig); err != nil && err != unix.ESRCH {
		return fmt.Errorf("signal container %s: %w", c.ID, err)
	}
	if sig == syscall.SIGKILL {
		s.thawForKill(c)
	}
	s.publish(c, "kill", map[string]string{"signal": strconv.Itoa(int(sig))})
	return nil
}

// waitNotRunning blocks until c is not running.
func (s *Service) waitNotRunning(ctx context.Context, c *Container) (int, error) {
	for {
		c.mu.Lock()
		if !c.running() {
			code := c.State.ExitCode
			c.mu.Unlock()
			return code, nil
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Restart stops (if running) and starts the container.
func (s *Service) Restart(ref string, timeout *int, signal string) error {
	if c, err := s.Get(ref); err == nil {
		c.mu.Lock()
		c.restartingByUser = true
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.restartingByUser = false
			c.mu.Unlock()
		}()
	}
	if err := s.Stop(ref, timeout, signal); err != nil && !errdefs.IsNotModified(err) {
		return err
	}
	if err := s.Start(ref); err != nil && !errdefs.IsNotModified(err) {
		return err
	}
	c, _ := s.Get(ref)
	if c != nil {
		s.publish(c, "restart", nil)
	}
	return nil
}

// WaitResult is the answer of /wait.
type WaitResult struct {
	StatusCode int
	Error      string
}

// Wait blocks until the condition: "not-running" (default), "next-exit" or
// "removed". The caller has already flushed its response headers.
func (s *Service) Wait(ctx context.Context, ref string, condition container.WaitCondition) (WaitResult, error) {
	c, err := s.Get(ref)
	if err != nil {
		return WaitResult{}, err
	}
	c.mu.Lock()
	exits := c.exits
	c.mu.Unlock()
	for {
		c.mu.Lock()
		done := false
		switch condition {
		case container.WaitConditionRemoved:
			done = c.removed
		case container.WaitConditionNextExit:
			done = c.exits > exits
		default:
			// a restarting container counts as running (Docker's
			// State.Running), but its exit already woke waiters; so does
			// an exit a restart followed at once (the waiter may only see
			// the container running again)
			done = (!c.running() && c.State.Status != container.StateRestarting) || c.exits > exits
		}
		res := WaitResult{StatusCode: c.State.ExitCode, Error: c.State.Error}
		if c.exits > exits {
			res = c.lastExit // a restart may already have begun the next run
		}
		ch := c.changed
		c.mu.Unlock()
		if done {
			return res, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return WaitResult{}, ctx.Err()
		}
	}
}
