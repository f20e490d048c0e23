package httperr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/containerd/errdefs"
)

func TestStatusAndMessage(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		msg    string
	}{
		{fmt.Errorf("No such image: x:latest: %w", errdefs.ErrNotFound), 404, "No such image: x:latest"},
		{fmt.Errorf("wrap: %w", fmt.Errorf("name in use: %w", errdefs.ErrConflict)), 409, "wrap: name in use"},
		{errdefs.ErrInvalidArgument.WithMessage("bad"), 400, "bad"},
		{errors.New("boom"), http.StatusInternalServerError, "boom"},
	} {
		if got := Status(tc.err); got != tc.status {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.status)
		}
		if got := Message(tc.err); got != tc.msg {
			t.Errorf("Message(%v) = %q, want %q", tc.err, got, tc.msg)
		}
	}
}
