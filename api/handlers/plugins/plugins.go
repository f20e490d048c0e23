// Package plugins serves the managed-plugin endpoints of a daemon that has
// no plugins: the list is empty, a named plugin is not found (dockerd's
// words), and installing one is not supported. Clients (the docker CLI,
// Moby's test harness) probe GET /plugins and expect an answer, not 404.
package plugins

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	"github.com/containerd/errdefs"
)

var errUnsupported = fmt.Errorf("managed plugins are not supported by this daemon: %w", errdefs.ErrNotImplemented)

// Register adds the plugin routes.
func Register(rt *server.Router) {
	rt.Handle("GET /plugins", func(w http.ResponseWriter, r *http.Request) error {
		return httputil.WriteJSON(w, http.StatusOK, []struct{}{})
	})
	for _, p := range []string{"GET /plugins/privileges", "POST /plugins/pull", "POST /plugins/create"} {
		rt.Handle(p, func(http.ResponseWriter, *http.Request) error { return errUnsupported })
	}
	notFound := func(w http.ResponseWriter, r *http.Request) error {
		name, _ := server.SplitImagePath(r.PathValue("rest"), "json", "enable", "disable", "push", "upgrade", "set")
		return fmt.Errorf("plugin %q not found: %w", strings.TrimSuffix(name, ":latest"), errdefs.ErrNotFound)
	}
	rt.Handle("GET /plugins/{rest...}", notFound)
	rt.Handle("POST /plugins/{rest...}", notFound)
	rt.Handle("DELETE /plugins/{rest...}", notFound)
}
