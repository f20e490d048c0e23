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
	// PruneCache removes build cache images (all: the whole cache).
	PruneCache(all bool) (deleted []string, reclaimed uint64, err error)
	// Familiar returns a reference as the CLI prints it ("x:latest").
	Familiar(ref string) string
}
