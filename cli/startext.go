package cli

import (
	"context"
	"net/http"
	"strings"

	"github.com/berth-project/berth/internal/apiext"
)

// StartAnswer is what a create that asked to start the container too
// learned from the answer (internal/apiext): berthd starts it in the same
// request, and a Docker daemon, which ignores the ask, only creates it.
type StartAnswer struct {
	Started   bool   // the daemon started the container
	Container string // the start failed; the daemon created this container
}

type startKey struct{}

// AskToStart marks the container create made with the returned context as
// asking the daemon to start the container too: `run -d` in one request.
func AskToStart(ctx context.Context) (context.Context, *StartAnswer) {
	a := &StartAnswer{}
	return context.WithValue(ctx, startKey{}, a), a
}

// askToStart adds the ask to a create request made with AskToStart's context.
func askToStart(req *http.Request) error {
	if _, ok := req.Context().Value(startKey{}).(*StartAnswer); ok && isCreate(req) {
		q := req.URL.Query()
		q.Set(apiext.StartParam, "1")
		req.URL.RawQuery = q.Encode()
	}
	return nil
}

// readStartAnswer fills the StartAnswer of a create made with AskToStart's context.
func readStartAnswer(resp *http.Response) {
	if resp.Request == nil || !isCreate(resp.Request) {
		return
	}
	if a, ok := resp.Request.Context().Value(startKey{}).(*StartAnswer); ok {
		a.Started = resp.Header.Get(apiext.StartedHeader) != ""
		a.Container = resp.Header.Get(apiext.ContainerHeader)
	}
}

func isCreate(req *http.Request) bool {
	return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/containers/create")
}
