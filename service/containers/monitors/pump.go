package monitors

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/berth-project/berth/internal/trace"
	"github.com/berth-project/berth/runtime/monitor"
	"github.com/moby/term"
)

// Pump forwards a running container's frames until it exits: output to
// out, then the exit (Lost's if the monitor dies without reporting) to
// exited, before conn is closed.
func Pump(conn net.Conn, exitFile string, out func(typ byte, p []byte), exited func(monitor.Exit)) {
	defer conn.Close()
	for {
		typ, payload, err := monitor.ReadFrame(conn)
		if err != nil {
			exited(Lost(exitFile))
			return
		}
		switch typ {
		case monitor.Stdout, monitor.Stderr:
			out(typ, payload)
		case monitor.Exited:
			trace.Mark("exit: exited frame read")
			var exit monitor.Exit
			_ = json.Unmarshal(payload, &exit)
			exited(exit)
			return
		}
	}
}

// Client is one client attached to a container's streams. It is held
// (Lock) from its creation until its response head and any logs are
// written, so live output queues behind them instead of being lost or
// reordered.
type Client struct {
	mu             sync.Mutex
	stdout, stderr io.Writer // nil: not wanted
	done           chan struct{}
	once           sync.Once
}

// NewClient returns a client of the streams it wants (nil: not wanted),
// held.
func NewClient(stdout, stderr io.Writer) *Client {
	a := &Client{stdout: stdout, stderr: stderr, done: make(chan struct{})}
	a.mu.Lock()
	return a
}

// Release lets output reach the client.
func (a *Client) Release() { a.mu.Unlock() }

// Write passes a frame's output to the client; a client that cannot
// take it gets no more.
func (a *Client) Write(typ byte, p []byte) {
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

// Finish ends the client's attach.
func (a *Client) Finish() { a.once.Do(func() { close(a.done) }) }

// Done is closed when the attach ends.
func (a *Client) Done() <-chan struct{} { return a.done }

// Clients are the clients attached to a container's streams; callers
// hold the container's lock.
type Clients map[*Client]struct{}

// Write passes output to every client.
func (cs Clients) Write(typ byte, p []byte) {
	for a := range cs {
		a.Write(typ, p)
	}
}

// Finish ends every client's attach.
func (cs Clients) Finish() {
	for a := range cs {
		a.Finish()
	}
}

// ForwardStdin copies a client's input to the container once it started,
// with send (false once the monitor is gone). At EOF it closes the
// container's stdin if closeAtEOF; the detach keys (a term.EscapeError
// from in) end the client's attach and call detached.
func ForwardStdin(started <-chan struct{}, a *Client, in io.Reader, closeAtEOF bool, send func(typ byte, p []byte) bool, detached func()) {
	select {
	case <-started:
	case <-a.done:
		return
	}
	buf := make([]byte, 32*1024)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if !send(monitor.Stdin, buf[:n]) {
				return
			}
		}
		if err != nil {
			var esc term.EscapeError
			if errors.As(err, &esc) {
				a.Finish()
				detached()
				return
			}
			if closeAtEOF {
				send(monitor.CloseStdin, nil)
			}
			return
		}
	}
}
