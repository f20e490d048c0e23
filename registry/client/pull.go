package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is a remote image resolved to one platform: its manifest, and
// where to fetch its config and layers.
type Image struct {
	// Digest is what the reference resolved to (an index for a
	// multi-platform image): the digest `docker pull` prints.
	Digest digest.Digest
	// Manifest is the platform's image manifest, byte for byte.
	Manifest          []byte
	ManifestMediaType string
	ConfigDesc        ocispec.Descriptor
	Layers            []ocispec.Descriptor

	ep    endpoint
	blobs blobClient
}

// ManifestDigest is the digest of the platform's image manifest.
func (im *Image) ManifestDigest() digest.Digest { return digest.FromBytes(im.Manifest) }

// Resolve finds ref (tagged or digested) for platform, trying mirrors
// first for docker.io.
func (c *Client) Resolve(ctx context.Context, ref reference.Named, auth *registry.AuthConfig, platform ocispec.Platform) (*Image, error) {
	eps, err := c.endpoints(ref, auth)
	if err != nil {
		return nil, err
	}
	return firstAnswer(ctx, eps, func(ep endpoint) (*Image, error) { return c.resolveAt(ctx, ep, ref, platform) })
}

// firstAnswer asks each endpoint in turn (mirrors, then the registry) and
// returns the first answer. When the registry itself cannot be reached
// after a mirror said it has no such image, the mirror's answer is the
// one that means something, and is returned.
func firstAnswer[T any](ctx context.Context, eps []endpoint, ask func(endpoint) (T, error)) (T, error) {
	var zero T
	var mirrorMiss error
	for _, ep := range eps {
		v, err := ask(ep)
		if err == nil {
			return v, nil
		}
		if ep.mirror && ctx.Err() == nil {
			if mirrorMiss == nil && errdefs.IsNotFound(err) {
				mirrorMiss = err
			}
			continue
		}
		if mirrorMiss != nil && !errdefs.IsNotFound(err) && ctx.Err() == nil {
			return zero, mirrorMiss
		}
		return zero, err
	}
	return zero, mirrorMiss
}

func (c *Client) resolveAt(ctx context.Context, ep endpoint, ref reference.Named, platform ocispec.Platform) (*Image, error) {
	opts := append([]remote.Option{remote.WithContext(ctx)}, ep.opts...)
	r := ep.repo.Tag("latest")
	target := ""
	if d, ok := ref.(reference.Digested); ok {
		target = d.Digest().String()
	} else if t, ok := ref.(reference.Tagged); ok {
		target = t.Tag()
	}
	var desc *remote.Descriptor
	var err error
	if strings.Contains(target, ":") {
		desc, err = remote.Get(ep.repo.Digest(target), opts...)
	} else {
		if target != "" {
			r = ep.repo.Tag(target)
		}
		desc, err = remote.Get(r, opts...)
	}
	if err != nil {
		return nil, ep.pullError(ctx, ref, err)
	}
	im := &Image{Digest: digest.Digest(desc.Digest.String()), ep: ep}
	manifest, mt := desc.Manifest, string(desc.MediaType)
	if desc.MediaType.IsIndex() {
		var idx ocispec.Index
		if err := json.Unmarshal(desc.Manifest, &idx); err != nil {
			return nil, fmt.Errorf("manifest list of %s: %w", reference.FamiliarString(ref), err)
		}
		child, ok := matchPlatform(idx.Manifests, platform)
		if !ok {
			return nil, fmt.Errorf("no matching manifest for %s in the manifest list entries: %w", platforms.Format(platform), errdefs.ErrNotFound)
		}
		cd, err := remote.Get(ep.repo.Digest(child.Digest.String()), opts...)
		if err != nil {
			return nil, ep.pullError(ctx, ref, err)
		}
		manifest, mt = cd.Manifest, string(cd.MediaType)
	}
	if !types.MediaType(mt).IsImage() {
		return nil, fmt.Errorf("%s: unsupported manifest media type %q: %w", reference.FamiliarString(ref), mt, errdefs.ErrInvalidArgument)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", reference.FamiliarString(ref), err)
	}
	im.Manifest, im.ManifestMediaType, im.ConfigDesc, im.Layers = manifest, mt, m.Config, m.Layers
	return im, nil
}

// FetchConfig downloads the image's config (the caller may have it),
// verified as every blob is.
func (im *Image) FetchConfig(ctx context.Context) ([]byte, error) {
	rc, err := im.OpenBlob(ctx, im.ConfigDesc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 16<<20))
}

