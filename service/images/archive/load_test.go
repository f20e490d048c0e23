package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-project/berth/service/images"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func load(t *testing.T, s *images.Service, archive []byte, o LoadOptions) ([]string, error) {
	t.Helper()
	var l lines
	err := Load(context.Background(), s, bytes.NewReader(archive), o, &l)
	return l.out, err
}

// TestLoadRoundTrip: what Save writes, Load reads back into another
// store as the same images (IDs, tags, parents, layers, contents).
func TestLoadRoundTrip(t *testing.T) {
	src, _ := savedFixture(t)
	archive := save(t, src, "busybox", "other:1")
	dst, dstRoot := newService(t)
	out, err := load(t, dst, archive, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// "busybox" is every tag of the repository, in tag order
	want := []string{"Loaded image: busybox:1", "Loaded image: other:1", "Loaded image: busybox:latest"}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("output %q, want %q", out, want)
	}
	for _, ref := range []string{"busybox:latest", "busybox:1", "other:1"} {
		a, _ := src.Resolve(ref)
		b, err := dst.Resolve(ref)
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != b.ID || a.Manifest != b.Manifest || a.Parent != b.Parent || !reflect.DeepEqual(a.Layers, b.Layers) {
			t.Errorf("%s: loaded %+v, saved %+v", ref, b, a)
		}
		for _, c := range b.ChainIDs() {
			if !dst.HasLayer(c) {
				t.Errorf("%s: layer %s not unpacked", ref, c)
			}
		}
	}
	// The archive's own files (manifest.json, index.json, …) are not kept.
	blobs, _ := os.ReadDir(filepath.Join(dstRoot, "content", "blobs", "sha256"))
	if n := len(blobs); n != 6 { // 2 configs, 2 manifests, 2 layers
		t.Errorf("%d blobs after load, want 6", len(blobs))
	}
	// Again: same images, nothing new.
	if out, err := load(t, dst, archive, LoadOptions{}); err != nil || len(out) != 3 {
		t.Fatalf("second load: %q, %v", out, err)
	}
}

func TestLoadOutput(t *testing.T) {
	s, _ := newService(t)
	a := newFakeImage(t, nil, layerOf(t, "a"))
	b := newFakeImage(t, nil, layerOf(t, "b"))
	var l lines
	if err := Load(context.Background(), s, bytes.NewReader(dockerArchive(t, []fakeImage{a}, [][]string{{"box:1"}})), LoadOptions{}, &l); err != nil {
		t.Fatal(err)
	}
	if l.progress == 0 {
		t.Error("no layer progress without quiet")
	}
	for _, tc := range []struct {
		name    string
		archive []byte
		quiet   bool
		want    []string
	}{
		{"tag moves", dockerArchive(t, []fakeImage{b}, [][]string{{"box:1", "box:2"}}), false, []string{
			"The image box:1 already exists, renaming the old one with ID " + a.id().String() + " to empty string",
			"Loaded image: box:1", "Loaded image: box:2"}},
		{"untagged", dockerArchive(t, []fakeImage{a}, nil), true, []string{"Loaded image ID: " + a.id().String()}},
		{"same again", dockerArchive(t, []fakeImage{b}, [][]string{{"box:1"}}), true, []string{"Loaded image: box:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l lines
			if err := Load(context.Background(), s, bytes.NewReader(tc.archive), LoadOptions{Quiet: tc.quiet}, &l); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.out, tc.want) {
				t.Fatalf("output\n%q\nwant\n%q", l.out, tc.want)
			}
			if tc.quiet && l.progress != 0 {
				t.Fatal("progress while quiet")
			}
		})
	}
	// The image that lost its tag is still there, untagged.
	if _, ok := s.Get(a.id()); !ok {
		t.Fatal("replaced image was removed")
	}
}

