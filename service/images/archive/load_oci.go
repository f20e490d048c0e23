package archive

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types of Docker's distribution format, which OCI layouts made by
// older tools still use.
const (
	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	// BuildKit's attestations sit in indexes beside the images they describe.
	annotationReferenceType = "vnd.docker.reference.type"
)

// ociItems reads an OCI image layout: the images index.json lists, and
// for image indexes (multi-platform images) the manifest of the wanted
// platform, this host's by default. Names come from the annotations
// Docker, containerd and podman write.
func (a *loadArchive) ociItems(want *ocispec.Platform) ([]*loadItem, error) {
	if a.has(ocispec.ImageLayoutFile) {
		var layout ocispec.ImageLayout
		if err := a.readJSON(ocispec.ImageLayoutFile, &layout); err != nil {
			return nil, fmt.Errorf("invalid archive: failed to decode %s: %w", ocispec.ImageLayoutFile, err)
		}
		if layout.Version != ocispec.ImageLayoutVersion {
			return nil, fmt.Errorf("unsupported OCI version %s", layout.Version)
		}
	}
	if !a.has(ocispec.ImageIndexFile) {
		return nil, fmt.Errorf("missing %s in OCI layout %s", ocispec.ImageIndexFile, ocispec.ImageLayoutVersion)
	}
	var idx ocispec.Index
	if err := a.readJSON(ocispec.ImageIndexFile, &idx); err != nil {
		return nil, fmt.Errorf("invalid archive: failed to decode %s: %w", ocispec.ImageIndexFile, err)
	}
	platform := hostPlatform()
	if want != nil {
		platform = *want
	}
	var items []*loadItem
	byManifest := map[digest.Digest]*loadItem{}
	for _, d := range idx.Manifests {
		if d.Annotations[annotationReferenceType] != "" {
			continue
		}
		m, err := a.pickManifest(d, platform, 0)
		if err != nil {
			return nil, err
		}
		it, ok := byManifest[m.Digest]
		if !ok {
			if it, err = a.manifestItem(m); err != nil {
				return nil, err
			}
			byManifest[m.Digest] = it
			items = append(items, it)
		}
		if ref := imageName(d.Annotations); ref != nil && !hasRef(it.refs, ref) {
			it.refs = append(it.refs, ref)
		}
	}
	return items, nil
}

// pickManifest returns the image manifest d stands for: d itself, or
// for an image index the entry of the platform.
func (a *loadArchive) pickManifest(d ocispec.Descriptor, p ocispec.Platform, depth int) (ocispec.Descriptor, error) {
	b, err := a.readBlob(d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	var probe struct {
		MediaType string            `json:"mediaType"`
		Manifests []json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("invalid archive: %s: %w", blobPath(d.Digest), err)
	}
	mt := d.MediaType
	if mt == "" {
		mt = probe.MediaType
	}
	isIndex := mt == ocispec.MediaTypeImageIndex || mt == mediaTypeDockerManifestList || (mt == "" && probe.Manifests != nil)
	if !isIndex {
		return d, nil
	}
	if depth > 4 {
		return ocispec.Descriptor{}, fmt.Errorf("invalid archive: image indexes nested too deep")
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("invalid archive: %s: %w", blobPath(d.Digest), err)
	}
	for _, m := range idx.Manifests {
		if m.Annotations[annotationReferenceType] != "" {
			continue
		}
		if m.Platform == nil || platformMatches(p, m.Platform.OS, m.Platform.Architecture, m.Platform.Variant) {
			return a.pickManifest(m, p, depth+1)
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("no matching manifest for %s in the manifest list entries: %w", platforms.Format(p), errdefs.ErrNotFound)
}

// manifestItem locates the config and layers of an image manifest.
func (a *loadArchive) manifestItem(d ocispec.Descriptor) (*loadItem, error) {
	b, err := a.readBlob(d)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("invalid archive: %s: %w", blobPath(d.Digest), err)
	}
	it := &loadItem{}
	if it.config, err = a.openBlob(m.Config); err != nil {
		return nil, err
	}
	for _, l := range m.Layers {
		f, err := a.openBlob(l)
		if err != nil {
			return nil, err
		}
		it.layers = append(it.layers, f)
	}
	return it, nil
}

// openBlob finds a descriptor's blob and checks its digest and size.
func (a *loadArchive) openBlob(d ocispec.Descriptor) (archiveFile, error) {
	if err := d.Digest.Validate(); err != nil {
		return archiveFile{}, fmt.Errorf("invalid archive: descriptor digest %q: %w", d.Digest, err)
	}
	name := blobPath(d.Digest)
	f, err := a.open(name)
	if err != nil {
		return archiveFile{}, err
	}
	if f.digest != d.Digest {
		return archiveFile{}, fmt.Errorf("invalid archive: %s has digest %s", name, f.digest)
	}
	if d.Size != 0 && f.size != d.Size {
		return archiveFile{}, fmt.Errorf("invalid archive: %s has %d bytes, its descriptor says %d", name, f.size, d.Size)
	}
	return f, nil
}

func (a *loadArchive) readBlob(d ocispec.Descriptor) ([]byte, error) {
	f, err := a.openBlob(d)
	if err != nil {
		return nil, err
	}
	if f.size > maxJSON {
		return nil, fmt.Errorf("invalid archive: %s: %d bytes is too large for a manifest", blobPath(d.Digest), f.size)
	}
	return a.s.ReadBlob(f.digest)
}

// imageName reads an index entry's name: containerd's full name
// annotation (Docker writes it), else the OCI ref name when it is a
// reference rather than a bare tag ("busybox:1", "docker.io/x/y:z"; a
// lone "latest" names no repository, so the image loads untagged).
func imageName(ann map[string]string) reference.NamedTagged {
	name := ann[annotationImageName]
	if name == "" {
		name = ann[ocispec.AnnotationRefName]
		if !strings.ContainsAny(name, ":/") {
			return nil
		}
	}
	n, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return nil
	}
	tagged, _ := reference.TagNameOnly(n).(reference.NamedTagged)
	return tagged
}

func hasRef(refs []reference.NamedTagged, r reference.NamedTagged) bool {
	for _, x := range refs {
		if x.String() == r.String() {
			return true
		}
	}
	return false
}
