package images

import (
	"fmt"
	eventtypes "github.com/moby/moby/api/types/events"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/labels"
	"github.com/berth-project/berth/store/metadata"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"
)

// Tag points ref at the image src resolves to.
func (s *Service) Tag(src, ref string) error {
	img, err := s.Resolve(src)
	if err != nil {
		return err
	}
	n, err := NormalizeTag(ref)
	if err != nil {
		return err
	}
	// The record is reused as it is: re-encoding the config could change
	// its bytes, and so the image ID, of an image made elsewhere.
	if _, err = s.Record([]NewImage{{Image: img, Refs: []string{n.String()}}}); err != nil {
		return err
	}
	s.Publish(eventtypes.ActionTag, img.ID, reference.FamiliarString(n))
	return nil
}

func short(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Remove implements `rmi`: untag by name, delete by ID, with Docker's
// conflict rules for images in use.
func (s *Service) Remove(refOrID string, force, prune bool) ([]image.DeleteResponse, error) {
	img, err := s.Resolve(refOrID)
	if err != nil {
		return nil, err
	}
	var running, stopped []string
	if s.users != nil {
		running, stopped = s.users(img.ID)
	}
	byName := false
	var named string
	byID := strings.HasPrefix(img.ID.Encoded(), strings.TrimPrefix(refOrID, "sha256:"))
	if n, err := reference.ParseNormalizedNamed(refOrID); err == nil && !byID {
		if _, isDigest := n.(reference.Canonical); !isDigest {
			byName, named = true, reference.TagNameOnly(n).String()
		}
	}
	tags := s.Tags(img.ID)
	var out []image.DeleteResponse
	if byName {
		inUse := len(running)+len(stopped) > 0
		if len(tags) > 1 || force || !inUse {
			if err := s.untag(named); err != nil {
				return nil, err
			}
			fam, _ := reference.ParseNormalizedNamed(named)
			out = append(out, image.DeleteResponse{Untagged: reference.FamiliarString(fam)})
			s.Publish(eventtypes.ActionUnTag, img.ID, "")
			if len(tags) > 1 || inUse {
				return out, nil
			}
		} else {
			c := append(running, stopped...)[0]
			return nil, fmt.Errorf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s: %w",
				refOrID, short(c), short(img.ID.String()), errdefs.ErrConflict)
		}
	} else {
		switch {
		case len(running) > 0:
			return nil, fmt.Errorf("conflict: unable to delete %s (cannot be forced) - image is being used by running container %s: %w",
				short(img.ID.String()), short(running[0]), errdefs.ErrConflict)
		case len(tags) > 1 && !force:
			return nil, fmt.Errorf("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories: %w",
				short(img.ID.String()), errdefs.ErrConflict)
		case len(stopped) > 0 && !force:
			return nil, fmt.Errorf("conflict: unable to delete %s (must be forced) - image is being used by stopped container %s: %w",
				short(img.ID.String()), short(stopped[0]), errdefs.ErrConflict)
		}
		for _, t := range tags {
			n, _ := Normalize(t)
			if err := s.untag(n.String()); err != nil {
				return nil, err
			}
			out = append(out, image.DeleteResponse{Untagged: t})
			s.Publish(eventtypes.ActionUnTag, img.ID, "")
		}
		if len(stopped) > 0 {
			return out, nil // the container keeps the image alive, untagged
		}
	}
	deleted, err := s.deleteImage(img.ID)
	if err != nil {
		return out, err
	}
	out = append(out, deleted...)
	if prune {
		more, err := s.pruneParents(img.Parent)
		return append(out, more...), err
	}
	return out, nil
}

// pruneParents deletes the parent chain an rmi freed, as dockerd does
// unless noprune: each parent goes while it has no tag, no other child
// and no container.
func (s *Service) pruneParents(id digest.Digest) ([]image.DeleteResponse, error) {
	var out []image.DeleteResponse
	for id != "" {
		s.mu.RLock()
		img, ok := s.images[id]
		free := ok && len(s.refsOf(id)) == 0 && !s.hasChild(id)
		s.mu.RUnlock()
		if !free || s.inUse(id) {
			return out, nil
		}
		deleted, err := s.deleteImage(id)
		out = append(out, deleted...)
		if err != nil {
			return out, err
		}
		id = img.Parent
	}
	return out, nil
}

func (s *Service) untag(normalized string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Delete(metadata.Tags, normalized); err != nil {
		return err
	}
	delete(s.tags, normalized)
	return nil
}

