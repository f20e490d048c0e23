package build

import (
	"context"
	"io"

	svc "github.com/berth-project/berth/service/build"
	"github.com/opencontainers/go-digest"
)

// Backend is what the handler needs from the builder.
type Backend interface {
	Build(ctx context.Context, r io.Reader, o svc.Options, out io.Writer) (digest.Digest, error)
	// Familiar returns a reference as the CLI prints it ("x:latest").
	Familiar(ref string) string
}
