package httperr

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
)

var classes = []struct {
	err    error
	status int
}{
	{errdefs.ErrNotFound, http.StatusNotFound},
	{errdefs.ErrInvalidArgument, http.StatusBadRequest},
	{errdefs.ErrConflict, http.StatusConflict},
	{errdefs.ErrAlreadyExists, http.StatusConflict},
	{errdefs.ErrFailedPrecondition, http.StatusConflict},
	{errdefs.ErrNotModified, http.StatusNotModified},
	{errdefs.ErrPermissionDenied, http.StatusForbidden},
	{errdefs.ErrUnavailable, http.StatusServiceUnavailable},
	{errdefs.ErrNotImplemented, http.StatusNotImplemented},
	{errdefs.ErrUnauthenticated, http.StatusUnauthorized},
	{context.Canceled, 499},
}

// Status returns the HTTP status for err's class (500 if it has none).
func Status(err error) int {
	for _, c := range classes {
		if errors.Is(err, c.err) {
			return c.status
		}
	}
	return http.StatusInternalServerError
}

// Message is the text the user sees: the error without the trailing class
// name that `fmt.Errorf("…: %w", errdefs.ErrX)` appends.
func Message(err error) string {
	msg := err.Error()
	for _, c := range classes {
		if errors.Is(err, c.err) {
			msg = strings.TrimSuffix(msg, ": "+c.err.Error())
			break
		}
	}
	return msg
}

// Write sends err as Docker does: status from its class, body {"message": …}.
func Write(w http.ResponseWriter, err error) {
	status := Status(err)
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": Message(err)})
}
