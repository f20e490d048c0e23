package containers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/berth-project/berth/runtime/monitor"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/term"
)

// defaultDetachKeys is ctrl-p ctrl-q.
var defaultDetachKeys = []byte{16, 17}

// attacher is one client attached to a container's streams.
type attacher struct {
	mu             sync.Mutex
	stdout, stderr io.Writer // nil: not wanted
	done           chan struct{}
	once           sync.Once
}

func (a *attacher) write(typ byte, p []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.stdout
	if typ == monitor.Stderr {
		w = a.stderr
	}
	if w != nil {
		if _, err := w.Write(p); err != nil {
			a.stdout, a.stderr = nil, nil
		}
	}
}

func (a *attacher) finish() { a.once.Do(func() { close(a.done) }) }

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
	a := &attacher{stdout: o.Stdout, stderr: o.Stderr, done: make(chan struct{})}
	// Hold the attacher while the response head and any logs are written,
	// so live output queues behind them instead of being lost or reordered.
	a.mu.Lock()
	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		a.mu.Unlock()
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
	a.mu.Unlock()
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
		go s.forwardStdin(c, started, a, in, stdinOnce && !tty) // Docker never closes a terminal's stdin at EOF
	}
	select {
	case <-a.done:
	case <-ctx.Done():
	}
	return nil
}

// forwardStdin copies client input to the container once it runs; at EOF it
// closes the container's stdin when the container was created with StdinOnce.
func (s *Service) forwardStdin(c *Container, started chan struct{}, a *attacher, in io.Reader, closeAtEOF bool) {
	select {
	case <-started:
	case <-a.done:
		return
	}
	buf := make([]byte, 32*1024)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if !s.sendMonitor(c, monitor.Stdin, buf[:n]) {
				return
			}
		}
		if err != nil {
			var esc term.EscapeError
			if errors.As(err, &esc) {
				a.finish()
				s.publish(c, "detach", nil)
				return
			}
			if closeAtEOF {
				s.sendMonitor(c, monitor.CloseStdin, nil)
			}
			return
		}
	}
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
