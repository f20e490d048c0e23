package images

import (
	"sort"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"
)

// DiskUsage returns what `system df` reports about images: the listed
// images with the containers using them and the bytes they share with
// other images, the size of every layer counted once, and the build cache
// (the step images builds left: untagged, with a parent).
func (s *Service) DiskUsage() (images []image.Summary, layersSize int64, cache []build.CacheRecord) {
	list := s.List(ListOptions{})
	s.mu.RLock()
	users := map[digest.Digest]int{} // layer digest → images using it
	seen := map[digest.Digest]int64{}
	for _, img := range s.images {
		for _, l := range img.Layers {
			users[l.Digest]++
			seen[l.Digest] = l.Size
		}
	}
	for _, sz := range seen {
		layersSize += sz
	}
	for i := range list {
		img := s.images[digest.Digest(list[i].ID)]
		var shared int64
		for _, l := range img.Layers {
			if users[l.Digest] > 1 {
				shared += l.Size
			}
		}
		list[i].SharedSize = shared
		list[i].Containers = 0
	}
	var steps []*Image
	for id, img := range s.images {
		if img.Parent != "" && len(s.refsOf(id)) == 0 {
			steps = append(steps, img)
		}
	}
	s.mu.RUnlock()
	for i := range list {
		if s.users != nil {
			r, st := s.users(digest.Digest(list[i].ID))
			list[i].Containers = int64(len(r) + len(st))
		}
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].ID < steps[j].ID })
	for _, img := range steps {
		rec := build.CacheRecord{ID: img.ID.Encoded()[:12], Type: "regular", Size: int64(s.ownSize(img)), InUse: s.hasDescendantTag(img.ID)}
		if h := img.Config.History; len(h) > 0 {
			rec.Description = h[len(h)-1].CreatedBy
			if h[len(h)-1].Created != nil {
				rec.CreatedAt = *h[len(h)-1].Created
			}
		}
		cache = append(cache, rec)
	}
	return list, layersSize, cache
}

// hasDescendantTag reports whether a tagged image is built on id.
func (s *Service) hasDescendantTag(id digest.Digest) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for cid, img := range s.images {
		if len(s.refsOf(cid)) == 0 {
			continue
		}
		for p := img.Parent; p != ""; {
			if p == id {
				return true
			}
			parent, ok := s.images[p]
			if !ok {
				break
			}
			p = parent.Parent
		}
	}
	return false
}
