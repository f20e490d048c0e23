package containers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	"github.com/berth-project/berth/internal/apiext"
	"github.com/berth-project/berth/internal/labels"
	svc "github.com/berth-project/berth/service/containers"
	"github.com/berth-project/berth/service/containers/logs"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/term"
)

type handlers struct{ b Backend }

// Register adds the container and exec routes.
func Register(rt *server.Router, b Backend) {
	h := handlers{b}
	rt.Handle("POST /containers/create", h.create)
	rt.Handle("GET /containers/json", h.list)
	rt.Handle("GET /containers/{id}/json", h.inspect)
	rt.Handle("POST /containers/{id}/start", h.start)
	rt.Handle("POST /containers/{id}/stop", h.stop)
	rt.Handle("POST /containers/{id}/restart", h.restart)
	rt.Handle("POST /containers/{id}/kill", h.kill)
	rt.Handle("POST /containers/{id}/pause", h.pause)
	rt.Handle("GET /containers/{id}/changes", h.changes)
	rt.Handle("GET /containers/{id}/export", h.export)
	registerArchive(rt, h)
	rt.Handle("GET /containers/{id}/stats", h.stats)
	rt.Handle("POST /commit", h.commit)
	rt.Handle("POST /containers/{id}/unpause", h.unpause)
	rt.Handle("POST /containers/{id}/wait", h.wait)
	rt.Handle("POST /containers/{id}/attach", h.attach)
	rt.Handle("POST /containers/{id}/resize", h.resize)
	rt.Handle("POST /containers/{id}/rename", h.rename)
	rt.Handle("POST /containers/{id}/update", h.update)
	rt.Handle("GET /containers/{id}/logs", h.logs)
	rt.Handle("GET /containers/{id}/top", h.top)
	rt.Handle("DELETE /containers/{id}", h.remove)
	rt.Handle("DELETE /containers/{parent}/{alias}", h.removeLink) // a legacy link's name, parent/alias
	rt.Handle("POST /containers/prune", h.prune)
	rt.Handle("POST /containers/{id}/exec", h.execCreate)
	rt.Handle("POST /exec/{id}/start", h.execStart)
	rt.Handle("GET /exec/{id}/json", h.execInspect)
	rt.Handle("POST /exec/{id}/resize", h.execResize)
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) error {
	req, warnings, err := decodeCreate(r)
	if err != nil {
		return err
	}
	cr := svc.CreateRequest{Name: r.URL.Query().Get("name"), Config: req.Config, HostConfig: req.HostConfig, NetworkingConfig: req.NetworkingConfig}
	if p := r.URL.Query().Get("platform"); p != "" {
		pl, err := platforms.Parse(p)
		if err != nil {
			return fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
		}
		cr.Platform = &pl
	}
	var id string
	if httputil.Bool(r, apiext.StartParam) {
		if id, err = h.b.CreateAndStart(cr); err != nil {
			if se := (*svc.StartError)(nil); errors.As(err, &se) {
				w.Header().Set(apiext.ContainerHeader, se.ID)
			}
			return err
		}
		w.Header().Set(apiext.StartedHeader, "1")
	} else if id, err = h.b.Create(cr); err != nil {
		return err
	}
	if warnings == nil {
		warnings = []string{}
	}
	return httputil.WriteJSON(w, http.StatusCreated, container.CreateResponse{ID: id, Warnings: warnings})
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) error {
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	limit, err := httputil.Int(r, "limit", -1)
	if err != nil {
		return err
	}
	list, err := h.b.List(svc.ListOptions{All: httputil.Bool(r, "all"), Limit: limit, Size: httputil.Bool(r, "size"), Filters: f})
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, list)
}

func (h handlers) inspect(w http.ResponseWriter, r *http.Request) error {
	resp, err := h.b.Inspect(r.PathValue("id"), httputil.Bool(r, "size"))
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, legacyInspect(resp))
}

func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h handlers) start(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, h.b.Start(r.PathValue("id")))
}

func timeoutParam(r *http.Request) (*int, error) {
	if r.URL.Query().Get("t") == "" {
		return nil, nil
	}
	t, err := httputil.Int(r, "t", 0)
	return &t, err
}

