package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/berth-project/berth/runtime/monitor"
	"github.com/berth-project/berth/runtime/runc"
)

type stdio struct {
	in, out, err *os.File // child ends, given to the runtime
	outR, errR   *os.File // our read ends
	console      *runc.ConsoleSocket
	consoleCh    chan consoleResult
}

type consoleResult struct {
	f   *os.File
	err error
}

func (m *monitorState) setupIO() (*stdio, error) {
	s := &stdio{}
	if m.o.tty {
		cs, err := runc.NewConsoleSocket(filepath.Join(m.o.bundle, "console.sock"))
		if err != nil {
			return nil, err
		}
		s.console = cs
		s.consoleCh = make(chan consoleResult, 1)
		go func() {
			f, err := cs.Receive()
			s.consoleCh <- consoleResult{f, err}
		}()
		return s, nil
	}
	var err error
	if s.outR, s.out, err = os.Pipe(); err != nil {
		return nil, err
	}
	if s.errR, s.err, err = os.Pipe(); err != nil {
		return nil, err
	}
	if m.o.stdin {
		var r *os.File
		if r, m.stdinW, err = os.Pipe(); err != nil {
			return nil, err
		}
		s.in = r
	}
	return s, nil
}

func (s *stdio) consoleSocket() string {
	if s.console == nil {
		return ""
	}
	return s.console.Path
}

func (s *stdio) closeChildEnds() {
	for _, f := range []*os.File{s.in, s.out, s.err} {
		if f != nil {
			f.Close()
		}
	}
}

func (s *stdio) receiveConsole(m *monitorState) error {
	if s.console == nil {
		return nil
	}
	defer s.console.Close()
	select {
	case r := <-s.consoleCh:
		if r.err != nil {
			return fmt.Errorf("receive console: %w", r.err)
		}
		m.console, m.stdinW = r.f, r.f
		s.outR = r.f
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("receive console: timed out")
	}
}

// startCopy forwards the container's output to the log and to clients.
func (m *monitorState) startCopy(s *stdio) *sync.WaitGroup {
	var wg sync.WaitGroup
	pump := func(r *os.File, typ byte, stream string) {
		defer wg.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				chunk := append([]byte(nil), buf[:n]...)
				m.broadcast(typ, chunk)
				if m.log != nil {
					m.log.write(stream, chunk)
				}
			}
			if err != nil { // EOF, or EIO on a terminal whose slave side closed
				if m.log != nil {
					m.log.flush(stream)
				}
				return
			}
		}
	}
	if s.outR != nil {
		wg.Add(1)
		go pump(s.outR, monitor.Stdout, "stdout")
	}
	if s.errR != nil {
		wg.Add(1)
		go pump(s.errR, monitor.Stderr, "stderr")
	}
	return &wg
}

// jsonLog writes Docker's json-file log format: one JSON object per line of
// output, with the stream name and an RFC 3339 nano timestamp.
type jsonLog struct {
	mu      sync.Mutex
	f       *os.File
	partial map[string][]byte
}

type logEntry struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

const maxLine = 16 * 1024

func (l *jsonLog) write(stream string, p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.partial == nil {
		l.partial = map[string][]byte{}
	}
	buf := append(l.partial[stream], p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			if len(buf) >= maxLine {
				l.emit(stream, buf[:maxLine])
				buf = buf[maxLine:]
				continue
			}
			break
		}
		l.emit(stream, buf[:i+1])
		buf = buf[i+1:]
	}
	l.partial[stream] = append([]byte(nil), buf...)
}

func (l *jsonLog) flush(stream string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.partial[stream]; len(p) > 0 {
		l.emit(stream, p)
		l.partial[stream] = nil
	}
}

func (l *jsonLog) emit(stream string, line []byte) {
	b, _ := json.Marshal(logEntry{Log: string(line), Stream: stream, Time: time.Now().UTC().Format(time.RFC3339Nano)})
	_, _ = l.f.Write(append(b, '\n'))
}
