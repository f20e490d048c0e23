package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/berth-project/berth/service/images"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// SaveOptions are the parameters of `save`.
type SaveOptions struct {
	Platform *ocispec.Platform // only images of this platform (nil: any)
}

// saveItem is an image in an archive and the tags it is saved under.
type saveItem struct {
	img  *images.Image
	refs []reference.NamedTagged
}

// Save writes the images of s that names resolve to as one tar archive
// laid out as Docker 25+ writes it: a docker-archive (manifest.json,
// repositories) and an OCI image layout (oci-layout, index.json) sharing
// blobs/sha256, so both `docker load` and OCI tools read it. Name errors
// are returned before anything is written.
func Save(ctx context.Context, s Store, names []string, o SaveOptions, w io.Writer) error {
	items, err := resolveForSave(s, names, o.Platform)
	if err != nil {
		return err
	}
	a, err := newSaveArchive(s, items)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.write(ctx, w); err != nil {
		return err
	}
	for _, it := range items {
		s.Publish(eventtypes.ActionSave, it.img.ID, "")
	}
	return nil
}

// resolveForSave follows Docker's rules: a repository name alone means
// every tag of it, name:tag that tag, and IDs or digests the image
// without a tag. Images keep the order they were first named in.
func resolveForSave(s Resolver, names []string, platform *ocispec.Platform) ([]*saveItem, error) {
	var items []*saveItem
	byID := map[digest.Digest]*saveItem{}
	add := func(img *images.Image, ref reference.NamedTagged) error {
		it, ok := byID[img.ID]
		if !ok {
			if platform != nil && !platformMatches(*platform, img.Config.OS, img.Config.Architecture, img.Config.Variant) {
				return fmt.Errorf("no suitable export target found for platform %s: %w", platforms.Format(*platform), errdefs.ErrNotFound)
			}
			it = &saveItem{img: img}
			byID[img.ID] = it
			items = append(items, it)
		}
		if ref != nil {
			for _, r := range it.refs {
				if r.String() == ref.String() {
					return nil
				}
			}
			it.refs = append(it.refs, ref)
		}
		return nil
	}
	for _, name := range names {
		if images.IsHello(name) {
			if _, err := s.Resolve(name); err != nil { // materialises it
				return nil, err
			}
		}
		ref, err := reference.ParseAnyReference(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", err, errdefs.ErrInvalidArgument)
		}
		named, isNamed := ref.(reference.Named)
		_, canonical := ref.(reference.Canonical)
		switch {
		case !isNamed, canonical, reference.FamiliarName(named) == string(digest.Canonical):
			// an ID, a digest, or "sha256:<prefix>": the image, untagged
			img, err := s.Resolve(name)
			if err != nil {
				return nil, err
			}
			err = add(img, nil)
			if err != nil {
				return nil, err
			}
		case reference.IsNameOnly(named):
			tags := s.RepoTags(named.Name())
			if len(tags) == 0 {
				img, err := s.Resolve(name) // an ID prefix
				if err != nil {
					return nil, images.NotFoundError(name)
				}
				if err := add(img, nil); err != nil {
					return nil, err
				}
			}
			for _, t := range tags {
				if err := add(t.Image, t.Ref); err != nil {
					return nil, err
				}
			}
		default:
			tagged := named.(reference.NamedTagged)
			img, ok := s.LookupTag(tagged)
			if !ok {
				return nil, fmt.Errorf("reference does not exist: %w", errdefs.ErrNotFound)
			}
			if err := add(img, tagged); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

// saveArchive holds everything an archive needs, opened before the first
// byte is written: a concurrent rmi cannot take a blob away mid-stream.
type saveArchive struct {
	blobs map[digest.Digest]*saveBlob
	files []saveFile // index.json, manifest.json, oci-layout, repositories
}

type saveBlob struct {
	size  int64
	mtime time.Time
	data  []byte   // generated (manifests)
	f     *os.File // stored (configs, layers)
}

type saveFile struct {
	name string
	data []byte
}

func newSaveArchive(s Blobs, items []*saveItem) (a *saveArchive, err error) {
	a = &saveArchive{blobs: map[digest.Digest]*saveBlob{}}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	saved := map[digest.Digest]bool{}
	for _, it := range items {
		saved[it.img.ID] = true
	}
	var (
		manifest []manifestItem
		index    []ocispec.Descriptor
		repos    = map[string]map[string]string{}
	)
	for _, it := range items {
		img, cfg := it.img, it.img.Config
		if len(img.Layers) != len(cfg.RootFS.DiffIDs) {
			return nil, fmt.Errorf("image %s: %d layers for %d diff IDs", img.ID, len(img.Layers), len(cfg.RootFS.DiffIDs))
		}
		ts := time.Unix(0, 0)
		if cfg.Created != nil {
			ts = *cfg.Created
		}
		cfgSize, err := a.addStored(s, img.ID, ts)
		if err != nil {
			return nil, err
		}
		m := manifestItem{Config: blobPath(img.ID), Layers: []string{}, LayerSources: map[digest.Digest]layerSource{}}
		for i, l := range img.Layers {
			if _, err := a.addStored(s, l.Digest, ts); err != nil {
				return nil, err
			}
			m.Layers = append(m.Layers, blobPath(l.Digest))
			m.LayerSources[cfg.RootFS.DiffIDs[i]] = layerSource{MediaType: l.MediaType, Size: l.Size, Digest: l.Digest}
		}
		if len(m.LayerSources) == 0 {
			m.LayerSources = nil
		}
		if img.Parent != "" && saved[img.Parent] {
			m.Parent = img.Parent
		}
		manJSON, err := images.ManifestJSON(ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: img.ID, Size: cfgSize}, img.Layers)
		if err != nil {
			return nil, err
		}
		manDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(manJSON), Size: int64(len(manJSON))}
		a.blobs[manDesc.Digest] = &saveBlob{size: manDesc.Size, mtime: time.Unix(0, 0), data: manJSON}
		for _, ref := range it.refs {
			m.RepoTags = append(m.RepoTags, reference.FamiliarString(ref))
			tagged := manDesc
			tagged.Annotations = map[string]string{annotationImageName: ref.String(), ocispec.AnnotationRefName: ref.Tag()}
			index = append(index, tagged)
			if n := len(cfg.RootFS.DiffIDs); n > 0 {
				name := reference.FamiliarName(ref)
				if repos[name] == nil {
					repos[name] = map[string]string{}
				}
				repos[name][ref.Tag()] = cfg.RootFS.DiffIDs[n-1].Encoded()
			}
		}
		if len(it.refs) == 0 {
			index = append(index, manDesc)
		}
		manifest = append(manifest, m)
	}
	idx, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: index})
	if err != nil {
		return nil, err
	}
	man, err := jsonLine(manifest)
	if err != nil {
		return nil, err
	}
	a.files = []saveFile{
		{ocispec.ImageIndexFile, idx},
		{manifestFile, man},
		{ocispec.ImageLayoutFile, []byte(`{"imageLayoutVersion": "` + ocispec.ImageLayoutVersion + `"}`)},
	}
	if len(repos) > 0 {
		b, err := jsonLine(repos)
		if err != nil {
			return nil, err
		}
		a.files = append(a.files, saveFile{repositoriesFile, b})
	}
	return a, nil
}

