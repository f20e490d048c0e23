package containers

import (
	"io"
	"net/http"

	"github.com/berth-project/berth/api/httputil"
	svc "github.com/berth-project/berth/service/containers"
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
	info, err := h.b.ExecInspect(id)
	if err != nil {
		return err
	}
	if req.Detach {
		if err := h.b.ExecStart(r.Context(), id, svc.ExecStartOptions{Detach: true, ConsoleSize: req.ConsoleSize}); err != nil {
			return err
		}
		return httputil.WriteJSON(w, http.StatusOK, struct{}{})
	}
	tty := info.ProcessConfig != nil && info.ProcessConfig.Tty
	ct := "application/vnd.docker.multiplexed-stream"
	if tty {
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
	o := svc.ExecStartOptions{ConsoleSize: req.ConsoleSize, Stdin: rw}
	if tty {
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
	hh, err := httputil.Int(r, "h", 0)
	if err != nil {
		return err
	}
	ww, err := httputil.Int(r, "w", 0)
	if err != nil {
		return err
	}
	if err := h.b.ExecResize(r.PathValue("id"), uint16(hh), uint16(ww)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