// TestLoadFormats: the archive layouts other tools write.
func TestLoadFormats(t *testing.T) {
	base := layerOf(t, "bin/sh")
	a := newFakeImage(t, nil, base, layerOf(t, "etc/a"))
	b := newFakeImage(t, nil, base, layerOf(t, "etc/b"))
	empty := newFakeImage(t, nil)
	for _, tc := range []struct {
		name    string
		archive []byte
		want    []string
		tags    map[string]digest.Digest
	}{
		{"docker-archive 25+", dockerArchive(t, []fakeImage{a, b}, [][]string{{"a:1"}, {"b:1", "b:2"}}),
			[]string{"Loaded image: a:1", "Loaded image: b:1", "Loaded image: b:2"}, map[string]digest.Digest{"a:1": a.id(), "b:2": b.id()}},
		{"docker-archive before 25, shared layer as symlink", legacyArchive(t, []fakeImage{a, b}, [][]string{{"a:1"}, {"b:1"}}),
			[]string{"Loaded image: a:1", "Loaded image: b:1"}, map[string]digest.Digest{"a:1": a.id(), "b:1": b.id()}},
		{"docker-archive gzip-compressed", gzipped(t, dockerArchive(t, []fakeImage{a}, [][]string{{"a:1"}})),
			[]string{"Loaded image: a:1"}, map[string]digest.Digest{"a:1": a.id()}},
		{"image without layers", dockerArchive(t, []fakeImage{empty}, [][]string{{"empty:1"}}),
			[]string{"Loaded image: empty:1"}, map[string]digest.Digest{"empty:1": empty.id()}},
		{"OCI layout, gzip layers, containerd and OCI names", ociLayout(t, []fakeImage{a, b}, []map[string]string{
			{annotationImageName: "docker.io/library/a:oci", ocispec.AnnotationRefName: "oci"},
			{ocispec.AnnotationRefName: "example.com/b:2"},
		}, true), []string{"Loaded image: a:oci", "Loaded image: example.com/b:2"}, map[string]digest.Digest{"a:oci": a.id(), "example.com/b:2": b.id()}},
		{"OCI layout, bare tag ref name", ociLayout(t, []fakeImage{a}, []map[string]string{{ocispec.AnnotationRefName: "latest"}}, false),
			[]string{"Loaded image ID: " + a.id().String()}, nil},
		{"OCI layout, multi-platform index", multiPlatformLayout(t, a, b), []string{"Loaded image: multi:1"}, map[string]digest.Digest{"multi:1": a.id()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, root := newService(t)
			out, err := load(t, s, tc.archive, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, tc.want) {
				t.Fatalf("output %q, want %q", out, tc.want)
			}
			for ref, id := range tc.tags {
				img, err := s.Resolve(ref)
				if err != nil || img.ID != id {
					t.Fatalf("%s: %v, %v", ref, img, err)
				}
				// Layers are stored uncompressed, unpacked, and readable.
				for i, l := range img.Layers {
					if l.Digest != img.Config.RootFS.DiffIDs[i] {
						t.Errorf("layer %d stored as %s", i, l.Digest)
					}
				}
				if len(img.Layers) == 2 {
					name := map[digest.Digest]string{a.id(): "etc/a", b.id(): "etc/b"}[id]
					top := img.ChainIDs()[1]
					if body, err := os.ReadFile(filepath.Join(root, "overlay", top.Encoded(), "diff", name)); err != nil || string(body) != "content of "+name {
						t.Errorf("unpacked %s: %q, %v", name, body, err)
					}
				}
			}
		})
	}
}

