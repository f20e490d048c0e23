package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"

	"github.com/berth-project/berth/internal/apiext"
	"github.com/containerd/errdefs"
)

// frontends talks to berthd's frontend API (docs/api-extensions.md)
// over the Engine API client's connection.
type frontends struct {
	hc       *http.Client
	once     sync.Once
	isServed bool
}

// served reports whether the daemon has frontends: a Docker daemon does
// not, and there a start-first service is updated as any other, as
// Docker Compose does outside a swarm.
func (f *frontends) served(ctx context.Context) bool {
	f.once.Do(func() {
		_, err := f.list(ctx, nil)
		f.isServed = err == nil
	})
	return f.isServed
}

func newFrontends(dial func(context.Context) (net.Conn, error)) *frontends {
	return &frontends{hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
	}}}
}

// do sends a request to path under the frontends' path and decodes the
// answer into out; an error answer becomes an error of its class
// (errdefs), in the daemon's words.
func (f *frontends) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	// unversioned: a Docker daemon then answers 404 whatever its API
	// version, and the engine knows it has no frontends
	req, err := http.NewRequestWithContext(ctx, method, "http://berth"+apiext.FrontendsPath+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &m) != nil || m.Message == "" {
			m.Message = string(bytes.TrimSpace(b))
		}
		return statusError(resp.StatusCode, m.Message)
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// apiError is an error answer: the daemon's words, and its class for
// errdefs.
type apiError struct {
	msg   string
	class error
}

func (e apiError) Error() string { return e.msg }
func (e apiError) Unwrap() error { return e.class }

func statusError(code int, msg string) error {
	switch code {
	case http.StatusNotFound:
		return apiError{msg, errdefs.ErrNotFound}
	case http.StatusConflict:
		return apiError{msg, errdefs.ErrConflict}
	case http.StatusBadRequest:
		return apiError{msg, errdefs.ErrInvalidArgument}
	}
	return fmt.Errorf("%s (%d)", msg, code)
}

// get returns the frontend, or nil when there is none (a 404: also what
// a Docker daemon answers).
func (f *frontends) get(ctx context.Context, name string) (*apiext.Frontend, error) {
	var fe apiext.Frontend
	if err := f.do(ctx, http.MethodGet, "/"+url.PathEscape(name), nil, &fe); err != nil {
		if errdefs.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return &fe, nil
}

func (f *frontends) list(ctx context.Context, filters map[string][]string) ([]apiext.Frontend, error) {
	q := ""
	if len(filters) > 0 {
		b, _ := json.Marshal(filters)
		q = "?filters=" + url.QueryEscape(string(b))
	}
	var l []apiext.Frontend
	return l, f.do(ctx, http.MethodGet, q, nil, &l)
}

func (f *frontends) create(ctx context.Context, req apiext.FrontendCreateRequest) (*apiext.Frontend, error) {
	var fe apiext.Frontend
	return &fe, f.do(ctx, http.MethodPost, "/create", req, &fe)
}

func (f *frontends) update(ctx context.Context, name string, req apiext.FrontendUpdateRequest) (*apiext.Frontend, error) {
	var fe apiext.Frontend
	return &fe, f.do(ctx, http.MethodPost, "/"+url.PathEscape(name)+"/update", req, &fe)
}

func (f *frontends) switchTo(ctx context.Context, name string, req apiext.FrontendSwitchRequest) (*apiext.Frontend, error) {
	var fe apiext.Frontend
	return &fe, f.do(ctx, http.MethodPost, "/"+url.PathEscape(name)+"/switch", req, &fe)
}

func (f *frontends) remove(ctx context.Context, name string) error {
	err := f.do(ctx, http.MethodDelete, "/"+url.PathEscape(name), nil, nil)
	if errdefs.IsNotFound(err) {
		return nil
	}
	return err
}
