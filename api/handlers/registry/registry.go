// Package registry serves the Engine API's registry endpoints: POST /auth
// (docker login) and GET /images/search.
package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/registry"
)

// Backend is the registry client.
type Backend interface {
	Login(ctx context.Context, auth *registry.AuthConfig) (registry.AuthResponse, error)
	Search(ctx context.Context, term string, limit int, auth *registry.AuthConfig) ([]registry.SearchResult, error)
	Distribution(ctx context.Context, ref reference.Named, auth *registry.AuthConfig) (registry.DistributionInspect, error)
}

type handlers struct{ b Backend }

// Register adds the routes. search must be registered before the images
// catch-all (GET /images/{rest...}).
func Register(rt *server.Router, b Backend) {
	h := handlers{b}
	rt.Handle("POST /auth", h.login)
	rt.Handle("GET /images/search", h.search)
	rt.Handle("GET /distribution/{rest...}", h.distribution)
}

// distribution is GET /distribution/{name}/json (names hold slashes).
func (h handlers) distribution(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(r.PathValue("rest"), "/json")
	if !ok {
		return errdefs.ErrNotFound.WithMessage("page not found")
	}
	n, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage("invalid reference format")
	}
	res, err := h.b.Distribution(r.Context(), reference.TagNameOnly(n), httputil.RegistryAuth(r))
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, res)
}

func (h handlers) login(w http.ResponseWriter, r *http.Request) error {
	var a registry.AuthConfig
	if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage("invalid credentials: " + err.Error())
	}
	resp, err := h.b.Login(r.Context(), &a)
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, resp)
}

// search is GET /images/search?term=…&limit=…&filters=…: the index's
// answer filtered here by is-official and stars, as dockerd does.
func (h handlers) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	term := q.Get("term")
	if term == "" {
		return errdefs.ErrInvalidArgument.WithMessage("term is required")
	}
	limit := 25
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return errdefs.ErrInvalidArgument.WithMessage("limit " + s + " is outside the range of [1, 100]")
		}
		limit = n
	}
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	results, err := h.b.Search(r.Context(), term, limit, httputil.RegistryAuth(r))
	if err != nil {
		return err
	}
	out := []registry.SearchResult{}
	for _, res := range results {
		if v := f["is-official"]; len(v) > 0 && strconv.FormatBool(res.IsOfficial) != strings.ToLower(v[0]) {
			continue
		}
		if v := f["stars"]; len(v) > 0 {
			n, err := strconv.Atoi(v[0])
			if err != nil {
				return errdefs.ErrInvalidArgument.WithMessage("invalid filter 'stars=" + v[0] + "'")
			}
			if res.StarCount < n {
				continue
			}
		}
		out = append(out, res)
		if len(out) == limit {
			break
		}
	}
	return httputil.WriteJSON(w, http.StatusOK, out)
}
