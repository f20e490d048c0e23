package archive

import (
	"io"
	"os"

	"github.com/berth-project/berth/service/images"
	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Store is the image store archives are saved from and loaded into;
// *images.Service implements it.
type Store interface {
	Blobs
	Layers
	Leaser
	Recorder
	Resolver
	Publisher
}

var _ Store = (*images.Service)(nil)

// Blobs reads and ingests blobs of the content store.
type Blobs interface {
	ReadBlob(d digest.Digest) ([]byte, error)
	OpenBlob(d digest.Digest) (*os.File, error)
	IngestBlob(r io.Reader) (d digest.Digest, size int64, created bool, err error)
	IngestBlobUnsynced(r io.Reader) (d digest.Digest, size int64, created bool, err error)
	SyncBlob(d digest.Digest) error
}

// Layers unpacks layers.
type Layers interface {
	HasLayer(chain digest.Digest) bool
	UnpackLayer(chain digest.Digest, layer io.Reader) error
}

// Leaser holds the blobs and layer chains a load writes or reuses until
// it has recorded its images, and collects them if it fails.
type Leaser interface {
	NewLease() *images.Lease
}

// Recorder records new images with their tags, all or nothing.
type Recorder interface {
	Prepare(cfgJSON []byte, cfg *dockerspec.DockerOCIImage, layers []ocispec.Descriptor, parent digest.Digest) (*images.Image, error)
	Record(imgs []images.NewImage) ([]images.NewImage, error)
}

// Resolver finds the images `save` is given names of.
type Resolver interface {
	Resolve(refOrID string) (*images.Image, error)
	LookupTag(ref reference.NamedTagged) (*images.Image, bool)
	RepoTags(repo string) []images.RepoTag
}

// Publisher publishes image events.
type Publisher interface {
	Publish(action eventtypes.Action, id digest.Digest, name string)
}