func (h handlers) stop(w http.ResponseWriter, r *http.Request) error {
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	return noContent(w, h.b.Stop(r.PathValue("id"), t, r.URL.Query().Get("signal")))
}

func (h handlers) restart(w http.ResponseWriter, r *http.Request) error {
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	return noContent(w, h.b.Restart(r.PathValue("id"), t, r.URL.Query().Get("signal")))
}

func (h handlers) kill(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, h.b.Kill(r.PathValue("id"), r.URL.Query().Get("signal")))
}

func (h handlers) changes(w http.ResponseWriter, r *http.Request) error {
	ch, err := h.b.Changes(r.PathValue("id"))
	if err != nil {
		return err
	}
	if ch == nil {
		ch = []container.FilesystemChange{}
	}
	return httputil.WriteJSON(w, http.StatusOK, ch)
}

func (h handlers) stats(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	stream := q.Get("stream") == "" || httputil.Bool(r, "stream")
	if httputil.Bool(r, "one-shot") {
		stream = false
	}
	started := false
	return h.b.Stats(r.Context(), r.PathValue("id"), stream, func(st container.StatsResponse) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
		}
		if err := httputil.WriteJSONBody(w, st); err != nil {
			return err
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		return nil
	})
}

func (h handlers) export(w http.ResponseWriter, r *http.Request) error {
	rc, err := h.b.Export(r.PathValue("id"))
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
	return nil
}

func (h handlers) commit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ref := q.Get("repo")
	if ref != "" && q.Get("tag") != "" {
		ref += ":" + q.Get("tag")
	}
	img, err := h.b.Commit(q.Get("container"), svc.CommitOptions{Ref: ref, Comment: q.Get("comment"), Author: q.Get("author"),
		Changes: q["changes"], Pause: q.Get("pause") != "0" && q.Get("pause") != "false"})
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusCreated, map[string]string{"Id": img.ID.String()})
}

func (h handlers) pause(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, h.b.Pause(r.PathValue("id")))
}

func (h handlers) unpause(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, h.b.Unpause(r.PathValue("id")))
}

func (h handlers) update(w http.ResponseWriter, r *http.Request) error {
	var u container.UpdateConfig
	if err := httputil.DecodeJSON(r, &u); err != nil {
		return err
	}
	warnings, err := h.b.Update(r.PathValue("id"), u)
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, container.UpdateResponse{Warnings: warnings})
}

func (h handlers) rename(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, h.b.Rename(r.PathValue("id"), r.URL.Query().Get("name")))
}

func (h handlers) remove(w http.ResponseWriter, r *http.Request) error {
	if httputil.Bool(r, "link") {
		return noContent(w, h.b.RemoveLink(r.PathValue("id")))
	}
	return noContent(w, h.b.Remove(r.PathValue("id"), svc.RemoveOptions{Force: httputil.Bool(r, "force"), RemoveVolumes: httputil.Bool(r, "v")}))
}

// removeLink is DELETE /containers/{parent}/{alias}?link=1; without link
// the name is no container's (names have no slash).
func (h handlers) removeLink(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("parent") + "/" + r.PathValue("alias")
	if !httputil.Bool(r, "link") {
		return svc.NotFound(name)
	}
	return noContent(w, h.b.RemoveLink(name))
}

