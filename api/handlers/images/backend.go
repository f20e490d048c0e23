package images

import (
	"context"
	"io"

	svc "github.com/berth-project/berth/service/images"
	"github.com/berth-project/berth/service/images/archive"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Backend is what the handlers need from the images service.
type Backend interface {
	List(o svc.ListOptions) []image.Summary
	Inspect(ref string) (*image.InspectResponse, error)
	History(ref string) ([]image.HistoryResponseItem, error)
	Tag(src, ref string) error
	Remove(ref string, force, prune bool) ([]image.DeleteResponse, error)
	Prune(all bool, labels map[string]string) (image.PruneReport, error)
	Import(r io.Reader, o svc.ImportOptions) (*svc.Image, error)
	Resolve(ref string) (*svc.Image, error)
	Pull(ctx context.Context, ref string, o svc.PullOptions, p svc.Progress) error
	PullAll(ctx context.Context, repo string, o svc.PullOptions, p svc.Progress) error
	Push(ctx context.Context, name, tag string, platform *ocispec.Platform, auth *registry.AuthConfig, p svc.PushProgress) error
}

// Archives is what save and load need: the image archive formats
// (service/images/archive) on the image store.
type Archives interface {
	Save(ctx context.Context, names []string, o archive.SaveOptions, w io.Writer) error
	Load(ctx context.Context, r io.Reader, o archive.LoadOptions, rep archive.LoadReporter) error
}
