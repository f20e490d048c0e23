package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
)

// Config is what a registry serves from.
type Config struct {
	// Root holds the registry's content (created if missing).
	Root string
	// Users, if set, are the accounts allowed in (basic auth): name →
	// check of a password. Anonymous requests are then refused.
	Users map[string]func(password string) bool
	// Log receives request failures; nil discards them.
	Log *slog.Logger
	// Proxy, if set, makes the registry a read-only pull-through cache.
	Proxy *Proxy
}

// Registry is an http.Handler serving the OCI Distribution API under /v2/.
type Registry struct {
	cfg   Config
	store *storage
	log   *slog.Logger
	lock  *os.File  // the root's lock, held while serving (gc.go)
	up    *upstream // proxy mode's remote, or nil

	mu      sync.Mutex
	uploads map[string]*sync.Mutex // upload UUID → its lock (chunks are serial)
}

// New opens a registry on cfg.Root; one registry serves a root at a
// time. Close releases it.
func New(cfg Config) (*Registry, error) {
	var up *upstream
	if cfg.Proxy != nil {
		var err error
		if up, err = newUpstream(cfg.Proxy); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.Root, 0o755); err != nil {
		return nil, fmt.Errorf("registry root: %w", err)
	}
	// the lock first: opening the storage clears tmp/, which a running
	// server on the same root would be writing to
	lock, err := lockRoot(cfg.Root)
	if err != nil {
		return nil, err
	}
	st, err := newStorage(cfg.Root)
	if err != nil {
		lock.Close()
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{cfg: cfg, store: st, log: log, lock: lock, up: up, uploads: map[string]*sync.Mutex{}}, nil
}

// Close releases the root.
func (g *Registry) Close() error { return g.lock.Close() }

// route is a parsed /v2/ path: the repository and what in it.
type route struct {
	name string
	kind string // "manifests", "blobs", "uploads", "tags", "referrers"
	ref  string // tag or digest, upload UUID
}

// parseRoute splits a /v2/ path. Names may hold slashes (and components
// such as "manifests"), so the operation is found from the right: what
// follows it (a tag, digest or upload ID) never has one.
func parseRoute(path string) (route, bool) {
	p := strings.TrimPrefix(path, "/v2/")
	if name, ok := strings.CutSuffix(p, "/tags/list"); ok {
		return route{name: name, kind: "tags"}, true
	}
	if name, ok := strings.CutSuffix(p, "/blobs/uploads"); ok {
		return route{name: name, kind: "uploads"}, true
	}
	for _, k := range []struct{ sep, kind string }{
		{"/blobs/uploads/", "uploads"},
		{"/manifests/", "manifests"},
		{"/blobs/", "blobs"},
		{"/referrers/", "referrers"},
	} {
		if i := strings.LastIndex(p, k.sep); i > 0 && !strings.Contains(p[i+len(k.sep):], "/") {
			return route{name: p[:i], kind: k.kind, ref: p[i+len(k.sep):]}, true
		}
	}
	return route{}, false
}

func (g *Registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if !g.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="berth-registry"`)
		writeError(w, errUnauthorized())
		return
	}
	if err := g.serve(w, r); err != nil {
		if _, ok := err.(*apiError); !ok {
			g.log.Error("registry request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeError(w, err)
	}
}

func (g *Registry) authorized(r *http.Request) bool {
	if g.cfg.Users == nil {
		return true
	}
	u, p, ok := r.BasicAuth()
	check, known := g.cfg.Users[u]
	return ok && known && check(p)
}

func (g *Registry) serve(w http.ResponseWriter, r *http.Request) error {
	switch {
	case r.URL.Path == "/v2/" || r.URL.Path == "/v2":
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write([]byte("{}"))
		return err
	case r.URL.Path == "/v2/_catalog":
		return g.catalog(w, r)
	case r.URL.Path == "/v1/search":
		return g.search(w, r)
	}
	rt, ok := parseRoute(r.URL.Path)
	if !ok || !strings.HasPrefix(r.URL.Path, "/v2/") {
		return &apiError{http.StatusNotFound, "NOT_FOUND", "page not found", nil}
	}
	if !validName(rt.name) {
		return errNameInvalid(rt.name)
	}
	if g.up != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		return errUnsupported() // a pull-through cache takes no pushes
	}
	switch rt.kind + " " + r.Method {
	case "manifests GET", "manifests HEAD":
		return g.getManifest(w, r, rt)
	case "manifests PUT":
		return g.putManifest(w, r, rt)
	case "manifests DELETE":
		return g.deleteManifest(w, rt)
	case "blobs GET", "blobs HEAD":
		return g.getBlob(w, r, rt)
	case "blobs DELETE":
		return g.deleteBlob(w, rt)
	case "uploads POST":
		if rt.ref != "" {
			return errUnsupported()
		}
		return g.startUpload(w, r, rt)
	case "uploads GET":
		return g.uploadStatus(w, rt)
	case "uploads PATCH":
		return g.patchUpload(w, r, rt)
	case "uploads PUT":
		return g.finishUpload(w, r, rt)
	case "uploads DELETE":
		return g.cancelUpload(w, rt)
	case "tags GET":
		return g.tagList(w, r, rt)
	case "referrers GET":
		return g.referrers(w, r, rt)
	}
	return errUnsupported()
}
