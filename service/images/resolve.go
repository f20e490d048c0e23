package images

import (
	"fmt"
	"regexp"
	"sort"
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
	if errdefs.IsNotFound(err) && IsHello(refOrID) {
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

// IsHello reports whether ref names the built-in hello-world image, which
// Resolve materialises on first use.
func IsHello(ref string) bool {
	n, err := Normalize(ref)
	return err == nil && n.String() == helloRef
}

// LookupTag returns the image a tag points at, with none of Resolve's
// fallbacks (ID prefixes, hello-world).
func (s *Service) LookupTag(ref reference.NamedTagged) (*Image, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tags[ref.String()]
	img := s.images[t.ID]
	return img, ok && img != nil
}

// RepoTag is a tag of a repository and the image it points at.
type RepoTag struct {
	Ref   reference.NamedTagged
	Image *Image
}

// RepoTags returns the tags of one repository (a normalized name such as
// "docker.io/library/busybox"), sorted by tag.
func (s *Service) RepoTags(repo string) []RepoTag {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []RepoTag
	for k, t := range s.tags {
		n, err := reference.ParseNormalizedNamed(k)
		if err != nil || n.Name() != repo {
			continue
		}
		if tagged, ok := n.(reference.NamedTagged); ok {
			out = append(out, RepoTag{tagged, s.images[t.ID]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref.Tag() < out[j].Ref.Tag() })
	return out
}