func (h handlers) resize(w http.ResponseWriter, r *http.Request) error {
	hh, ww, err := httputil.TerminalSize(r)
	if err != nil {
		return err
	}
	if err := h.b.Resize(r.PathValue("id"), hh, ww); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// wait flushes the headers at once (the docker CLI waits for them before
// it starts the container) and writes the body at the condition.
func (h handlers) wait(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := h.b.Inspect(id, false); err != nil {
		return err
	}
	cond := container.WaitCondition(r.URL.Query().Get("condition"))
	switch cond {
	case "", container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
	default:
		return errdefs.ErrInvalidArgument.WithMessage("invalid condition: " + string(cond))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	res, err := h.b.Wait(r.Context(), id, cond)
	resp := container.WaitResponse{StatusCode: int64(res.StatusCode)}
	if err != nil {
		resp.Error = &container.WaitExitError{Message: err.Error()}
	}
	return jsonBody(w, resp)
}

func (h handlers) attach(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	info, err := h.b.Inspect(id, false)
	if err != nil {
		return err
	}
	var keys []byte
	if k := r.URL.Query().Get("detachKeys"); k != "" {
		if keys, err = term.ToBytes(k); err != nil {
			return fmt.Errorf("Invalid detach keys (%s) provided: %w", k, errdefs.ErrInvalidArgument)
		}
	}
	tty := info.Config.Tty
	ct := "application/vnd.docker.multiplexed-stream"
	if tty {
		ct = "application/vnd.docker.raw-stream"
	}
	conn, rw, head, err := httputil.Hijack(w, r, ct)
	if err != nil {
		return err
	}
	defer conn.Close()
	var stdout, stderr io.Writer
	if tty {
		stdout, stderr = conn, conn
	} else {
		stdout, stderr = httputil.NewStdWriter(conn, httputil.Stdout), httputil.NewStdWriter(conn, httputil.Stderr)
	}
	o := svc.AttachOptions{Stream: httputil.Bool(r, "stream"), Ready: head, DetachKeys: keys}
	if httputil.Bool(r, "logs") {
		o.Logs = func(stdout, stderr io.Writer) error { return h.b.Replay(id, stdout, stderr) }
	}
	if httputil.Bool(r, "stdout") {
		o.Stdout = stdout
	}
	if httputil.Bool(r, "stderr") {
		o.Stderr = stderr
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if httputil.Bool(r, "stdin") {
		o.Stdin = readerFunc(func(p []byte) (int, error) {
			n, err := rw.Read(p)
			if err != nil && err != io.EOF {
				cancel() // the client went away
			}
			return n, err
		})
	}
	_ = h.b.Attach(ctx, id, o)
	return nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func (h handlers) logs(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	info, err := h.b.Inspect(id, false)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	o := logs.Options{Stdout: httputil.Bool(r, "stdout"), Stderr: httputil.Bool(r, "stderr"), Follow: httputil.Bool(r, "follow"),
		Timestamps: httputil.Bool(r, "timestamps"), Tail: -1}
	if !o.Stdout && !o.Stderr {
		return errdefs.ErrInvalidArgument.WithMessage("Bad parameters: you must choose at least one stream")
	}
	if t := q.Get("tail"); t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err == nil && n >= 0 {
			o.Tail = n
		}
	}
	if o.Since, err = httputil.ParseTime(q.Get("since")); err != nil {
		return err
	}
	if o.Until, err = httputil.ParseTime(q.Get("until")); err != nil {
		return err
	}
	if d := info.HostConfig.LogConfig.Type; d != "json-file" && d != "local" {
		return errdefs.ErrInvalidArgument.WithMessage("configured logging driver does not support reading")
	}
	ct := "application/vnd.docker.multiplexed-stream"
	if info.Config.Tty {
		ct = "application/vnd.docker.raw-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	// dockerd sends the head at once: a follower (docker-py's run without
	// detach) waits for it before any output comes
	_ = http.NewResponseController(w).Flush()
	fw := httputil.NewFlushWriter(w)
	var stdout, stderr io.Writer = fw, fw
	if !info.Config.Tty {
		stdout, stderr = httputil.NewStdWriter(fw, httputil.Stdout), httputil.NewStdWriter(fw, httputil.Stderr)
	}
	_ = h.b.Logs(r.Context(), id, o, stdout, stderr)
	return nil
}

func (h handlers) top(w http.ResponseWriter, r *http.Request) error {
	resp, err := h.b.Top(r.PathValue("id"), r.URL.Query().Get("ps_args"))
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, resp)
}

func (h handlers) prune(w http.ResponseWriter, r *http.Request) error {
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	rep, err := h.b.Prune(labels.Parse(f["label"]))
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, rep)
}

func jsonBody(w http.ResponseWriter, v any) error {
	return httputil.WriteJSONBody(w, v)
}
