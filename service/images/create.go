package images

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/berth-project/berth/store/metadata"
	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/go-archive/compression"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// AddLayer stores a (possibly compressed) layer tar on top of the layers
// with the given diff IDs and unpacks it into a snapshot. It returns the
// blob descriptor (uncompressed tar) and its diff ID.
func (s *Service) AddLayer(r io.Reader, parentDiffIDs []digest.Digest) (ocispec.Descriptor, error) {
	plain, err := compression.DecompressStream(r)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("read layer: %w", err)
	}
	defer plain.Close()
	dgst, size, err := s.content.Write(plain, "")
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	chain := identity.ChainID(append(append([]digest.Digest(nil), parentDiffIDs...), dgst))
	f, err := s.content.Open(dgst)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer f.Close()
	if err := s.snaps.Apply(chain, f); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w", err, errdefs.ErrInvalidArgument)
	}
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: dgst, Size: size}, nil
}

// Commit records an image made of cfg and layers (whose diff IDs must
// already be in cfg.RootFS) and tags it with refs.
func (s *Service) Commit(cfg *dockerspec.DockerOCIImage, layers []ocispec.Descriptor, parent digest.Digest, refs ...string) (*Image, error) {
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	id, err := s.content.WriteBytes(cfgJSON)
	if err != nil {
		return nil, err
	}
	man := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: id, Size: int64(len(cfgJSON))},
		Layers:    layers,
	}
	if man.Layers == nil {
		man.Layers = []ocispec.Descriptor{}
	}
	manJSON, err := json.Marshal(man)
	if err != nil {
		return nil, err
	}
	manDigest, err := s.content.WriteBytes(manJSON)
	if err != nil {
		return nil, err
	}
	img := &Image{ID: id, Manifest: manDigest, Layers: layers, Parent: parent, Config: cfg}
	for _, l := range layers {
		img.Size += l.Size
	}
	named := make([]string, 0, len(refs))
	for _, r := range refs {
		if r == "" {
			continue
		}
		n, err := Normalize(r)
		if err != nil {
			return nil, err
		}
		named = append(named, n.String())
	}
	now := time.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.db.Batch(func(tx *metadata.Tx) error {
		if err := tx.Put(metadata.Images, id.String(), img); err != nil {
			return err
		}
		for _, n := range named {
			if err := tx.Put(metadata.Tags, n, tagRecord{ID: id, Updated: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record image %s: %w", id, err)
	}
	if old, ok := s.images[id]; ok {
		img = old
	} else {
		s.images[id] = img
	}
	for _, n := range named {
		s.tags[n] = tagRecord{ID: id, Updated: now}
	}
	return img, nil
}

// ImportOptions are the parameters of `import`.
type ImportOptions struct {
	Ref      string
	Changes  []string
	Message  string
	Platform string
	Source   string // shown in history: "-" for stdin, or the URL
}

// Import creates a one-layer image from a root filesystem tar.
func (s *Service) Import(r io.Reader, o ImportOptions) (*Image, error) {
	if o.Ref != "" {
		if _, err := Normalize(o.Ref); err != nil {
			return nil, err
		}
	}
	cfg := &dockerspec.DockerOCIImage{}
	if err := ApplyChanges(&cfg.Config, o.Changes); err != nil {
		return nil, err
	}
	layer, err := s.AddLayer(r, nil)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	comment := o.Message
	if comment == "" {
		comment = "Imported from " + orDash(o.Source)
	}
	cfg.Created = &now
	cfg.Architecture, cfg.OS = runtime.GOARCH, "linux"
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer.Digest}}
	cfg.History = []ocispec.History{{Created: &now, Comment: comment}}
	return s.Commit(cfg, []ocispec.Descriptor{layer}, "", o.Ref)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
