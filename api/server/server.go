package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/berth-project/berth/api/httperr"
	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/internal/apiversion"
	"github.com/berth-project/berth/internal/trace"
	"github.com/containerd/errdefs"
)

// APIVersion is the newest Engine API version berthd speaks; MinAPIVersion the oldest.
const (
	APIVersion    = apiversion.Max
	MinAPIVersion = apiversion.Min
)

// HandlerFunc is an API handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Router registers routes; handler packages add theirs.
type Router struct {
	mux   *http.ServeMux
	log   *slog.Logger
	ready <-chan struct{}
}

// WaitFor holds every request but /_ping and /version until ready is
// closed (the daemon restoring its state) or the request's client goes.
func (rt *Router) WaitFor(ready <-chan struct{}) { rt.ready = ready }

// await blocks r until the router is ready; false if r's client left.
func (rt *Router) await(r *http.Request) bool {
	if rt.ready == nil || r.URL.Path == "/_ping" || r.URL.Path == "/version" {
		return true
	}
	select {
	case <-rt.ready:
		return true
	default:
	}
	trace.Mark("api: waits for restore")
	select {
	case <-rt.ready:
		return true
	case <-r.Context().Done():
		return false
	}
}

// NewRouter returns an empty router.
func NewRouter(log *slog.Logger) *Router {
	return &Router{mux: http.NewServeMux(), log: log}
}

// Handle registers pattern ("METHOD /path/{var}") for h.
func (rt *Router) Handle(pattern string, h HandlerFunc) {
	rt.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			if httperr.Status(err) >= 500 {
				rt.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			httperr.Write(w, err)
		}
	})
}

var versioned = regexp.MustCompile(`^/v(\d+\.\d+)(/.*)$`)

// ServeHTTP strips and checks the /vX.Y prefix, sets Docker's headers and dispatches.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	version := APIVersion
	if m := versioned.FindStringSubmatch(r.URL.Path); m != nil {
		version = m[1]
		if compareVersions(version, MinAPIVersion) < 0 {
			httperr.Write(w, fmt.Errorf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version: %w",
				version, MinAPIVersion, errdefs.ErrInvalidArgument))
			return
		}
		if compareVersions(version, APIVersion) > 0 {
			httperr.Write(w, fmt.Errorf("client version %s is too new. Maximum supported API version is %s: %w", version, APIVersion, errdefs.ErrInvalidArgument))
			return
		}
		r.URL.Path = m[2]
		r.URL.RawPath = ""
	}
	if trace.Enabled() {
		step := r.Method + " " + r.URL.Path
		trace.Mark("api: " + step)
		defer trace.Mark("api: done " + step)
	}
	r = r.WithContext(httputil.WithVersion(r.Context(), version))
	h := w.Header()
	h.Set("Api-Version", APIVersion)
	h.Set("Server", "Docker/28.2.2 (linux) berth")
	h.Set("Ostype", "linux")
	h.Set("Docker-Experimental", "false")
	rt.log.Debug("request", "method", r.Method, "path", r.URL.Path)
	if !rt.await(r) {
		return
	}
	rt.mux.ServeHTTP(w, r)
}

// CompareVersions compares API versions ("1.41" < "1.42"): <0, 0, >0.
func CompareVersions(a, b string) int { return compareVersions(a, b) }

func compareVersions(a, b string) int {
	var am, an, bm, bn int
	fmt.Sscanf(a, "%d.%d", &am, &an)
	fmt.Sscanf(b, "%d.%d", &bm, &bn)
	switch {
	case am != bm:
		return am - bm
	default:
		return an - bn
	}
}

// SplitImagePath splits "/images/docker.io/library/x/json" style suffixes:
// image names contain slashes, so ServeMux wildcards cannot match them.
func SplitImagePath(rest string, actions ...string) (name, action string) {
	for _, a := range actions {
		if strings.HasSuffix(rest, "/"+a) {
			return strings.TrimSuffix(rest, "/"+a), a
		}
	}
	return rest, ""
}
