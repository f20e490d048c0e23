package images

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/berth-project/berth/store/metadata"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/go-archive/compression"
	eventtypes "github.com/moby/moby/api/types/events"
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
	dgst, size, created, err := s.content.Ingest(plain, "")
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
		if created { // a refused layer (one escaping its root) is not kept
			_, _ = s.collect([]digest.Digest{dgst}, nil)
		}
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w", err, errdefs.ErrInvalidArgument)
	}
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: dgst, Size: size}, nil
}

// Commit records an image made of cfg and layers (whose diff IDs must
// already be in cfg.RootFS), tags it with refs and, as dockerd's
// CommitImage does for commits and build steps, publishes `image create`.
func (s *Service) Commit(cfg *dockerspec.DockerOCIImage, layers []ocispec.Descriptor, parent digest.Digest, refs ...string) (*Image, error) {
	img, tags, err := s.record(cfg, layers, parent, refs)
	if err != nil {
		return nil, err
	}
	s.Publish(eventtypes.ActionCreate, img.ID, "")
	s.publishTags(img.ID, tags)
	return img, nil
}

// publishTags sends the `image tag` events of tags just moved to id.
func (s *Service) publishTags(id digest.Digest, tags []reference.Named) {
	for _, n := range tags {
		s.Publish(eventtypes.ActionTag, id, reference.FamiliarString(n))
	}
}

// record is Commit without its events (an import publishes its own): it
// returns the tags it moved.
func (s *Service) record(cfg *dockerspec.DockerOCIImage, layers []ocispec.Descriptor, parent digest.Digest, refs []string) (*Image, []reference.Named, error) {
	cfgJSON, err := MarshalConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	img, err := s.Prepare(cfgJSON, cfg, layers, parent)
	if err != nil {
		return nil, nil, err
	}
	var tags []reference.Named
	named := make([]string, 0, len(refs))
	for _, r := range refs {
		if r == "" {
			continue
		}
		n, err := NormalizeTag(r)
		if err != nil {
			return nil, nil, err
		}
		tags = append(tags, n)
		named = append(named, n.String())
	}
	stored, err := s.Record([]NewImage{{Image: img, Refs: named}})
	if err != nil {
		return nil, nil, err
	}
	return stored[0].Image, tags, nil
}

// Prepare stores the config blob (as these exact bytes: their digest is
// the image ID) and the manifest of an image about to be recorded, and
// returns its record for Record.
func (s *Service) Prepare(cfgJSON []byte, cfg *dockerspec.DockerOCIImage, layers []ocispec.Descriptor, parent digest.Digest) (*Image, error) {
	id, err := s.content.WriteBytes(cfgJSON)
	if err != nil {
		return nil, err
	}
	if layers == nil {
		layers = []ocispec.Descriptor{}
	}
	manJSON, err := ManifestJSON(ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: id, Size: int64(len(cfgJSON))}, layers)
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
	return img, nil
}

// ManifestJSON is the OCI manifest of an image: the one berth records
// and the one `save` writes, byte for byte as Docker writes it.
func ManifestJSON(config ocispec.Descriptor, layers []ocispec.Descriptor) ([]byte, error) {
	return json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    config,
		Layers:    layers,
	})
}

// NewImage is an image to record with its tags (normalized references).
type NewImage struct {
	Image *Image
	Refs  []string
	// Replaced is filled by Record: tag → the image it pointed at before.
	Replaced map[string]digest.Digest
}

// Record stores image records and moves their tags in one transaction:
// all of them or, on error, none. An image already recorded keeps its
// record (it only gains a parent it lacked, so the build cache finds it);
// the returned entries then carry that record. A new record is refused if
// content it needs vanished meanwhile (hold it with a Lease).
func (s *Service) Record(imgs []NewImage) ([]NewImage, error) {
	now := time.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]NewImage, len(imgs))
	put := map[digest.Digest]*Image{}
	for i, n := range imgs {
		img := n.Image
		if old, ok := s.images[img.ID]; ok {
			if old.Parent == "" && img.Parent != "" {
				upd := *old
				upd.Parent = img.Parent
				put[img.ID] = &upd
				img = &upd
			} else {
				img = old
			}
		} else {
			if err := s.complete(img); err != nil {
				return nil, err
			}
			put[img.ID] = img
		}
		out[i] = NewImage{Image: img, Refs: n.Refs, Replaced: map[string]digest.Digest{}}
		for _, r := range n.Refs {
			if t, ok := s.tags[r]; ok && t.ID != img.ID {
				out[i].Replaced[r] = t.ID
			}
		}
	}
	err := s.db.Batch(func(tx *metadata.Tx) error {
		for id, img := range put {
			if err := tx.Put(metadata.Images, id.String(), img); err != nil {
				return err
			}
		}
		for _, n := range out {
			for _, r := range n.Refs {
				if err := tx.Put(metadata.Tags, r, tagRecord{ID: n.Image.ID, Updated: now}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record images: %w", err)
	}
	for id, img := range put {
		s.images[id] = img
	}
	for _, n := range out {
		for _, r := range n.Refs {
			s.tags[r] = tagRecord{ID: n.Image.ID, Updated: now}
		}
	}
	return out, nil
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
		if _, err := NormalizeTag(o.Ref); err != nil {
			return nil, err
		}
	}
	cfg := &dockerspec.DockerOCIImage{}
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	if o.Platform != "" {
		p, err := ParsePlatform(o.Platform)
		if err != nil {
			return nil, err
		}
		cfg.OS, cfg.Architecture, cfg.Variant = p.OS, p.Architecture, p.Variant
	}
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
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer.Digest}}
	cfg.History = []ocispec.History{{Created: &now, Comment: comment}}
	img, tags, err := s.record(cfg, []ocispec.Descriptor{layer}, "", []string{o.Ref})
	if err != nil {
		return nil, err
	}
	s.publishTags(img.ID, tags) // dockerd tags, then logs the import
	s.Publish(eventtypes.ActionImport, img.ID, "")
	return img, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// complete checks, under the lock collect takes, that what a new image
// record will need is still stored: a concurrent removal of an image that
// shared it must not leave the new image broken.
func (s *Service) complete(img *Image) error {
	for _, d := range append([]digest.Digest{img.ID}, layerDigests(img)...) {
		if _, err := s.content.Info(d); err != nil {
			return fmt.Errorf("image %s: %w", img.ID, err)
		}
	}
	for _, c := range img.ChainIDs() {
		if !s.snaps.Exists(c) {
			return fmt.Errorf("image %s: layer %s: %w", img.ID, c, errdefs.ErrNotFound)
		}
	}
	return nil
}

// ParsePlatform reads a platform as dockerd does (containerd's
// platforms.Parse, normalised: "aarch64" is linux/arm64); only Linux is
// supported, as on dockerd for Linux.
func ParsePlatform(s string) (ocispec.Platform, error) {
	p, err := platforms.Parse(s)
	if err != nil {
		return p, fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
	}
	if p.OS != "linux" {
		return p, fmt.Errorf("operating system is not supported: %w", errdefs.ErrInvalidArgument)
	}
	return p, nil
}
