package images

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/berth-project/berth/registry/client"
	"github.com/berth-project/berth/service/events"
	"github.com/berth-project/berth/store/content"
	"github.com/berth-project/berth/store/metadata"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is the record kept for each local image. Its ID is the digest of
// its config blob, as in Docker.
type Image struct {
	ID       digest.Digest        `json:"id"`
	Manifest digest.Digest        `json:"manifest"`
	Layers   []ocispec.Descriptor `json:"layers"`
	Size     int64                `json:"size"`
	Parent   digest.Digest        `json:"parent,omitempty"`
	// RepoDigests are the repo@digest references a pull recorded.
	RepoDigests []string                   `json:"repoDigests,omitempty"`
	Config      *dockerspec.DockerOCIImage `json:"-"`
}

// ChainIDs returns the snapshot keys of the image's layers, base first.
func (img *Image) ChainIDs() []digest.Digest {
	return identity.ChainIDs(append([]digest.Digest(nil), img.Config.RootFS.DiffIDs...))
}

// Platform is the platform the image's config names.
func (img *Image) Platform() ocispec.Platform {
	return ocispec.Platform{OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant}
}

// CheckPlatform says, in dockerd's words and as a not-found (so that a
// client pulls), when the image found for ref is not of the platform a
// caller asked for; a nil want takes any.
func CheckPlatform(ref string, img *Image, want *ocispec.Platform) error {
	if want == nil || platforms.Only(*want).Match(img.Platform()) {
		return nil
	}
	return fmt.Errorf("image with reference %s was found but does not match the specified platform: wanted %s, actual: %s: %w",
		ref, platforms.FormatAll(*want), platforms.FormatAll(img.Platform()), errdefs.ErrNotFound)
}

// UsersFunc reports the containers (IDs) that use an image.
type UsersFunc func(id digest.Digest) (running, stopped []string)

// Service is the local image store.
type Service struct {
	content  *content.Store
	snaps    *overlay.Snapshotter
	db       *metadata.DB
	users    UsersFunc
	events   *events.Bus    // nil: no events
	registry *client.Client // nil: no pulls

	mu       sync.RWMutex
	images   map[digest.Digest]*Image
	tags     map[string]tagRecord            // normalized reference → record
	leases   map[digest.Digest]int           // blobs and chains an operation in flight needs (gc.go)
	deferred map[digest.Digest]bool          // garbage kept by a lease, collected when it ends
	pulling  map[digest.Digest]chan struct{} // blobs being fetched (pull.go)
}

type tagRecord struct {
	ID      digest.Digest `json:"id"`
	Updated time.Time     `json:"updated"`
}

// New loads the image records.
func New(cs *content.Store, snaps *overlay.Snapshotter, db *metadata.DB) (*Service, error) {
	s := &Service{content: cs, snaps: snaps, db: db, images: map[digest.Digest]*Image{}, tags: map[string]tagRecord{}}
	err := db.ForEach(metadata.Images, func(_ string, raw []byte) error {
		var img Image
		if err := json.Unmarshal(raw, &img); err != nil {
			return err
		}
		if err := s.loadConfig(&img); err != nil {
			return fmt.Errorf("image %s: %w", img.ID, err)
		}
		s.images[img.ID] = &img
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load images: %w", err)
	}
	err = db.ForEach(metadata.Tags, func(k string, raw []byte) error {
		var t tagRecord
		if err := json.Unmarshal(raw, &t); err != nil {
			return err
		}
		if _, ok := s.images[t.ID]; ok {
			s.tags[k] = t
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load tags: %w", err)
	}
	// Best effort: content a crash left unrecorded only costs disk space.
	_ = s.sweep()
	return s, nil
}

// SetUsers tells the service how to find containers using an image.
func (s *Service) SetUsers(fn UsersFunc) { s.users = fn }

func (s *Service) loadConfig(img *Image) error {
	b, err := s.content.ReadAll(img.ID)
	if err != nil {
		return err
	}
	var cfg dockerspec.DockerOCIImage
	if err := json.Unmarshal(b, &cfg); err != nil {
		return err
	}
	img.Config = &cfg
	return nil
}

// refsOf returns the familiar tags of an image, sorted.
func (s *Service) refsOf(id digest.Digest) []string {
	var out []string
	for k, t := range s.tags {
		if t.ID != id {
			continue
		}
		if n, err := reference.ParseNormalizedNamed(k); err == nil {
			out = append(out, reference.FamiliarString(n))
		}
	}
	sort.Strings(out)
	return out
}

// Get returns the image with this exact ID.
func (s *Service) Get(id digest.Digest) (*Image, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	img, ok := s.images[id]
	return img, ok
}

// Children returns the images whose parent is id ("" for root images
// without a parent), the build cache's candidates.
func (s *Service) Children(id digest.Digest) []*Image {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Image
	for _, img := range s.images {
		if img.Parent == id {
			out = append(out, img)
		}
	}
	return out
}

// Tags returns the familiar names of an image.
func (s *Service) Tags(id digest.Digest) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.refsOf(id)
}
