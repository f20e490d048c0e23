// Package logs reads a container's log for docker logs and attach's
// logs=1, following it while the container runs.
package logs

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/berth-project/berth/internal/logfile"
	"github.com/berth-project/berth/service/containers"
	"github.com/containerd/errdefs"
)

// Containers is what logs needs of the containers service.
type Containers interface {
	LogSource(ref string) (containers.LogSource, error)
	LogEnded(id string) bool
}

// Service reads containers' logs.
type Service struct {
	containers Containers
}

// New returns the service over cs.
func New(cs Containers) *Service { return &Service{containers: cs} }

// Options are the parameters of GET /containers/{id}/logs.
type Options struct {
	Stdout, Stderr bool
	Since, Until   time.Time
	Tail           int // < 0: all
	Timestamps     bool
	Follow         bool
}

// Logs writes the container's log to stdout and stderr.
func (s *Service) Logs(ctx context.Context, ref string, o Options, stdout, stderr io.Writer) error {
	src, err := s.containers.LogSource(ref)
	if err != nil {
		return err
	}
	driver, path := src.Driver, src.Path
	if driver == "none" {
		return fmt.Errorf("configured logging driver does not support reading: %w", errdefs.ErrInvalidArgument)
	}
	parse, err := logfile.ForFormat(driver)
	if err != nil {
		return fmt.Errorf("configured logging driver does not support reading: %w", errdefs.ErrInvalidArgument)
	}
	emit := func(l logfile.Entry) error {
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
		msg := l.Line
		if o.Timestamps {
			msg = append([]byte(l.Time.Format(time.RFC3339Nano)+" "), msg...)
		}
		_, err := w.Write(msg)
		return err
	}
	r := logfile.NewReader(path, parse)
	defer r.Close()
	if o.Tail < 0 {
		err = r.ReadAll(emit)
	} else {
		// keep the last Tail entries that pass the stream and time filters
		var ring []logfile.Entry
		err = r.ReadAll(func(l logfile.Entry) error {
			if (l.Stream == "stdout" && !o.Stdout) || (l.Stream == "stderr" && !o.Stderr) ||
				(!o.Since.IsZero() && l.Time.Before(o.Since)) || (!o.Until.IsZero() && l.Time.After(o.Until)) {
				return nil
			}
			if o.Tail == 0 {
				return nil
			}
			if len(ring) == o.Tail {
				ring = ring[1:]
			}
			ring = append(ring, l)
			return nil
		})
		for _, l := range ring {
			if err == nil {
				err = emit(l)
			}
		}
	}
	if err != nil || !o.Follow {
		return err
	}
	return s.follow(ctx, src.ID, r, emit, o.Until)
}

// follow streams new log lines while the container runs, including
// across restarts (a policy's back-off or `restart`), until it stops for
// good (its monitor has flushed the log by then) or the client goes away.
func (s *Service) follow(ctx context.Context, id string, r *logfile.Reader, emit func(logfile.Entry) error, until time.Time) error {
	for {
		stopped := s.containers.LogEnded(id)
		if err := r.Poll(emit); err != nil {
			return nil // the client went away, or the log is unreadable
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

// Replay writes ref's whole log, for attach?logs=1.
func (s *Service) Replay(ref string, stdout, stderr io.Writer) error {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	return s.Logs(context.Background(), ref, Options{Stdout: true, Stderr: true, Tail: -1}, stdout, stderr)
}
