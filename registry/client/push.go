package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/moby/api/types/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Blob is a local blob to push: its descriptor and how to read it.
type Blob struct {
	Desc ocispec.Descriptor
	Open func() (io.ReadCloser, error)
	// MountFrom are repositories of the target registry known to hold
	// the blob (it was pulled from or pushed to them): the registry is
	// asked to mount it from the first instead of receiving it again.
	MountFrom []string
}

// PushProgress receives per-blob statuses as docker prints them.
type PushProgress interface {
	Layer(id, status string, current, total int64)
}

// Push uploads blobs the registry lacks (it asks first), then the
// manifest under ref's tag.
func (c *Client) Push(ctx context.Context, ref reference.NamedTagged, auth *registry.AuthConfig, manifest []byte, mediaType string, blobs []Blob, p PushProgress) error {
	eps, err := c.endpoints(ref, auth)
	if err != nil {
		return err
	}
	ep := eps[len(eps)-1] // pushes never go to mirrors
	opts := append([]remote.Option{remote.WithContext(ctx)}, ep.opts...)
	for _, b := range blobs {
		if b.Desc.MediaType != ocispec.MediaTypeImageConfig && !strings.Contains(b.Desc.MediaType, "container.image.v1+json") {
			p.Layer(shortID(b), "Preparing", 0, 0)
		}
	}
	hc, err := ep.client(ctx, transport.PushScope)
	if err != nil {
		return ep.pushError(ctx, ref, err)
	}
	for _, b := range blobs {
		l := &localLayer{b: b, p: p}
		if ep.hasBlob(ctx, hc, b.Desc) {
			if !l.isConfig() {
				p.Layer(shortID(b), "Layer already exists", 0, 0)
			}
			continue
		}
		var layer v1.Layer = l
		if len(b.MountFrom) > 0 {
			if src, err := name.NewRepository(ep.repo.RegistryStr()+"/"+b.MountFrom[0], ep.nameOpts...); err == nil {
				layer = &remote.MountableLayer{Layer: l, Reference: src.Digest(b.Desc.Digest.String())}
			}
		}
		if err := remote.WriteLayer(ep.repo, layer, opts...); err != nil {
			return ep.pushError(ctx, ref, err)
		}
		switch {
		case l.isConfig():
		case l.opened.Load():
			p.Layer(shortID(b), "Pushed", 0, 0)
		case len(b.MountFrom) > 0:
			p.Layer(shortID(b), "Mounted from "+b.MountFrom[0], 0, 0)
		default: // it appeared meanwhile (go-containerregistry asks too)
			p.Layer(shortID(b), "Layer already exists", 0, 0)
		}
	}
	if err := remote.Put(ep.repo.Tag(ref.Tag()), rawManifest{manifest, types.MediaType(mediaType)}, opts...); err != nil {
		return ep.pushError(ctx, ref, err)
	}
	return nil
}

func shortID(b Blob) string { return b.Desc.Digest.Encoded()[:12] }

// localLayer is a local blob as go-containerregistry writes it: only the
// compressed (stored) form is ever read.
type localLayer struct {
	b      Blob
	p      PushProgress
	opened atomic.Bool
}

func (l *localLayer) isConfig() bool {
	return l.b.Desc.MediaType == ocispec.MediaTypeImageConfig || strings.Contains(l.b.Desc.MediaType, "container.image.v1+json")
}

func (l *localLayer) Digest() (v1.Hash, error) { return v1.NewHash(l.b.Desc.Digest.String()) }
func (l *localLayer) DiffID() (v1.Hash, error) {
	return v1.Hash{}, errors.New("diff ID not needed to push")
}
func (l *localLayer) Size() (int64, error) { return l.b.Desc.Size, nil }
func (l *localLayer) MediaType() (types.MediaType, error) {
	return types.MediaType(l.b.Desc.MediaType), nil
}
func (l *localLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("uncompressed form not needed to push")
}

func (l *localLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.b.Open()
	if err != nil {
		return nil, err
	}
	l.opened.Store(true)
	if l.isConfig() {
		return rc, nil
	}
	id, total := shortID(l.b), l.b.Desc.Size
	return &countingReadCloser{ReadCloser: rc, report: func(n int64) { l.p.Layer(id, "Pushing", n, total) }}, nil
}

type countingReadCloser struct {
	io.ReadCloser
	n, last int64
	report  func(int64)
}

func (c *countingReadCloser) Read(b []byte) (int, error) {
	n, err := c.ReadCloser.Read(b)
	c.n += int64(n)
	if c.n-c.last >= 512<<10 || (err == io.EOF && c.n > c.last) {
		c.last = c.n
		c.report(c.n)
	}
	return n, err
}

// rawManifest is a manifest pushed byte for byte.
type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.b, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// pushError says what dockerd says for a refused push.
func (ep endpoint) pushError(ctx context.Context, ref reference.Named, err error) error {
	var te *transport.Error
	if !errors.As(err, &te) {
		return err
	}
	if ep.noBasicCredentials(ctx, te) {
		return errors.New("no basic auth credentials") // dockerd's words for a push, without the URL
	}
	if te.StatusCode == 401 || te.StatusCode == 403 {
		return fmt.Errorf("denied: requested access to the resource is denied: %w", errdefs.ErrUnauthenticated)
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, d := range te.Errors {
		msgs = append(msgs, errCodeText(string(d.Code))+": "+d.Message)
	}
	if len(msgs) == 0 {
		msgs = append(msgs, te.Error())
	}
	return fmt.Errorf("push %s: %s: %w", reference.FamiliarString(ref), strings.Join(msgs, ", "), errdefs.ErrUnavailable)
}
