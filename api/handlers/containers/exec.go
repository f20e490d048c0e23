package containers

import (
	"io"
	"net/http"

	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/service/containers/execs"
	"github.com/moby/moby/api/types/container"
)

func (h handlers) execCreate(w http.ResponseWriter, r *http.Request) error {
	var req container.ExecCreateRequest
	if err := httputil.DecodeJSON(r, &req); err != nil {
		return err
	}
	id, err := h.b.ExecCreate(r.PathValue("id"), req)
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusCreated, container.ExecCreateResponse{ID: id})
}

func (h handlers) execStart(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req container.ExecStartRequest
	if err := httputil.DecodeJSON(r, &req); err != nil {
		return err
	}
	if _, err := h.b.ExecInspect(id); err != nil {
		return err
	}
	if req.Detach {
		// Docker answers a detached start with 200 and no body.
		return h.b.ExecStart(r.Context(), id, execs.StartOptions{Detach: true, ConsoleSize: req.ConsoleSize})
	}
	// The framing follows the start request's Tty, as in dockerd; the
	// process has a terminal if the exec was created with one.
	ct := "application/vnd.docker.multiplexed-stream"
	if req.Tty {
		ct = "application/vnd.docker.raw-stream"
	}
	conn, rw, head, err := httputil.Hijack(w, r, ct)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := head(); err != nil {
		return nil
	}
	o := execs.StartOptions{ConsoleSize: req.ConsoleSize, Stdin: rw}
	if req.Tty {
		o.Stdout, o.Stderr = conn, conn
	} else {
		o.Stdout, o.Stderr = httputil.NewStdWriter(conn, httputil.Stdout), httputil.NewStdWriter(conn, httputil.Stderr)
	}
	if err := h.b.ExecStart(r.Context(), id, o); err != nil {
		_, _ = io.WriteString(o.Stderr, err.Error()+"\n")
	}
	return nil
}

func (h handlers) execInspect(w http.ResponseWriter, r *http.Request) error {
	resp, err := h.b.ExecInspect(r.PathValue("id"))
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, resp)
}

func (h handlers) execResize(w http.ResponseWriter, r *http.Request) error {
	hh, ww, err := httputil.TerminalSize(r)
	if err != nil {
		return err
	}
	if err := h.b.ExecResize(r.PathValue("id"), hh, ww); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
