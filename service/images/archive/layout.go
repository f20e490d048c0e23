package archive

import (
	"path"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The files of an archive besides its blobs.
const (
	manifestFile     = "manifest.json" // docker-archive: one entry per image
	repositoriesFile = "repositories"  // docker-archive: name → tag → top layer
	// annotationImageName is containerd's full image name annotation,
	// which Docker writes in index.json beside the OCI ref name.
	annotationImageName = "io.containerd.image.name"
)

// manifestItem is an entry of a docker-archive manifest.json.
type manifestItem struct {
	Config       string
	RepoTags     []string
	Layers       []string
	Parent       digest.Digest                 `json:",omitempty"`
	LayerSources map[digest.Digest]layerSource `json:",omitempty"`
}

// layerSource is the descriptor Docker records for each layer in
// manifest.json (distribution.Descriptor's field order).
type layerSource struct {
	MediaType string        `json:"mediaType,omitempty"`
	Size      int64         `json:"size,omitempty"`
	Digest    digest.Digest `json:"digest,omitempty"`
}

// blobPath is where a blob lives in an OCI image layout (and in Docker's
// docker-archive since 25.0).
func blobPath(d digest.Digest) string {
	return path.Join(ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
}