// multiPlatformLayout: index.json → an image index with a manifest for
// another architecture, one for this host and an attestation.
func multiPlatformLayout(t *testing.T, host, other fakeImage) []byte {
	t.Helper()
	blobs := map[string][]byte{}
	otherArch := "arm64"
	if runtime.GOARCH == "arm64" {
		otherArch = "amd64"
	}
	od := ociManifest(t, blobs, other, true)
	od.Platform = &ocispec.Platform{OS: "linux", Architecture: otherArch}
	hd := ociManifest(t, blobs, host, false)
	hd.Platform = &ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	att := ociManifest(t, blobs, newFakeImage(t, nil), false)
	att.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	att.Annotations = map[string]string{annotationReferenceType: "attestation-manifest"}
	inner := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{od, hd, att}}
	inner.SchemaVersion = 2
	ib, _ := json.Marshal(inner)
	id := digest.FromBytes(ib)
	blobs[blobPath(id)] = ib
	outer := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{{
		MediaType: ocispec.MediaTypeImageIndex, Digest: id, Size: int64(len(ib)),
		Annotations: map[string]string{annotationImageName: "docker.io/library/multi:1"},
	}}}
	outer.SchemaVersion = 2
	ob, _ := json.Marshal(outer)
	return makeTar(t, append(sortedEntries(blobs),
		tarEntry{name: "index.json", body: ob}, tarEntry{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"1.0.0"}`)})...)
}

// TestLoadRejects: broken and hostile archives fail with Docker's words
// and leave the store exactly as it was: no image, no tag, no blob, no
// unpacked layer. A loaded image sharing layers with the archive keeps them.
func TestLoadRejects(t *testing.T) {
	outside := t.TempDir()
	shared := layerOf(t, "shared")
	// a 256 KiB layer: the middle of the archive falls inside it
	bigLayer := makeTar(t, tarEntry{name: "big", body: bytes.Repeat([]byte("0123456789abcdef"), 16<<10)})
	good := newFakeImage(t, nil, shared, bigLayer)
	valid := dockerArchive(t, []fakeImage{good}, [][]string{{"good:1"}})
	escapeName := newFakeImage(t, nil, shared, makeTar(t, tarEntry{name: "../../../../../../../../" + outside[1:] + "/escaped"}))
	escapeLink := newFakeImage(t, nil, shared, makeTar(t,
		tarEntry{name: "up", typ: tar.TypeSymlink, link: "../../../../../../../../../../.." + outside},
		tarEntry{name: "up/escaped"}))
	absLinkDir := newFakeImage(t, nil, makeTar(t,
		tarEntry{name: "abs", typ: tar.TypeSymlink, link: outside},
		tarEntry{name: "abs/escaped"}))
	hardlink := newFakeImage(t, nil, makeTar(t, tarEntry{name: "h", typ: tar.TypeLink, link: "../../../../../../etc/passwd"}))
	windows := newFakeImage(t, func(c map[string]any) { c["os"] = "windows" }, layerOf(t, "w"))
	noRootFS := newFakeImage(t, func(c map[string]any) { delete(c, "rootfs") })
	lying := newFakeImage(t, nil, shared, layerOf(t, "lie"))
	lying.layers[1] = layerOf(t, "something else")
	second := newFakeImage(t, nil, layerOf(t, "second"))
	second.layers[0] = layerOf(t, "not second")

	missingBlob := func() []byte {
		files, _ := readTar(t, valid)
		var es []tarEntry
		for n, b := range files {
			if n != blobPath(digest.FromBytes(good.layers[1])) {
				es = append(es, tarEntry{name: n, body: b})
			}
		}
		return makeTar(t, es...)
	}()
	ociBadDigest := func() []byte {
		files, _ := readTar(t, ociLayout(t, []fakeImage{good}, nil, false))
		d := blobPath(digest.FromBytes(good.layers[1]))
		files[d] = layerOf(t, "tampered")
		var es []tarEntry
		for n, b := range files {
			es = append(es, tarEntry{name: n, body: b})
		}
		return makeTar(t, es...)
	}()
	layerCount := func() []byte {
		img := good
		img.layers = img.layers[:1]
		return dockerArchive(t, []fakeImage{img}, nil)
	}()

	for _, tc := range []struct {
		name    string
		archive []byte
		err     string
	}{
		{"truncated in a layer", valid[:len(valid)/2], "unexpected EOF"},
		{"truncated between entries", valid[:bytes.Index(valid, []byte("manifest.json\x00"))], "invalid archive: does not contain a manifest.json"},
		{"truncated in a header", valid[:700], "unexpected EOF"},
		{"not a tar", []byte(strings.Repeat("not a tar archive ", 64)), "archive/tar: invalid tar header"},
		{"not an image", makeTar(t, tarEntry{name: "etc/passwd", body: []byte("root:x:0:0")}), "invalid archive: does not contain a manifest.json"},
		{"empty", nil, "invalid archive: does not contain a manifest.json"},
		{"manifest.json not JSON", makeTar(t, tarEntry{name: "manifest.json", body: []byte("{")}), "invalid archive: failed to decode manifest.json"},
		{"manifest.json null", makeTar(t, tarEntry{name: "manifest.json", body: []byte("null")}), "invalid manifest, manifest cannot be null (but can be [])"},
		{"missing blob", missingBlob, "open " + blobPath(digest.FromBytes(good.layers[1])) + ": no such file or directory"},
		{"layer count", layerCount, "invalid manifest, layers length mismatch: expected 1, got 2"},
		{"diff ID mismatch", dockerArchive(t, []fakeImage{lying}, [][]string{{"lie:1"}}), `invalid diffID for layer 1: expected "` + digest.FromBytes(layerOf(t, "lie")).String()},
		{"second image bad: first not kept", dockerArchive(t, []fakeImage{good, second}, [][]string{{"good:1"}, {"second:1"}}), "invalid diffID for layer 0"},
		{"layer entry ../", dockerArchive(t, []fakeImage{escapeName}, [][]string{{"evil:1"}}), "invalid entry name"},
		{"layer symlink ../ escape", dockerArchive(t, []fakeImage{escapeLink}, [][]string{{"evil:1"}}), "path escapes from parent"},
		{"layer hardlink escape", dockerArchive(t, []fakeImage{hardlink}, [][]string{{"evil:1"}}), "invalid hardlink target"},
		{"archive entry ../", makeTar(t, tarEntry{name: "../manifest.json", body: []byte("[]")}), `invalid entry name "../manifest.json"`},
		{"windows image", dockerArchive(t, []fakeImage{windows}, nil), "cannot load windows image on linux"},
		{"config without rootfs", dockerArchive(t, []fakeImage{noRootFS}, nil), "invalid image JSON, no RootFS key"},
		{"bad tag", dockerArchive(t, []fakeImage{good}, [][]string{{"Bad:1"}}), "invalid reference format"},
		{"digest instead of tag", dockerArchive(t, []fakeImage{good}, [][]string{{"good@sha256:" + strings.Repeat("a", 64)}}), "invalid tag"},
		{"OCI blob digest mismatch", ociBadDigest, "invalid archive: " + blobPath(digest.FromBytes(good.layers[1])) + " has digest"},
		{"OCI layout without index", makeTar(t, tarEntry{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"1.0.0"}`)}), "missing index.json in OCI layout 1.0.0"},
		{"OCI layout version", makeTar(t, tarEntry{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"2.0.0"}`)}, tarEntry{name: "index.json", body: []byte(`{}`)}), "unsupported OCI version 2.0.0"},
		{"hostile absolute symlink is contained, then a bad layer", dockerArchive(t, []fakeImage{absLinkDir, second}, nil), "invalid diffID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, root := newService(t)
			// An image that shares the base layer must keep it.
			other := newFakeImage(t, nil, shared)
			if _, err := load(t, s, dockerArchive(t, []fakeImage{other}, [][]string{{"other:1"}}), LoadOptions{Quiet: true}); err != nil {
				t.Fatal(err)
			}
			before := storeState(t, root)
			_, err := load(t, s, tc.archive, LoadOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if after := storeState(t, root); !reflect.DeepEqual(before, after) {
				t.Errorf("store changed:\nbefore %v\nafter  %v", before, after)
			}
			if list := s.List(images.ListOptions{All: true}); len(list) != 1 || list[0].ID != other.id().String() {
				t.Errorf("images after a failed load: %+v", list)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Errorf("a layer wrote outside its snapshot: %v", ents)
			}
			if ents, _ := os.ReadDir(filepath.Join(root, "content", "ingest")); len(ents) != 0 {
				t.Errorf("ingest left: %v", ents)
			}
		})
	}
}

