package containers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/containerd/errdefs"
)

// LogsOptions are the parameters of GET /containers/{id}/logs.
type LogsOptions struct {
	Stdout, Stderr bool
	Since, Until   time.Time
	Tail           int // < 0: all
	Timestamps     bool
	Follow         bool
}

type logLine struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// Logs writes the container's json-file log to stdout and stderr.
func (s *Service) Logs(ctx context.Context, ref string, o LogsOptions, stdout, stderr io.Writer) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	if c.HostConfig.LogConfig.Type == "none" {
		return fmt.Errorf("configured logging driver does not support reading: %w", errdefs.ErrInvalidArgument)
	}
	f, err := os.Open(c.logPath())
	if errors.Is(err, os.ErrNotExist) {
		if !o.Follow {
			return nil
		}
		f, err = s.waitLogFile(ctx, c)
		if f == nil {
			return err
		}
	} else if err != nil {
		return err
	}
	defer f.Close()
	emit := func(l logLine) error {
		if (l.Stream == "stdout" && !o.Stdout) || (l.Stream == "stderr" && !o.Stderr) {
			return nil
		}
		if !o.Since.IsZero() && l.Time.Before(o.Since) {
			return nil
		}
		if !o.Until.IsZero() && l.Time.After(o.Until) {
			return nil
		}
		w := stdout
		if l.Stream == "stderr" {
			w = stderr
		}
		msg := l.Log
		if o.Timestamps {
			msg = l.Time.Format(time.RFC3339Nano) + " " + msg
		}
		_, err := io.WriteString(w, msg)
		return err
	}
	r := bufio.NewReaderSize(f, 64*1024)
	var pending []logLine
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var l logLine
			if json.Unmarshal(line, &l) == nil {
				pending = append(pending, l)
			}
		} else if len(line) > 0 {
			// a partial line being written: leave it for the follow loop
			if _, serr := f.Seek(-int64(len(line)), io.SeekCurrent); serr == nil {
				r.Reset(f)
			}
			break
		}
		if err != nil {
			break
		}
	}
	if o.Tail >= 0 && len(pending) > o.Tail {
		pending = pending[len(pending)-o.Tail:]
	}
	for _, l := range pending {
		if err := emit(l); err != nil {
			return err
		}
	}
	if !o.Follow {
		return nil
	}
	return s.followLog(ctx, c, r, emit, o.Until)
}

func (s *Service) waitLogFile(ctx context.Context, c *Container) (*os.File, error) {
	for {
		if f, err := os.Open(c.logPath()); err == nil {
			return f, nil
		}
		c.mu.Lock()
		gone := c.removed
		c.mu.Unlock()
		if gone {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// followLog streams new log lines until the container stops (its monitor
// has flushed the log by then) or the client goes away.
func (s *Service) followLog(ctx context.Context, c *Container, r *bufio.Reader, emit func(logLine) error, until time.Time) error {
	var partial []byte
	for {
		c.mu.Lock()
		stopped := !c.running() || c.removed
		c.mu.Unlock()
		for {
			line, err := r.ReadBytes('\n')
			partial = append(partial, line...)
			if err != nil {
				break
			}
			var l logLine
			if json.Unmarshal(partial, &l) == nil {
				if err := emit(l); err != nil {
					return nil
				}
			}
			partial = partial[:0]
		}
		if stopped {
			return nil
		}
		if !until.IsZero() && time.Now().After(until) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// copyLogs writes the whole log, for attach?logs=1.
func (s *Service) copyLogs(c *Container, stdout, stderr io.Writer) error {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	return s.Logs(context.Background(), c.ID, LogsOptions{Stdout: true, Stderr: true, Tail: -1}, stdout, stderr)
}
