package plugins

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-project/berth/api/server"
)

func TestNoPlugins(t *testing.T) {
	rt := server.NewRouter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	Register(rt)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/v1.44/plugins", 200, "[]"},
		{"GET", "/plugins/vieux/sshfs:latest/json", 404, `plugin "vieux/sshfs" not found`},
		{"POST", "/plugins/foo/enable", 404, `plugin "foo" not found`},
		{"DELETE", "/plugins/foo", 404, `plugin "foo" not found`},
		{"POST", "/plugins/pull?remote=foo", 501, "managed plugins are not supported"},
	} {
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		body := strings.TrimSpace(rec.Body.String())
		if tc.status != 200 {
			var m struct{ Message string }
			_ = json.Unmarshal(rec.Body.Bytes(), &m)
			body = m.Message
		}
		if rec.Code != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, rec.Code, body)
		}
	}
}
