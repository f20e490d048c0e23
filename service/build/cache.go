package build

import (
	"reflect"
	"sync"

	"github.com/berth-project/berth/service/images"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// cached returns the image a step can reuse instead of running, or nil.
// Without --cache-from that is a child of the current image made by the
// same step: the parent fixes the starting filesystem and config, and
// createdBy carries the expanded instruction, the build args it uses and,
// for COPY/ADD, the checksum of the sources (Docker's classic cache).
// With --cache-from only the named images count (dockerd's rule: naming
// images that do not exist means no cache at all).
func (r *run) cached(st *stage, createdBy string) *images.Image {
	if r.cache != nil {
		return r.cache.match(r, st, createdBy)
	}
	var best *images.Image
	for _, img := range r.b.images.Children(st.id()) {
		h := img.Config.History
		if len(h) > 0 && h[len(h)-1].CreatedBy == createdBy && len(h) == len(st.cfg.History)+1 {
			if best == nil || img.ID < best.ID { // deterministic if several
				best = img
			}
		}
	}
	return best
}

// cacheSources are the --cache-from images. A step matches a source whose
// history and layers start with the current image's and whose next
// history entry is the same step; that step's image is then the source
// itself (its last step) or a new image made of the source's prefix, as
// dockerd's ImageCache restores it. Sources may be images loaded without
// their parent chain (docker save / load): only their history is needed.
type cacheSources struct {
	mu     sync.Mutex // stages build concurrently
	images []*images.Image
}

func (b *Builder) cacheFrom(refs []string) *cacheSources {
	if len(refs) == 0 {
		return nil
	}
	cs := &cacheSources{}
	for _, ref := range refs {
		if img, err := b.images.Resolve(ref); err == nil {
			cs.images = append(cs.images, img)
		}
	}
	return cs
}

func (cs *cacheSources) match(r *run, st *stage, createdBy string) *images.Image {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	n := len(st.cfg.History)
	for i, src := range cs.images {
		h := src.Config.History
		if !startsWith(src, st) || len(h) <= n || h[n].CreatedBy != createdBy {
			continue
		}
		if len(h) == n+1 && reflect.DeepEqual(src.Config.Config, st.cfg.Config) {
			return src
		}
		img, err := r.restore(st, src)
		if err != nil {
			return nil
		}
		cs.images = []*images.Image{cs.images[i]} // keep to one source from here on (dockerd does)
		return img
	}
	return nil
}

// startsWith reports whether st's image is a prefix of src: the same
// history entries and layers.
func startsWith(src *images.Image, st *stage) bool {
	sh, h := src.Config.History, st.cfg.History
	sd, d := src.Config.RootFS.DiffIDs, st.cfg.RootFS.DiffIDs
	if len(sh) <= len(h) || len(sd) < len(d) || len(src.Layers) < len(st.layers) {
		return false
	}
	for i := range h {
		if !reflect.DeepEqual(h[i], sh[i]) {
			return false
		}
	}
	for i := range d {
		if d[i] != sd[i] {
			return false
		}
	}
	return true
}

// restore makes the image of st's next step from src: st's config, with
// src's next history entry and, unless that entry is empty, its next layer.
func (r *run) restore(st *stage, src *images.Image) (*images.Image, error) {
	cfg := cloneConfig(st.cfg)
	h := src.Config.History[len(st.cfg.History)]
	layers := append([]ocispec.Descriptor(nil), st.layers...)
	if !h.EmptyLayer {
		k := len(st.cfg.RootFS.DiffIDs)
		if k >= len(src.Config.RootFS.DiffIDs) || k >= len(src.Layers) {
			return nil, errNoLayer
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, src.Config.RootFS.DiffIDs[k])
		layers = append(layers, src.Layers[k])
	}
	cfg.RootFS.Type = "layers"
	cfg.History = append(cfg.History, h)
	cfg.Created = h.Created
	if cfg.OS == "" {
		cfg.OS, cfg.Architecture = src.Config.OS, src.Config.Architecture
	}
	return r.b.images.Commit(&cfg, layers, st.id())
}

var errNoLayer = failf("cache source has fewer layers than its history says")
