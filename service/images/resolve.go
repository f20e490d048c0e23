package images

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

var hexPrefix = regexp.MustCompile(`^[a-f0-9]{1,64}$`)

// NotFoundError is Docker's "No such image" error for ref.
func NotFoundError(ref string) error {
	return fmt.Errorf("No such image: %s: %w", ref, errdefs.ErrNotFound)
}

// Normalize turns a user reference into Docker's full form
// ("busybox" → "docker.io/library/busybox:latest").
func Normalize(ref string) (reference.Named, error) {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, fmt.Errorf("invalid reference format: %w", errdefs.ErrInvalidArgument)
	}
	return reference.TagNameOnly(n), nil
}

// NormalizeTag is Normalize for a name an image is given (tag, commit,
// build -t, import): a name that is a digest algorithm would read as an
// image ID, so dockerd refuses it.
func NormalizeTag(ref string) (reference.Named, error) {
	n, err := Normalize(ref)
	if err != nil {
		return nil, err
	}
	if reference.FamiliarName(n) == string(digest.Canonical) {
		return nil, fmt.Errorf("refusing to create an ambiguous tag using digest algorithm as name: %w", errdefs.ErrInvalidArgument)
	}
	return n, nil
}

// Resolve finds an image by name[:tag], name@digest, full ID, or ID prefix, in
// Docker's order. hello-world is materialised on first use.
func (s *Service) Resolve(refOrID string) (*Image, error) {
	img, err := s.resolve(refOrID)
	if errdefs.IsNotFound(err) && isHello(refOrID) {
		if _, herr := s.EnsureHello(); herr != nil {
			return nil, herr
		}
		return s.resolve(refOrID)
	}
	return img, err
}

func (s *Service) resolve(refOrID string) (*Image, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if refOrID == "" {
		return nil, fmt.Errorf("image reference is empty: %w", errdefs.ErrInvalidArgument)
	}
	if d, err := digest.Parse(refOrID); err == nil {
		if img, ok := s.images[d]; ok {
			return img, nil
		}
		return nil, NotFoundError(refOrID)
	}
	if n, err := reference.ParseNormalizedNamed(refOrID); err == nil {
		if c, ok := n.(reference.Canonical); ok {
			if img, ok := s.images[c.Digest()]; ok {
				return img, nil
			}
			for _, img := range s.images {
				if img.Manifest == c.Digest() {
					return img, nil
				}
			}
			return nil, NotFoundError(refOrID)
		}
		if t, ok := s.tags[reference.TagNameOnly(n).String()]; ok {
			return s.images[t.ID], nil
		}
	}
	if prefix := strings.TrimPrefix(refOrID, "sha256:"); hexPrefix.MatchString(prefix) {
		var found *Image
		for id, img := range s.images {
			if strings.HasPrefix(id.Encoded(), prefix) {
				if found != nil {
					return nil, fmt.Errorf("multiple IDs found with provided prefix: %s: %w", refOrID, errdefs.ErrInvalidArgument)
				}
				found = img
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, NotFoundError(displayRef(refOrID))
}

// displayRef adds ":latest" to a tagless name, as Docker's messages do.
func displayRef(ref string) string {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	if _, ok := n.(reference.Digested); ok {
		return ref
	}
	if _, ok := n.(reference.Tagged); !ok {
		return ref + ":latest"
	}
	return ref
}

func isHello(ref string) bool {
	n, err := Normalize(ref)
	return err == nil && n.String() == helloRef
}
