package container

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/moby/moby/client"
	"github.com/moby/term"
)

// ioStreamer moves data over a hijacked attach or exec connection, as
// docker's hijackedIOStreamer does.
type ioStreamer struct {
	in     io.ReadCloser // nil when stdin is not attached
	inFd   uintptr
	inTerm bool
	out    io.Writer
	errOut io.Writer
	resp   client.HijackedResponse
	tty    bool
	// detachKeys is the --detach-keys value ("" for ctrl-p,ctrl-q)
	detachKeys string
}

// defaultEscapeKeys is ctrl-p ctrl-q, docker's default detach sequence.
var defaultEscapeKeys = []byte{16, 17}

// stream copies until the output ends (or, with no output, stdin ends).
func (s *ioStreamer) stream(ctx context.Context) error {
	restore := s.setRaw()
	defer restore()

	outputDone := make(chan error, 1)
	go func() {
		var err error
		switch {
		case s.out == nil && s.errOut == nil:
			err = nil
		case s.tty:
			out := s.out
			if out == nil {
				out = io.Discard
			}
			_, err = io.Copy(out, s.resp.Reader)
		default:
			_, err = demux(s.out, s.errOut, s.resp.Reader)
		}
		// A TTY session's output ends when the process does; restore the terminal early.
		restore()
		outputDone <- err
	}()

	// With a terminal, the detach sequence ends the session here (the
	// daemon watches for it too) and the container keeps running.
	in := io.Reader(s.in)
	if s.in != nil && s.tty {
		keys := defaultEscapeKeys
		if s.detachKeys != "" {
			if k, err := term.ToBytes(s.detachKeys); err == nil {
				keys = k
			}
		}
		in = term.NewEscapeProxy(s.in, keys)
	}
	inputDone := make(chan struct{})
	detached := make(chan error, 1)
	go func() {
		if s.in != nil {
			if _, err := io.Copy(s.resp.Conn, in); err != nil {
				var esc term.EscapeError
				if errors.As(err, &esc) {
					detached <- esc
					return
				}
			}
		}
		_ = s.resp.CloseWrite()
		close(inputDone)
	}()

	select {
	case err := <-outputDone:
		return err
	case err := <-detached:
		restore()
		return err
	case <-inputDone:
		if s.out != nil || s.errOut != nil {
			select {
			case err := <-outputDone:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// setRaw puts the local terminal in raw mode for an interactive TTY session.
func (s *ioStreamer) setRaw() func() {
	if !s.tty || s.in == nil || !s.inTerm {
		return func() {}
	}
	state, err := term.SetRawTerminal(s.inFd)
	if err != nil {
		return func() {}
	}
	var once sync.Once
	return func() { once.Do(func() { _ = term.RestoreTerminal(s.inFd, state) }) }
}
