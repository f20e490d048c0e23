// Package swarm serves the swarm-mode endpoints (/swarm, /nodes,
// /services, /tasks, /secrets, /configs) of a daemon that is not in a
// swarm: they answer as dockerd does then (503 "This node is not a swarm
// manager…", "This node is not part of a swarm"), which clients rely on to
// tell that swarm mode is off, rather than 404.
package swarm

import (
	"fmt"
	"net/http"

	"github.com/berth-project/berth/api/server"
	"github.com/containerd/errdefs"
)

// dockerd's words (daemon/cluster).
var (
	errNotManager = fmt.Errorf(`This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.: %w`, errdefs.ErrUnavailable)
	errNoSwarm    = fmt.Errorf("This node is not part of a swarm: %w", errdefs.ErrUnavailable)
	errNoSwarmKit = fmt.Errorf("swarm mode is not supported by this daemon: %w", errdefs.ErrNotImplemented)
)

// Register adds the swarm-mode routes.
func Register(rt *server.Router) {
	answer := func(err error) server.HandlerFunc {
		return func(http.ResponseWriter, *http.Request) error { return err }
	}
	rt.Handle("POST /swarm/init", answer(errNoSwarmKit))
	rt.Handle("POST /swarm/join", answer(errNoSwarmKit))
	rt.Handle("POST /swarm/leave", answer(errNoSwarm))
	for _, p := range []string{
		"GET /swarm", "GET /swarm/unlockkey", "POST /swarm/update", "POST /swarm/unlock",
		"GET /services", "GET /services/{id}", "POST /services/create", "POST /services/{id}/update",
		"DELETE /services/{id}", "GET /services/{id}/logs",
		"GET /nodes", "GET /nodes/{id}", "DELETE /nodes/{id}", "POST /nodes/{id}/update",
		"GET /tasks", "GET /tasks/{id}", "GET /tasks/{id}/logs",
		"GET /secrets", "POST /secrets/create", "DELETE /secrets/{id}", "GET /secrets/{id}", "POST /secrets/{id}/update",
		"GET /configs", "POST /configs/create", "DELETE /configs/{id}", "GET /configs/{id}", "POST /configs/{id}/update",
	} {
		rt.Handle(p, answer(errNotManager))
	}
}