// matchPlatform picks the index entry for platform as dockerd does:
// containerd's matcher for it (arm64/v8 is arm64; an arm/v7 host takes
// arm/v6 when there is no v7), the closest entry first.
func matchPlatform(ms []ocispec.Descriptor, want ocispec.Platform) (ocispec.Descriptor, bool) {
	m := platforms.Only(want)
	var best *ocispec.Descriptor
	for i := range ms {
		p := ms[i].Platform
		if p == nil || !m.Match(*p) {
			continue
		}
		if best == nil || m.Less(*p, *best.Platform) {
			best = &ms[i]
		}
	}
	if best == nil {
		return ocispec.Descriptor{}, false
	}
	return *best, true
}

// pullError says what dockerd says for a failed pull.
func (ep endpoint) pullError(ctx context.Context, ref reference.Named, err error) error {
	var te *transport.Error
	if !errors.As(err, &te) {
		return err
	}
	if ep.noBasicCredentials(ctx, te) {
		return noBasicCredentials(te)
	}
	detail := te.Error()
	if len(te.Errors) > 0 {
		parts := make([]string, 0, len(te.Errors))
		for _, d := range te.Errors {
			parts = append(parts, errCodeText(string(d.Code))+": "+d.Message)
		}
		detail = strings.Join(parts, ", ")
	}
	code := ""
	if len(te.Errors) > 0 {
		code = string(te.Errors[0].Code)
	}
	switch {
	case code == string(transport.ManifestUnknownErrorCode):
		return fmt.Errorf("manifest for %s not found: %s: %w", reference.FamiliarString(ref), detail, errdefs.ErrNotFound)
	case code == string(transport.NameUnknownErrorCode), code == string(transport.UnauthorizedErrorCode),
		code == string(transport.DeniedErrorCode), te.StatusCode == 401, te.StatusCode == 403:
		return fmt.Errorf("pull access denied for %s, repository does not exist or may require 'docker login': %s: %w",
			reference.FamiliarName(ref), detail, errdefs.ErrNotFound)
	case te.StatusCode == 404:
		return fmt.Errorf("manifest for %s not found: manifest unknown: %w", reference.FamiliarString(ref), errdefs.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", detail, errdefs.ErrUnavailable)
}

// errCodeText is a registry error code as dockerd prints it
// (MANIFEST_UNKNOWN → "manifest unknown").
func errCodeText(code string) string { return strings.ToLower(strings.ReplaceAll(code, "_", " ")) }

// Tags lists a repository's tags (every page), trying mirrors first.
func (c *Client) Tags(ctx context.Context, repo reference.Named, auth *registry.AuthConfig) ([]string, error) {
	eps, err := c.endpoints(repo, auth)
	if err != nil {
		return nil, err
	}
	return firstAnswer(ctx, eps, func(ep endpoint) ([]string, error) {
		tags, err := remote.List(ep.repo, append([]remote.Option{remote.WithContext(ctx)}, ep.opts...)...)
		if err != nil {
			return nil, ep.pullError(ctx, repo, err)
		}
		return tags, nil
	})
}

// Distribution is GET /distribution/{name}/json: the descriptor ref
// resolves to at its registry and the platforms it offers (an index's
// entries, or the image config's own).
func (c *Client) Distribution(ctx context.Context, ref reference.Named, auth *registry.AuthConfig) (registry.DistributionInspect, error) {
	eps, err := c.endpoints(ref, auth)
	if err != nil {
		return registry.DistributionInspect{}, err
	}
	return firstAnswer(ctx, eps, func(ep endpoint) (registry.DistributionInspect, error) { return distributionAt(ctx, ep, ref) })
}

func distributionAt(ctx context.Context, ep endpoint, ref reference.Named) (registry.DistributionInspect, error) {
	var out registry.DistributionInspect
	opts := append([]remote.Option{remote.WithContext(ctx)}, ep.opts...)
	target := "latest"
	if d, ok := ref.(reference.Digested); ok {
		target = d.Digest().String()
	} else if t, ok := ref.(reference.Tagged); ok {
		target = t.Tag()
	}
	var r name.Reference = ep.repo.Tag(target)
	if strings.Contains(target, ":") {
		r = ep.repo.Digest(target)
	}
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return out, ep.pullError(ctx, ref, err)
	}
	out.Descriptor = ocispec.Descriptor{MediaType: string(desc.MediaType), Digest: digest.Digest(desc.Digest.String()), Size: desc.Size}
	out.Platforms = []ocispec.Platform{}
	if desc.MediaType.IsIndex() {
		var idx ocispec.Index
		if err := json.Unmarshal(desc.Manifest, &idx); err != nil {
			return out, err
		}
		for _, m := range idx.Manifests {
			if m.Platform != nil {
				out.Platforms = append(out.Platforms, *m.Platform)
			}
		}
		return out, nil
	}
	img, err := desc.Image()
	if err != nil {
		return out, ep.pullError(ctx, ref, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return out, ep.pullError(ctx, ref, err)
	}
	out.Platforms = append(out.Platforms, ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion})
	return out, nil
}
