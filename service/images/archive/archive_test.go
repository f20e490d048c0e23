package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/berth-project/berth/service/images"
	"github.com/berth-project/berth/store/content"
	"github.com/berth-project/berth/store/metadata"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// newService is an image service on real stores in a temporary root.
func newService(t *testing.T) (*images.Service, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("unpacking layers with ownership needs root")
	}
	root := t.TempDir()
	cs, err := content.New(filepath.Join(root, "content"))
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := overlay.New(filepath.Join(root, "overlay"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := metadata.Open(filepath.Join(root, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := images.New(cs, snaps, db)
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

// rootfsTar is a layer of one two-byte file.
func rootfsTar(t *testing.T, file string) *bytes.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: file, Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("hi"))
	tw.Close()
	return bytes.NewReader(buf.Bytes())
}

// Helpers that craft archives byte by byte, independently of Save, so the
// loader is tested against the formats rather than against itself.

type tarEntry struct {
	name string
	body []byte
	typ  byte // tar.TypeReg when zero
	link string
}

func makeTar(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, ModTime: time.Unix(0, 0)}
		switch e.typ {
		case 0, tar.TypeReg:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		case tar.TypeDir:
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeImage is an image's config and uncompressed layers.
type fakeImage struct {
	config []byte
	layers [][]byte
}

func (f fakeImage) id() digest.Digest { return digest.FromBytes(f.config) }

// newFakeImage makes a config whose diff IDs are the layers' digests;
// edit may change the config before it is encoded.
func newFakeImage(t *testing.T, edit func(map[string]any), layers ...[]byte) fakeImage {
	t.Helper()
	var diffIDs []string
	var history []map[string]any
	for i, l := range layers {
		diffIDs = append(diffIDs, digest.FromBytes(l).String())
		history = append(history, map[string]any{"created": "2024-01-01T00:00:00Z", "created_by": "layer " + string(rune('a'+i))})
	}
	cfg := map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"created":      "2024-01-01T00:00:00Z",
		"config":       map[string]any{"Cmd": []string{"sh"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history":      history,
		// a field berth does not model: the image ID must not change
		"docker_version": "28.2.2",
	}
	if diffIDs == nil {
		cfg["rootfs"] = map[string]any{"type": "layers", "diff_ids": []string{}}
	}
	if edit != nil {
		edit(cfg)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fakeImage{config: b, layers: layers}
}

func layerOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var es []tarEntry
	for _, f := range files {
		es = append(es, tarEntry{name: f, body: []byte("content of " + f)})
	}
	return makeTar(t, es...)
}

// dockerArchive writes the docker-archive layout of Docker 25+ (blobs
// under blobs/sha256, no OCI index): tags[i] are image i's RepoTags.
func dockerArchive(t *testing.T, imgs []fakeImage, tags [][]string) []byte {
	t.Helper()
	blobs := map[string][]byte{}
	var manifest []manifestItem
	for i, img := range imgs {
		m := manifestItem{Config: blobPath(img.id())}
		blobs[m.Config] = img.config
		for _, l := range img.layers {
			p := blobPath(digest.FromBytes(l))
			blobs[p] = l
			m.Layers = append(m.Layers, p)
		}
		if i < len(tags) {
			m.RepoTags = tags[i]
		}
		manifest = append(manifest, m)
	}
	mj, _ := json.Marshal(manifest)
	return makeTar(t, append(sortedEntries(blobs), tarEntry{name: manifestFile, body: mj})...)
}

// legacyArchive writes the layout of Docker before 25: <v1 id>/layer.tar
// (a shared layer as a symlink to the first copy), <config hex>.json.
func legacyArchive(t *testing.T, imgs []fakeImage, tags [][]string) []byte {
	t.Helper()
	var es []tarEntry
	var manifest []manifestItem
	seen := map[digest.Digest]string{}
	for i, img := range imgs {
		m := manifestItem{Config: img.id().Encoded() + ".json", RepoTags: tags[i]}
		es = append(es, tarEntry{name: m.Config, body: img.config})
		for j, l := range img.layers {
			d := digest.FromBytes(l)
			dir := digest.FromString(img.id().String() + string(rune(j))).Encoded()
			name := dir + "/layer.tar"
			es = append(es, tarEntry{name: dir + "/", typ: tar.TypeDir}, tarEntry{name: dir + "/VERSION", body: []byte("1.0")})
			if first, ok := seen[d]; ok {
				es = append(es, tarEntry{name: name, typ: tar.TypeSymlink, link: "../" + first})
			} else {
				seen[d] = name
				es = append(es, tarEntry{name: name, body: l})
			}
			m.Layers = append(m.Layers, name)
		}
		manifest = append(manifest, m)
	}
	mj, _ := json.Marshal(manifest)
	return makeTar(t, append(es, tarEntry{name: manifestFile, body: mj})...)
}

// ociLayout writes an OCI image layout; each image's manifest gets the
// given index annotations, and layers are gzip-compressed when gz is set.
func ociLayout(t *testing.T, imgs []fakeImage, annotations []map[string]string, gz bool) []byte {
	t.Helper()
	blobs := map[string][]byte{}
	var idx ocispec.Index
	idx.SchemaVersion, idx.MediaType = 2, ocispec.MediaTypeImageIndex
	for i, img := range imgs {
		desc := ociManifest(t, blobs, img, gz)
		if i < len(annotations) {
			desc.Annotations = annotations[i]
		}
		idx.Manifests = append(idx.Manifests, desc)
	}
	ij, _ := json.Marshal(idx)
	return makeTar(t, append(sortedEntries(blobs),
		tarEntry{name: ocispec.ImageIndexFile, body: ij},
		tarEntry{name: ocispec.ImageLayoutFile, body: []byte(`{"imageLayoutVersion":"1.0.0"}`)})...)
}

// ociManifest adds an image's blobs and manifest to blobs and returns the
// manifest's descriptor.
func ociManifest(t *testing.T, blobs map[string][]byte, img fakeImage, gz bool) ocispec.Descriptor {
	t.Helper()
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: img.id(), Size: int64(len(img.config))}}
	m.SchemaVersion = 2
	blobs[blobPath(img.id())] = img.config
	for _, l := range img.layers {
		mt := ocispec.MediaTypeImageLayer
		if gz {
			l, mt = gzipped(t, l), ocispec.MediaTypeImageLayerGzip
		}
		d := digest.FromBytes(l)
		blobs[blobPath(d)] = l
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(l))})
	}
	mj, _ := json.Marshal(m)
	d := digest.FromBytes(mj)
	blobs[blobPath(d)] = mj
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(mj))}
}

func sortedEntries(files map[string][]byte) []tarEntry {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	es := []tarEntry{{name: "blobs/", typ: tar.TypeDir}, {name: "blobs/sha256/", typ: tar.TypeDir}}
	for _, n := range names {
		es = append(es, tarEntry{name: n, body: files[n]})
	}
	return es
}

// readTar returns a tar's regular files and its entry names in order.
func readTar(t *testing.T, b []byte) (map[string][]byte, []string) {
	t.Helper()
	files := map[string][]byte{}
	var order []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, order
		}
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, h.Name)
		if h.Typeflag == tar.TypeReg {
			files[h.Name], _ = io.ReadAll(tr)
		}
	}
}

// storeState lists the blobs and unpacked layers of a service's root.
func storeState(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"content/blobs/sha256", "overlay"} {
		ents, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			out = append(out, dir+"/"+e.Name())
		}
	}
	return out
}

// lines collects what a load reports.
type lines struct {
	out      []string
	progress int
}

func (l *lines) Progress(id, action string, current, total int64) { l.progress++ }
func (l *lines) Line(msg string)                                  { l.out = append(l.out, msg) }
