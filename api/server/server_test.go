package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWaitFor: while the daemon restores, /_ping and /version answer and
// every other request is held until the restore is done, or until its
// client leaves.
func TestWaitFor(t *testing.T) {
	ready := make(chan struct{})
	rt := NewRouter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	rt.WaitFor(ready)
	restored := false
	for _, p := range []string{"GET /_ping", "HEAD /_ping", "GET /version", "GET /containers/json"} {
		rt.Handle(p, func(w http.ResponseWriter, r *http.Request) error {
			if r.URL.Path == "/containers/json" && !restored {
				t.Error("/containers/json served before the restore was done")
			}
			w.WriteHeader(http.StatusOK)
			return nil
		})
	}
	srv := httptest.NewServer(rt)
	defer srv.Close()

	for _, path := range []string{"/_ping", "/v1.41/_ping", "/version", "/v1.50/version"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s during restore: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	// a held request whose client gives up is dropped
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/containers/json", nil)
	gone := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		gone <- err
	}()
	cancel()
	if err := <-gone; err == nil {
		t.Fatal("a cancelled request held for the restore was answered")
	}
	// a held request is answered once the restore is done
	answered := make(chan error, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/v1.47/containers/json")
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	restored = true // the handler reads it after ready is closed (a happens-before edge)
	close(ready)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
}