// addStored opens a stored blob for the archive once and returns its size.
func (a *saveArchive) addStored(s Blobs, d digest.Digest, mtime time.Time) (int64, error) {
	if b, ok := a.blobs[d]; ok {
		return b.size, nil
	}
	f, err := s.OpenBlob(d)
	if err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	a.blobs[d] = &saveBlob{size: fi.Size(), mtime: mtime, f: f}
	return fi.Size(), nil
}

func (a *saveArchive) close() {
	for _, b := range a.blobs {
		if b.f != nil {
			b.f.Close()
		}
	}
}

// write streams the tar: the blobs directory, then the files, in the
// order of Docker's directory walk.
func (a *saveArchive) write(ctx context.Context, w io.Writer) error {
	tw := tar.NewWriter(w)
	epoch := time.Unix(0, 0)
	for _, dir := range []string{ocispec.ImageBlobsDir + "/", ocispec.ImageBlobsDir + "/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
			return err
		}
	}
	ds := make([]digest.Digest, 0, len(a.blobs))
	for d := range a.blobs {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	for _, d := range ds {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := a.blobs[d]
		var r io.Reader = bytes.NewReader(b.data)
		if b.f != nil {
			r = b.f
		}
		if err := writeFile(tw, blobPath(d), b.size, b.mtime, r); err != nil {
			return fmt.Errorf("write blob %s: %w", d, err)
		}
	}
	for _, f := range a.files {
		if err := writeFile(tw, f.name, int64(len(f.data)), epoch, bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeFile(tw *tar.Writer, name string, size int64, mtime time.Time, r io.Reader) error {
	hdr := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: mtime.Truncate(time.Second)}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(tw, io.LimitReader(r, size))
	if err == nil && n != size {
		err = fmt.Errorf("%s: short read (%d of %d bytes)", name, n, size)
	}
	return err
}

// jsonLine encodes v as json.Encoder does: with a trailing newline.
func jsonLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