// deleteImage removes an image record and then every blob and snapshot no
// other image needs.
func (s *Service) deleteImage(id digest.Digest) ([]image.DeleteResponse, error) {
	s.mu.Lock()
	img, ok := s.images[id]
	if !ok {
		s.mu.Unlock()
		return nil, nil
	}
	err := s.db.Batch(func(tx *metadata.Tx) error {
		for k, t := range s.tags {
			if t.ID == id {
				if err := tx.Delete(metadata.Tags, k); err != nil {
					return err
				}
			}
		}
		return tx.Delete(metadata.Images, id.String())
	})
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("delete image %s: %w", id, err)
	}
	for k, t := range s.tags {
		if t.ID == id {
			delete(s.tags, k)
		}
	}
	delete(s.images, id)
	s.mu.Unlock()
	s.Publish(eventtypes.ActionDelete, id, "")
	out := []image.DeleteResponse{{Deleted: id.String()}}
	removed, err := s.collect(append([]digest.Digest{img.ID, img.Manifest}, layerDigests(img)...), img.ChainIDs())
	for _, c := range removed {
		out = append(out, image.DeleteResponse{Deleted: c.String()})
	}
	return out, err
}

func layerDigests(img *Image) []digest.Digest {
	out := make([]digest.Digest, len(img.Layers))
	for i, l := range img.Layers {
		out[i] = l.Digest
	}
	return out
}

// Prune deletes dangling images (all unused ones with all=true) that no
// container uses. Only images without children are candidates, as in
// Docker: a build's intermediate images stay while the image built on
// them does, and go with it (the loop takes each freed parent in turn).
func (s *Service) Prune(all bool, want map[string]string) (image.PruneReport, error) {
	report := image.PruneReport{ImagesDeleted: []image.DeleteResponse{}}
	err := s.pruneLeaves(func(img *Image, tagged bool) bool {
		return (all || !tagged) && labels.Match(img.Config.Config.Labels, want)
	}, func(img *Image, del []image.DeleteResponse) {
		report.ImagesDeleted = append(report.ImagesDeleted, del...)
		report.SpaceReclaimed += uint64(img.Size)
	})
	if err == nil && s.events != nil {
		s.events.Publish(eventtypes.ImageEventType, "prune", "", map[string]string{"reclaimed": strconv.FormatUint(report.SpaceReclaimed, 10)})
	}
	return report, err
}

// PruneBuildCache deletes the images builds left that nothing needs:
// untagged step images without children (chains of failed or superseded
// builds). With all, the intermediate images of tagged images go too,
// which empties the build cache.
func (s *Service) PruneBuildCache(all bool) (deleted []string, reclaimed uint64, err error) {
	if all {
		s.mu.RLock()
		var victims []*Image
		for id, img := range s.images {
			if img.Parent != "" && len(s.refsOf(id)) == 0 && s.hasChild(id) {
				victims = append(victims, img)
			}
		}
		s.mu.RUnlock()
		for _, img := range victims {
			if s.inUse(img.ID) {
				continue
			}
			if _, err := s.deleteImage(img.ID); err != nil {
				return deleted, reclaimed, err
			}
			deleted = append(deleted, img.ID.String())
			reclaimed += s.ownSize(img)
		}
	}
	err = s.pruneLeaves(func(img *Image, tagged bool) bool { return !tagged && img.Parent != "" },
		func(img *Image, _ []image.DeleteResponse) {
			deleted = append(deleted, img.ID.String())
			reclaimed += s.ownSize(img)
		})
	if err == nil && s.events != nil {
		s.events.Publish(eventtypes.BuilderEventType, "prune", "", map[string]string{"reclaimed": strconv.FormatUint(reclaimed, 10)})
	}
	return deleted, reclaimed, err
}

// ownSize is what a build step image adds to its parent: its last layer,
// if it made one (the whole image when the parent is unknown).
func (s *Service) ownSize(img *Image) uint64 {
	parent, ok := s.Get(img.Parent)
	switch {
	case !ok:
		return uint64(img.Size)
	case len(img.Layers) > len(parent.Layers):
		return uint64(img.Layers[len(img.Layers)-1].Size)
	}
	return 0
}

func (s *Service) inUse(id digest.Digest) bool {
	if s.users == nil {
		return false
	}
	r, st := s.users(id)
	return len(r)+len(st) > 0
}

// pruneLeaves deletes images without children that pick selects and no
// container uses, until there are none left.
func (s *Service) pruneLeaves(pick func(img *Image, tagged bool) bool, done func(*Image, []image.DeleteResponse)) error {
	skip := map[digest.Digest]bool{}
	for {
		s.mu.RLock()
		var victims []*Image
		for id, img := range s.images {
			if !skip[id] && !s.hasChild(id) && pick(img, len(s.refsOf(id)) > 0) {
				victims = append(victims, img)
			}
		}
		s.mu.RUnlock()
		if len(victims) == 0 {
			return nil
		}
		for _, img := range victims {
			if s.inUse(img.ID) {
				skip[img.ID] = true
				continue
			}
			var del []image.DeleteResponse
			for _, t := range s.Tags(img.ID) {
				del = append(del, image.DeleteResponse{Untagged: t})
			}
			d, err := s.deleteImage(img.ID)
			if err != nil {
				return err
			}
			done(img, append(del, d...))
		}
	}
}
