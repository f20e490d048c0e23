// Package volumes serves /volumes: create, list, inspect, remove, prune.
package volumes

import (
	"net/http"
	"time"

	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	svc "github.com/berth-project/berth/service/volumes"
	"github.com/moby/moby/api/types/volume"
)

type handlers struct{ b Backend }

// Register adds the volume routes.
func Register(rt *server.Router, b Backend) {
	h := handlers{b}
	rt.Handle("GET /volumes", h.list)
	rt.Handle("POST /volumes/create", h.create)
	rt.Handle("POST /volumes/prune", h.prune)
	rt.Handle("GET /volumes/{name}", h.inspect)
	rt.Handle("DELETE /volumes/{name}", h.remove)
}

func (h handlers) toAPI(v *svc.Volume) volume.Volume {
	return volume.Volume{
		Name: v.Name, Driver: v.Driver, Mountpoint: h.b.Mountpoint(v.Name), CreatedAt: v.CreatedAt.Format(time.RFC3339),
		Labels: v.Labels, Options: v.Options, Scope: "local",
	}
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) error {
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	vols, err := h.b.List(f)
	if err != nil {
		return err
	}
	resp := volume.ListResponse{Volumes: []volume.Volume{}, Warnings: []string{}}
	for _, v := range vols {
		resp.Volumes = append(resp.Volumes, h.toAPI(v))
	}
	return httputil.WriteJSON(w, http.StatusOK, resp)
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) error {
	var req volume.CreateRequest
	if err := httputil.DecodeJSON(r, &req); err != nil {
		return err
	}
	v, err := h.b.Create(svc.CreateOptions{Name: req.Name, Driver: req.Driver, Labels: req.Labels, Options: req.DriverOpts})
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusCreated, h.toAPI(v))
}

func (h handlers) inspect(w http.ResponseWriter, r *http.Request) error {
	v, err := h.b.Get(r.PathValue("name"))
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, h.toAPI(v))
}

func (h handlers) remove(w http.ResponseWriter, r *http.Request) error {
	if err := h.b.Remove(r.PathValue("name"), httputil.Bool(r, "force")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// prune removes unused anonymous volumes, or all unused ones with the
// filter all=true (API ≥ 1.42, what `volume prune -a` sends).
func (h handlers) prune(w http.ResponseWriter, r *http.Request) error {
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	all := false
	for _, v := range f["all"] {
		all = v == "true" || v == "1"
	}
	if v := httputil.Version(r.Context()); v != "" && server.CompareVersions(v, "1.42") < 0 {
		all = true // older clients: prune meant every unused volume
	}
	deleted, space, err := h.b.Prune(all, f)
	if err != nil {
		return err
	}
	if deleted == nil {
		deleted = []string{}
	}
	return httputil.WriteJSON(w, http.StatusOK, volume.PruneReport{VolumesDeleted: deleted, SpaceReclaimed: space})
}
