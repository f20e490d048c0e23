package oci

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// invalidArgError keeps Docker's message word for word while still matching
// errdefs.ErrInvalidArgument (and any wrapped cause) with errors.Is.
type invalidArgError struct{ err error }

func (e invalidArgError) Error() string   { return e.err.Error() }
func (e invalidArgError) Unwrap() []error { return []error{e.err, errdefs.ErrInvalidArgument} }

// invalidf returns an invalid-argument error with the given (Docker) wording.
func invalidf(format string, args ...any) error {
	return invalidArgError{fmt.Errorf(format, args...)}
}

// invalid classes err as an invalid argument without changing its message.
func invalid(err error) error {
	if err == nil {
		return nil
	}
	return invalidArgError{err}
}
