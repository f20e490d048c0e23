package images

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/berth-project/berth/api/httperr"
	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	"github.com/berth-project/berth/service/images/archive"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/jsonstream"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// saveAll is GET /images/get?names=a&names=b.
func (h handlers) saveAll(w http.ResponseWriter, r *http.Request) error {
	return h.save(w, r, r.URL.Query()["names"])
}

// save streams the archive. An error before the first byte is an HTTP
// error; after it, Docker appends a JSON error to the (then broken) tar.
func (h handlers) save(w http.ResponseWriter, r *http.Request, names []string) error {
	p, err := platformSince(r, "1.48")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	out := &startWriter{w: w}
	if err := h.a.Save(r.Context(), names, archive.SaveOptions{Platform: p}, out); err != nil {
		if !out.started {
			return err
		}
		_ = json.NewEncoder(w).Encode(errorMessage(err))
	}
	return nil
}

// startWriter records whether the response has begun.
type startWriter struct {
	w       io.Writer
	started bool
}

func (s *startWriter) Write(p []byte) (int, error) {
	s.started = true
	return s.w.Write(p)
}

// load is POST /images/load: the archive is the body; the answer is a
// JSON stream, errors included (always 200, as Docker).
func (h handlers) load(w http.ResponseWriter, r *http.Request) error {
	p, err := platformSince(r, "1.48")
	if err != nil {
		return err
	}
	// Docker's default is quiet; its clients always send the parameter.
	quiet := true
	if _, ok := r.URL.Query()["quiet"]; ok {
		quiet = httputil.Bool(r, "quiet")
	}
	// The body is read to the end before the first message; this keeps
	// it readable should a message come earlier.
	_ = http.NewResponseController(w).EnableFullDuplex()
	rep := &loadStream{w: w}
	if err := h.a.Load(r.Context(), r.Body, archive.LoadOptions{Quiet: quiet, Platform: p}, rep); err != nil {
		rep.send(errorMessage(err))
	}
	rep.start()
	// A tar ends before its body does (the padding after the end blocks).
	// In full-duplex mode net/http drains what is left only after the
	// handler, once it has stopped watching the connection; the drain then
	// starts a background read that races the next request's on a
	// kept-alive connection ("invalid concurrent Body.Read call"). Drain it
	// here instead.
	_, _ = io.Copy(io.Discard, r.Body)
	return nil
}

// streamError is Docker's error message in a JSON stream.
type streamError struct {
	Detail jsonstream.Error `json:"errorDetail"`
	Error  string           `json:"error"`
}

func errorMessage(err error) streamError {
	msg := httperr.Message(err)
	return streamError{Detail: jsonstream.Error{Message: msg}, Error: msg}
}

// loadStream sends load's messages, starting the 200 response with the first.
type loadStream struct {
	w http.ResponseWriter
	s *httputil.JSONStream
}

func (l *loadStream) start() {
	if l.s == nil {
		l.s = httputil.NewJSONStream(l.w)
	}
}

func (l *loadStream) send(v any) {
	l.start()
	_ = l.s.Send(v)
}

func (l *loadStream) Progress(id, action string, current, total int64) {
	l.send(jsonstream.Message{Status: action, ID: id, Progress: &jsonstream.Progress{Current: current, Total: total}})
}

func (l *loadStream) Line(msg string) {
	l.send(jsonstream.Message{Stream: msg + "\n"})
}

// platformSince reads the platform parameter of the APIs that take one
// JSON-encoded OCI platform (save and load from 1.48, push from 1.46).
// This store keeps one platform per image, as Docker's graph-driver
// store, so more than one is refused in Docker's words.
func platformSince(r *http.Request, version string) (*ocispec.Platform, error) {
	if server.CompareVersions(httputil.Version(r.Context()), version) < 0 {
		return nil, nil
	}
	vals := r.URL.Query()["platform"]
	switch len(vals) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, errdefs.ErrInvalidArgument.WithMessage("multiple platforms not supported for this image store; use a multi-platform image store such as containerd-snapshotter")
	}
	var p ocispec.Platform
	if err := json.Unmarshal([]byte(vals[0]), &p); err != nil {
		return nil, fmt.Errorf("failed to parse platform: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if p.OS == "" && p.Architecture == "" {
		return nil, nil
	}
	return &p, nil
}
