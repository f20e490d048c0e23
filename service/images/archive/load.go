package archive

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/berth-project/berth/internal/ids"
	"github.com/berth-project/berth/service/images"
	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/go-archive/compression"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// LoadOptions are the parameters of `load`.
type LoadOptions struct {
	Quiet    bool              // no layer progress
	Platform *ocispec.Platform // only images of this platform (nil: any)
}

// LoadReporter receives what `load` shows: layer progress (unless quiet)
// and the result lines ("Loaded image: busybox:latest").
type LoadReporter interface {
	Progress(id, action string, current, total int64)
	Line(msg string)
}

// loadItem is one image an archive describes, with its files located.
type loadItem struct {
	config archiveFile
	layers []archiveFile
	refs   []reference.NamedTagged
	parent digest.Digest // docker-archive "Parent": an image of the same archive
}

// Load reads a docker-archive (Docker's `save` format, old and 25+) or an
// OCI image layout from a tar, optionally compressed, and records its
// images in s. Every layer is checked against the diff IDs of its config.
// Loading is all or nothing: on any error no image or tag is recorded and
// the blobs and layers the load added are removed again.
func Load(ctx context.Context, s Store, r io.Reader, o LoadOptions, rep LoadReporter) error {
	plain, err := compression.DecompressStream(r)
	if err != nil {
		return err
	}
	defer plain.Close()
	a := newLoadArchive(s)
	defer a.lease.Release()
	if err := a.read(ctx, plain); err != nil {
		return err
	}
	var items []*loadItem
	switch {
	case a.has(manifestFile):
		items, err = a.dockerItems()
	case a.has(ocispec.ImageIndexFile) || a.has(ocispec.ImageLayoutFile):
		items, err = a.ociItems(o.Platform)
	default:
		err = fmt.Errorf("invalid archive: does not contain a %s", manifestFile)
	}
	if err != nil {
		return err
	}
	var imgs []images.NewImage
	for _, it := range items {
		img, err := a.loadImage(ctx, it, o, rep)
		if err != nil {
			return err
		}
		if img == nil { // another platform
			continue
		}
		n := images.NewImage{Image: img}
		for _, r := range it.refs {
			n.Refs = append(n.Refs, r.String())
		}
		imgs = append(imgs, n)
	}
	linkParents(items, imgs)
	if err := syncImages(s, imgs); err != nil {
		return err
	}
	stored, err := s.Record(imgs)
	if err != nil {
		return err
	}
	for _, n := range stored {
		s.Publish(eventtypes.ActionLoad, n.Image.ID, "")
	}
	if rep == nil {
		return nil
	}
	for _, n := range stored {
		for _, r := range n.Refs {
			fam := familiar(r)
			if old, ok := n.Replaced[r]; ok {
				rep.Line(fmt.Sprintf("The image %s already exists, renaming the old one with ID %s to empty string", fam, old))
			}
			rep.Line("Loaded image: " + fam)
		}
		if len(n.Refs) == 0 {
			rep.Line("Loaded image ID: " + n.Image.ID.String())
		}
	}
	return nil
}

