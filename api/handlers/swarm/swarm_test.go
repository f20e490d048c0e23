package swarm

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-project/berth/api/server"
)

func TestNotInASwarm(t *testing.T) {
	rt := server.NewRouter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	Register(rt)
	for _, tc := range []struct {
		method, path string
		status       int
		message      string
	}{
		{"GET", "/v1.47/swarm", 503, "This node is not a swarm manager. Use \"docker swarm init\""},
		{"GET", "/services", 503, "This node is not a swarm manager."},
		{"GET", "/v1.44/nodes/abc", 503, "This node is not a swarm manager."},
		{"DELETE", "/secrets/abc", 503, "This node is not a swarm manager."},
		{"POST", "/configs/create", 503, "This node is not a swarm manager."},
		{"GET", "/tasks", 503, "This node is not a swarm manager."},
		{"POST", "/swarm/leave?force=1", 503, "This node is not part of a swarm"},
		{"POST", "/swarm/init", 501, "swarm mode is not supported"},
	} {
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader("{}")))
		var body struct{ Message string }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != tc.status || !strings.HasPrefix(body.Message, tc.message) || strings.Contains(body.Message, "unavailable") {
			t.Errorf("%s %s: %d %q; want %d %q…", tc.method, tc.path, rec.Code, body.Message, tc.status, tc.message)
		}
	}
	if rec := httptest.NewRecorder(); true {
		rt.ServeHTTP(rec, httptest.NewRequest("GET", "/swarmy", nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET /swarmy: %d", rec.Code)
		}
	}
}
