package images

import (
	"fmt"
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
	n, err := Normalize(ref)
	if err != nil {
		return err
	}
	_, err = s.Commit(img.Config, img.Layers, img.Parent, n.String())
	return err
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
		}
		if len(stopped) > 0 {
			return out, nil // the container keeps the image alive, untagged
		}
	}
	deleted, err := s.deleteImage(img.ID)
	if err != nil {
		return out, err
	}
	return append(out, deleted...), nil
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
	keepBlobs, keepChains := map[digest.Digest]bool{}, map[digest.Digest]bool{}
	for _, other := range s.images {
		keepBlobs[other.ID], keepBlobs[other.Manifest] = true, true
		for _, l := range other.Layers {
			keepBlobs[l.Digest] = true
		}
		for _, c := range other.ChainIDs() {
			keepChains[c] = true
		}
	}
	s.mu.Unlock()
	out := []image.DeleteResponse{{Deleted: id.String()}}
	for _, d := range append([]digest.Digest{img.ID, img.Manifest}, layerDigests(img)...) {
		if !keepBlobs[d] {
			_ = s.content.Delete(d)
		}
	}
	for _, c := range img.ChainIDs() {
		if !keepChains[c] {
			if err := s.snaps.Remove(c); err != nil {
				return out, err
			}
			out = append(out, image.DeleteResponse{Deleted: c.String()})
		}
	}
	return out, nil
}

func layerDigests(img *Image) []digest.Digest {
	out := make([]digest.Digest, len(img.Layers))
	for i, l := range img.Layers {
		out[i] = l.Digest
	}
	return out
}

// Prune deletes dangling images (all unused ones with all=true) that no
// container uses.
func (s *Service) Prune(all bool, want map[string]string) (image.PruneReport, error) {
	report := image.PruneReport{ImagesDeleted: []image.DeleteResponse{}}
	s.mu.RLock()
	var victims []*Image
	for id, img := range s.images {
		if len(s.refsOf(id)) > 0 && !all {
			continue
		}
		if !labels.Match(img.Config.Config.Labels, want) {
			continue
		}
		victims = append(victims, img)
	}
	s.mu.RUnlock()
	for _, img := range victims {
		if s.users != nil {
			if r, st := s.users(img.ID); len(r)+len(st) > 0 {
				continue
			}
		}
		for _, t := range s.Tags(img.ID) {
			report.ImagesDeleted = append(report.ImagesDeleted, image.DeleteResponse{Untagged: t})
		}
		del, err := s.deleteImage(img.ID)
		if err != nil {
			return report, err
		}
		report.ImagesDeleted = append(report.ImagesDeleted, del...)
		report.SpaceReclaimed += uint64(img.Size)
	}
	return report, nil
}
