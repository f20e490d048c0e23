package archive

import (
	"github.com/berth-project/berth/service/containers"
	"github.com/berth-project/berth/service/images"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
)

// Containers is what archive needs of the containers service.
type Containers interface {
	Get(ref string) (*containers.Container, error)
	OpenFilesystem(ref string) (*containers.Filesystem, error)
	ReadRootfs(ref string) (rootfs string, release func(), err error)
	WritableLayer(ref string) (upper string, image digest.Digest, err error)
	PublishEvent(ref string, action events.Action) error
}

// Images is what diff needs of the images service: the image's rootfs to
// tell a changed file from an added one.
type Images interface {
	Get(id digest.Digest) (*images.Image, bool)
	MountRootfs(img *images.Image) (root string, release func(), err error)
}

// Service answers docker cp's calls, export and diff.
type Service struct {
	containers Containers
	images     Images
}

// New returns the service over cs and imgs.
func New(cs Containers, imgs Images) *Service { return &Service{containers: cs, images: imgs} }
