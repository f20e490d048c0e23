package images

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/berth-project/berth/registry/client"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PushResult is what docker push prints last for each tag, and sends as
// the stream's aux message.
type PushResult struct {
	Tag    string `json:"Tag"`
	Digest string `json:"Digest"`
	Size   int    `json:"Size"`
}

// PushProgress is Progress plus the aux result of each tag.
type PushProgress interface {
	Progress
	Result(r PushResult)
}

// Push uploads a tag of a repository, or every tag when tag is empty, as
// the API's POST /images/{name}/push does.
func (s *Service) Push(ctx context.Context, name, tag string, platform *ocispec.Platform, auth *registry.AuthConfig, p PushProgress) error {
	if s.registry == nil {
		return fmt.Errorf("no registry client: %w", errdefs.ErrNotImplemented)
	}
	n, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return fmt.Errorf("invalid reference format: %w", errdefs.ErrInvalidArgument)
	}
	var tags []RepoTag
	if tag != "" {
		t, err := reference.WithTag(reference.TrimNamed(n), tag)
		if err != nil {
			return fmt.Errorf("invalid tag %q: %w", tag, errdefs.ErrInvalidArgument)
		}
		img, ok := s.LookupTag(t)
		if !ok {
			return fmt.Errorf("tag does not exist: %s: %w", reference.FamiliarString(t), errdefs.ErrNotFound)
		}
		tags = []RepoTag{{Ref: t, Image: img}}
	} else if tags = s.RepoTags(n.Name()); len(tags) == 0 {
		return fmt.Errorf("An image does not exist locally with the tag: %s: %w", reference.FamiliarName(n), errdefs.ErrNotFound)
	}
	for _, t := range tags { // this store keeps one platform per image
		if err := CheckPlatform(reference.FamiliarString(t.Ref), t.Image, platform); err != nil {
			return err
		}
	}
	p.Line("The push refers to repository [" + n.Name() + "]")
	for _, t := range tags {
		if err := s.pushTag(ctx, t, auth, p); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) pushTag(ctx context.Context, t RepoTag, auth *registry.AuthConfig, p PushProgress) error {
	lease := s.NewLease() // nothing pushed may vanish meanwhile
	defer lease.Release()
	man, err := s.content.ReadAll(t.Image.Manifest)
	if err != nil {
		return fmt.Errorf("manifest of %s: %w", reference.FamiliarString(t.Ref), err)
	}
	var m struct {
		MediaType string               `json:"mediaType"`
		Config    ocispec.Descriptor   `json:"config"`
		Layers    []ocispec.Descriptor `json:"layers"`
	}
	if err := json.Unmarshal(man, &m); err != nil {
		return fmt.Errorf("manifest of %s: %w", reference.FamiliarString(t.Ref), err)
	}
	if m.MediaType == "" {
		m.MediaType = ocispec.MediaTypeImageManifest
	}
	var blobs []client.Blob
	for _, d := range append(append([]ocispec.Descriptor(nil), m.Layers...), m.Config) {
		if _, ok := lease.HoldBlob(d.Digest); !ok {
			return fmt.Errorf("blob %s of %s: %w", d.Digest, reference.FamiliarString(t.Ref), errdefs.ErrNotFound)
		}
		blobs = append(blobs, client.Blob{Desc: d, Open: func() (io.ReadCloser, error) { return s.content.Open(d.Digest) },
			MountFrom: s.mountSources(d.Digest, t.Ref)})
	}
	if err := s.registry.Push(ctx, t.Ref, auth, man, m.MediaType, blobs, p); err != nil {
		return err
	}
	dg := t.Image.Manifest
	p.Line(fmt.Sprintf("%s: digest: %s size: %d", t.Ref.Tag(), dg, len(man)))
	p.Result(PushResult{Tag: t.Ref.Tag(), Digest: dg.String(), Size: len(man)})
	if canonical, err := reference.WithDigest(reference.TrimNamed(t.Ref), dg); err == nil {
		_ = s.addRepoDigest(t.Image.ID, canonical.String())
	}
	s.Publish(eventtypes.ActionPush, t.Image.ID, reference.FamiliarString(t.Ref))
	return nil
}

// mountSources are the other repositories of ref's registry that hold
// blob d as far as this store knows: those its images containing d were
// pulled from or pushed to (their repo digests).
func (s *Service) mountSources(d digest.Digest, ref reference.Named) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{reference.Path(ref): true}
	var out []string
	for _, img := range s.images {
		has := img.ID == d
		for _, l := range img.Layers {
			has = has || l.Digest == d
		}
		if !has {
			continue
		}
		for _, rd := range img.RepoDigests {
			n, err := reference.ParseNormalizedNamed(rd)
			if err != nil || reference.Domain(n) != reference.Domain(ref) || seen[reference.Path(n)] {
				continue
			}
			seen[reference.Path(n)] = true
			out = append(out, reference.Path(n))
		}
	}
	sort.Strings(out)
	return out
}
