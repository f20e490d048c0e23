// Package frontends serves berth's frontends (docs/api-extensions.md):
// groups of published ports and DNS names that containers stand behind,
// switched between containers in one step.
package frontends

import (
	"net/http"

	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	"github.com/berth-project/berth/internal/apiext"
)

type handlers struct{ b Backend }

// Register adds the frontend routes.
func Register(rt *server.Router, b Backend) {
	h := handlers{b}
	p := apiext.FrontendsPath
	rt.Handle("GET "+p, h.list)
	rt.Handle("POST "+p+"/create", h.create)
	rt.Handle("GET "+p+"/{name}", h.inspect)
	rt.Handle("POST "+p+"/{name}/update", h.update)
	rt.Handle("POST "+p+"/{name}/switch", h.switchTo)
	rt.Handle("DELETE "+p+"/{name}", h.remove)
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) error {
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	l, err := h.b.List(f)
	if err != nil {
		return err
	}
	if l == nil {
		l = []apiext.Frontend{}
	}
	return httputil.WriteJSON(w, http.StatusOK, l)
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) error {
	var req apiext.FrontendCreateRequest
	if err := httputil.DecodeJSON(r, &req); err != nil {
		return err
	}
	fe, err := h.b.Create(req)
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusCreated, fe)
}

func (h handlers) inspect(w http.ResponseWriter, r *http.Request) error {
	fe, err := h.b.Get(r.PathValue("name"))
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, fe)
}

func (h handlers) update(w http.ResponseWriter, r *http.Request) error {
	var req apiext.FrontendUpdateRequest
	if err := httputil.DecodeJSON(r, &req); err != nil {
		return err
	}
	fe, err := h.b.Update(r.PathValue("name"), req)
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, fe)
}

func (h handlers) switchTo(w http.ResponseWriter, r *http.Request) error {
	var req apiext.FrontendSwitchRequest
	if err := httputil.DecodeJSON(r, &req); err != nil {
		return err
	}
	fe, err := h.b.Switch(r.PathValue("name"), req)
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, fe)
}

func (h handlers) remove(w http.ResponseWriter, r *http.Request) error {
	if err := h.b.Remove(r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