// TestLoadedImagesCollected: a load's lease ends with it, so removing the
// last reference to a loaded image frees its config, manifest, layer blobs
// and unpacked layers; what another image shares stays until that one
// goes too.
func TestLoadedImagesCollected(t *testing.T) {
	s, root := newService(t)
	empty := storeState(t, root)
	base := layerOf(t, "base")
	a := newFakeImage(t, nil, base, layerOf(t, "a"))
	b := newFakeImage(t, nil, base, layerOf(t, "b"))
	if _, err := load(t, s, dockerArchive(t, []fakeImage{a, b}, [][]string{{"a:1", "a:2"}, {"b:1"}}), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	imgA, _ := s.Resolve("a:1")
	imgB, _ := s.Resolve("b:1")
	for _, step := range []struct {
		ref          string
		gone, stays  []digest.Digest // blobs
		goneL, stayL []digest.Digest // chains
	}{
		{ref: "a:1", stays: []digest.Digest{imgA.ID, imgA.Layers[1].Digest}, stayL: imgA.ChainIDs()}, // a:2 still refers to it
		{ref: "a:2", gone: []digest.Digest{imgA.ID, imgA.Manifest, imgA.Layers[1].Digest}, stays: []digest.Digest{imgB.Layers[0].Digest},
			goneL: imgA.ChainIDs()[1:], stayL: imgB.ChainIDs()},
		{ref: "b:1", gone: []digest.Digest{imgB.ID, imgB.Manifest, imgB.Layers[0].Digest, imgB.Layers[1].Digest}, goneL: imgB.ChainIDs()},
	} {
		if _, err := s.Remove(step.ref, false, true); err != nil {
			t.Fatal(err)
		}
		for _, d := range step.gone {
			if _, err := s.ReadBlob(d); err == nil {
				t.Errorf("rmi %s: blob %s kept", step.ref, d)
			}
		}
		for _, d := range step.stays {
			if _, err := s.ReadBlob(d); err != nil {
				t.Errorf("rmi %s: blob %s removed", step.ref, d)
			}
		}
		for _, c := range step.goneL {
			if s.HasLayer(c) {
				t.Errorf("rmi %s: layer %s kept", step.ref, c)
			}
		}
		for _, c := range step.stayL {
			if !s.HasLayer(c) {
				t.Errorf("rmi %s: layer %s removed", step.ref, c)
			}
		}
	}
	if got := storeState(t, root); !reflect.DeepEqual(got, empty) {
		t.Fatalf("left after removing every image: %v", got)
	}
}

// TestLoadAbsoluteSymlinkContained: an absolute symlink in a layer points
// into the layer, as in a chroot (Docker's semantics), never at the host.
func TestLoadAbsoluteSymlinkContained(t *testing.T) {
	s, root := newService(t)
	outside := t.TempDir()
	img := newFakeImage(t, nil, makeTar(t,
		tarEntry{name: "abs", typ: tar.TypeSymlink, link: outside},
		tarEntry{name: "abs/escaped", body: []byte("x")}))
	if _, err := load(t, s, dockerArchive(t, []fakeImage{img}, [][]string{{"abs:1"}}), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("layer wrote to the host: %v", ents)
	}
	loaded, _ := s.Resolve("abs:1")
	inside := filepath.Join(root, "overlay", loaded.ChainIDs()[0].Encoded(), "diff", outside, "escaped")
	if _, err := os.Stat(inside); err != nil {
		t.Fatalf("file not inside the snapshot: %v", err)
	}
}

func TestLoadPlatform(t *testing.T) {
	s, _ := newService(t)
	img := newFakeImage(t, nil, layerOf(t, "x"))
	archive := dockerArchive(t, []fakeImage{img}, [][]string{{"x:1"}})
	out, err := load(t, s, archive, LoadOptions{Platform: &ocispec.Platform{OS: "linux", Architecture: "s390x"}})
	if err != nil || len(out) != 0 || len(s.List(images.ListOptions{All: true})) != 0 {
		t.Fatalf("other platform: %q, %v", out, err)
	}
	if _, err := load(t, s, archive, LoadOptions{Platform: &ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve("x:1"); err != nil {
		t.Fatal(err)
	}
}

// TestLoadKeepsConfigBytes: a config berth does not model field by field
// keeps its exact bytes, so the image ID survives load and tag.
func TestLoadKeepsConfigBytes(t *testing.T) {
	s, _ := newService(t)
	img := newFakeImage(t, nil, layerOf(t, "x"))
	if _, err := load(t, s, dockerArchive(t, []fakeImage{img}, [][]string{{"x:1"}}), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag("x:1", "x:2"); err != nil {
		t.Fatal(err)
	}
	if got := mustID(t, s, "x:2"); got != img.id().String() {
		t.Fatalf("tag made %s, want %s", got, img.id())
	}
	if raw, _ := s.ReadBlob(img.id()); !bytes.Equal(raw, img.config) {
		t.Fatal("config bytes changed")
	}
}
