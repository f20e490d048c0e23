package containers

import (
	"context"
	"encoding/json"
	"io"
	"strconv"

	"github.com/berth-project/berth/runtime/monitor"
	"github.com/berth-project/berth/service/containers/monitors"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/term"
)

// defaultDetachKeys is ctrl-p ctrl-q.
var defaultDetachKeys = []byte{16, 17}

// AttachOptions select the streams of an attach.
type AttachOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Stream         bool
	// Logs, if set, writes the container's log so far before the stream
	// (attach's logs=1; the logs service's Replay).
	Logs func(stdout, stderr io.Writer) error
	// DetachKeys end the attach, leaving the container running, when the
	// client types them on a terminal; nil means ctrl-p ctrl-q.
	DetachKeys []byte
	// Ready, if set, runs once the streams are registered and before any
	// output is written to them (the API writes its 101 response here, so
	// nothing the container prints after the client sees it is lost).
	Ready func() error
}

// Attach connects the client's streams to the container. It returns when
// the container exits, the client goes away (ctx), or, without Stream, after
// the logs are written.
func (s *Service) Attach(ctx context.Context, ref string, o AttachOptions) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	// The client is held while the response head and any logs are
	// written, so live output queues behind them.
	a := monitors.NewClient(o.Stdout, o.Stderr)
	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		a.Release()
		return NotFound(ref)
	}
	if o.Stream {
		c.attached[a] = struct{}{}
	}
	started := c.started
	stdinOnce, openStdin, tty := c.Config.StdinOnce, c.Config.OpenStdin, c.Config.Tty
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.attached, a)
		c.mu.Unlock()
	}()
	err = nil
	if o.Ready != nil {
		err = o.Ready()
	}
	if err == nil && o.Logs != nil {
		err = o.Logs(o.Stdout, o.Stderr)
	}
	a.Release()
	if err != nil || !o.Stream {
		return err
	}
	s.publish(c, eventtypes.ActionAttach, nil)
	if o.Stdin != nil && openStdin {
		in := o.Stdin
		if tty {
			// Docker watches for the detach sequence on terminals only
			keys := o.DetachKeys
			if len(keys) == 0 {
				keys = defaultDetachKeys
			}
			in = term.NewEscapeProxy(in, keys)
		}
		// at EOF the container's stdin closes if it was created with
		// StdinOnce; Docker never closes a terminal's stdin at EOF
		go monitors.ForwardStdin(started, a, in, stdinOnce && !tty,
			func(typ byte, p []byte) bool { return s.sendMonitor(c, typ, p) },
			func() { s.publish(c, "detach", nil) })
	}
	select {
	case <-a.Done():
	case <-ctx.Done():
	}
	return nil
}

func (s *Service) sendMonitor(c *Container, typ byte, p []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.monitor == nil {
		return false
	}
	return monitor.WriteFrame(c.monitor, typ, p) == nil
}

// Resize sets the container terminal's size.
func (s *Service) Resize(ref string, height, width uint16) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running := c.running()
	c.mu.Unlock()
	if !running {
		return errNotRunning(c.ID)
	}
	b, _ := json.Marshal(monitor.WindowSize{Height: height, Width: width})
	s.sendMonitor(c, monitor.Resize, b)
	s.publish(c, eventtypes.ActionResize, map[string]string{"height": strconv.Itoa(int(height)), "width": strconv.Itoa(int(width))})
	return nil
}