// syncImages makes the blobs of images about to be recorded durable: the
// archive's files were stored without fsync, most being thrown away.
func syncImages(s Blobs, imgs []images.NewImage) error {
	done := map[digest.Digest]bool{}
	for _, n := range imgs {
		ds := []digest.Digest{n.Image.ID}
		for _, l := range n.Image.Layers {
			ds = append(ds, l.Digest)
		}
		for _, d := range ds {
			if !done[d] {
				done[d] = true
				if err := s.SyncBlob(d); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func familiar(normalized string) string {
	n, err := reference.ParseNormalizedNamed(normalized)
	if err != nil {
		return normalized
	}
	return reference.FamiliarString(n)
}

// dockerItems reads a docker-archive manifest.json.
func (a *loadArchive) dockerItems() ([]*loadItem, error) {
	var manifest []manifestItem
	if err := a.readJSON(manifestFile, &manifest); err != nil {
		return nil, fmt.Errorf("invalid archive: failed to decode %s: %w", manifestFile, err)
	}
	if manifest == nil {
		return nil, errors.New("invalid manifest, manifest cannot be null (but can be [])")
	}
	items := make([]*loadItem, 0, len(manifest))
	for _, m := range manifest {
		it := &loadItem{parent: m.Parent}
		var err error
		if it.config, err = a.open(m.Config); err != nil {
			return nil, err
		}
		for _, l := range m.Layers {
			f, err := a.open(l)
			if err != nil {
				return nil, err
			}
			it.layers = append(it.layers, f)
		}
		for _, t := range m.RepoTags {
			named, err := reference.ParseNormalizedNamed(t)
			if err != nil {
				return nil, err
			}
			tagged, ok := named.(reference.NamedTagged)
			if !ok {
				return nil, fmt.Errorf("invalid tag %q", t)
			}
			it.refs = append(it.refs, tagged)
		}
		items = append(items, it)
	}
	return items, nil
}

// loadImage checks an image's config and unpacks its layers, verifying
// each against its diff ID. It returns the image to record (nil if the
// platform filter skips it); the lease holds the chains it unpacked anew.
func (a *loadArchive) loadImage(ctx context.Context, it *loadItem, o LoadOptions, rep LoadReporter) (*images.Image, error) {
	raw, err := a.s.ReadBlob(it.config.digest)
	if err != nil {
		return nil, err
	}
	var probe struct {
		RootFS *json.RawMessage `json:"rootfs"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	if probe.RootFS == nil {
		return nil, errors.New("invalid image JSON, no RootFS key")
	}
	var cfg dockerspec.DockerOCIImage
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	if cfg.OS != "" && cfg.OS != "linux" {
		return nil, fmt.Errorf("cannot load %s image on linux", cfg.OS)
	}
	if o.Platform != nil && !platformMatches(*o.Platform, cfg.OS, cfg.Architecture, cfg.Variant) {
		return nil, nil
	}
	diffIDs := cfg.RootFS.DiffIDs
	if expected, actual := len(it.layers), len(diffIDs); expected != actual {
		return nil, fmt.Errorf("invalid manifest, layers length mismatch: expected %d, got %d", expected, actual)
	}
	var layers []ocispec.Descriptor
	for i, diffID := range diffIDs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chain := identity.ChainID(append([]digest.Digest(nil), diffIDs[:i+1]...))
		desc, isNew, err := a.loadLayer(it.layers[i], i, diffID, chain, o, rep)
		if isNew {
			a.lease.Unpacked(chain)
		}
		if err != nil {
			return nil, err
		}
		layers = append(layers, desc)
	}
	img, err := a.s.Prepare(raw, &cfg, layers, "")
	if err != nil {
		return nil, err
	}
	// The manifest is new unless the image is: removed again if the load
	// fails (collect keeps it if an image needs it).
	a.lease.Wrote(img.Manifest)
	a.lease.HoldBlob(img.Manifest)
	return img, nil
}

// loadLayer makes sure layer i (diffID, on top of the chain before it) is
// stored uncompressed and unpacked as chain. It reports whether it
// unpacked the chain itself.
func (a *loadArchive) loadLayer(f archiveFile, i int, diffID, chain digest.Digest, o LoadOptions, rep LoadReporter) (ocispec.Descriptor, bool, error) {
	a.lease.HoldChain(chain)
	if a.s.HasLayer(chain) {
		if size, ok := a.lease.HoldBlob(diffID); ok {
			return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: diffID, Size: size}, false, nil
		}
	}
	plain, size, err := a.uncompressed(f)
	if err != nil {
		return ocispec.Descriptor{}, false, err
	}
	if plain != diffID {
		return ocispec.Descriptor{}, false, fmt.Errorf("invalid diffID for layer %d: expected %q, got %q", i, diffID, plain)
	}
	blob, err := a.s.OpenBlob(plain)
	if err != nil {
		return ocispec.Descriptor{}, false, err
	}
	defer blob.Close()
	var r io.Reader = blob
	var pr *progressReader
	if !o.Quiet && rep != nil {
		pr = &progressReader{r: blob, total: size, id: ids.Short(diffID.Encoded()), rep: rep}
		r = pr
	}
	existed := a.s.HasLayer(chain)
	if err := a.s.UnpackLayer(chain, r); err != nil {
		return ocispec.Descriptor{}, !existed && a.s.HasLayer(chain), err
	}
	if pr != nil {
		pr.finish()
	}
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: plain, Size: size}, !existed, nil
}

// uncompressed returns the digest and size of a layer file as an
// uncompressed tar, storing the decompressed tar if the file is gzip,
// zstd, bzip2 or xz.
func (a *loadArchive) uncompressed(f archiveFile) (digest.Digest, int64, error) {
	blob, err := a.s.OpenBlob(f.digest)
	if err != nil {
		return "", 0, err
	}
	defer blob.Close()
	br := bufio.NewReader(blob)
	magic, _ := br.Peek(10)
	if compression.Detect(magic) == compression.None {
		return f.digest, f.size, nil
	}
	plain, err := compression.DecompressStream(br)
	if err != nil {
		return "", 0, err
	}
	defer plain.Close()
	d, n, created, err := a.s.IngestBlob(plain)
	if err != nil {
		return "", 0, err
	}
	if created {
		a.lease.Wrote(d)
	}
	a.lease.HoldBlob(d)
	return d, n, nil
}

// linkParents sets the parent of each loaded image whose manifest entry
// names another image of the archive, when its history extends that
// image's by one step (Docker's validatedParentLinks and checkValidParent).
func linkParents(items []*loadItem, imgs []images.NewImage) {
	loaded := map[digest.Digest]*images.Image{}
	for _, n := range imgs {
		loaded[n.Image.ID] = n.Image
	}
	for _, it := range items {
		img, parent := loaded[it.config.digest], loaded[it.parent]
		if img != nil && parent != nil && img != parent && validParent(img.Config, parent.Config) {
			img.Parent = parent.ID
		}
	}
}

func validParent(img, parent *dockerspec.DockerOCIImage) bool {
	if len(img.History) == 0 && len(parent.History) == 0 {
		return true
	}
	if len(img.History)-len(parent.History) != 1 {
		return false
	}
	for i, hp := range parent.History {
		hc := img.History[i]
		if (hp.Created == nil) != (hc.Created == nil) || (hp.Created != nil && !hp.Created.Equal(*hc.Created)) {
			return false
		}
		hc.Created = hp.Created
		if !reflect.DeepEqual(hp, hc) {
			return false
		}
	}
	return true
}

// progressReader reports "Loading layer" progress every 512 KiB, and
// completion, as Docker's progress reader does.
type progressReader struct {
	r                io.Reader
	cur, last, total int64
	id               string
	rep              LoadReporter
	done             bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.cur += int64(n)
	if (p.cur-p.last >= 512<<10 || err != nil) && !p.done {
		p.last, p.done = p.cur, err != nil
		p.rep.Progress(p.id, "Loading layer", p.cur, p.total)
	}
	return n, err
}

// finish reports the layer complete (unpacking stops at the tar's end
// marker, before any padding after it).
func (p *progressReader) finish() {
	if !p.done {
		p.done = true
		p.rep.Progress(p.id, "Loading layer", p.total, p.total)
	}
}
