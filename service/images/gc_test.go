package images

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-project/berth/store/content"
	"github.com/berth-project/berth/store/metadata"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/opencontainers/go-digest"
)

// TestRemoveFreesBlobsAndLayers: removing the last reference to an image
// frees its config, manifest, layer blobs and unpacked layers; what another
// image shares stays until that one goes too.
func TestRemoveFreesBlobsAndLayers(t *testing.T) {
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
			if _, err := s.content.Info(d); err == nil {
				t.Errorf("rmi %s: blob %s kept", step.ref, d)
			}
		}
		for _, d := range step.stays {
			if _, err := s.content.Info(d); err != nil {
				t.Errorf("rmi %s: blob %s removed", step.ref, d)
			}
		}
		for _, c := range step.goneL {
			if s.snaps.Exists(c) {
				t.Errorf("rmi %s: layer %s kept", step.ref, c)
			}
		}
		for _, c := range step.stayL {
			if !s.snaps.Exists(c) {
				t.Errorf("rmi %s: layer %s removed", step.ref, c)
			}
		}
	}
	if got := storeState(t, root); !reflect.DeepEqual(got, empty) {
		t.Fatalf("left after removing every image: %v", got)
	}
}

// TestLeaseDefersCollection: content an operation in flight holds
// survives the removal of the image that used it, and goes when the
// lease ends if nothing recorded it meanwhile.
func TestLeaseDefersCollection(t *testing.T) {
	s, _ := newService(t)
	img, err := s.Import(rootfsTar(t, "x"), ImportOptions{Ref: "x"})
	if err != nil {
		t.Fatal(err)
	}
	layer, chain := img.Layers[0].Digest, img.ChainIDs()[0]
	s.lease(layer, chain)
	if _, err := s.Remove("x", false, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.content.Info(layer); err != nil || !s.snaps.Exists(chain) {
		t.Fatal("leased content was removed")
	}
	s.unlease(layer, chain)
	if _, err := s.content.Info(layer); err == nil || s.snaps.Exists(chain) {
		t.Fatal("content kept after its lease ended")
	}
}

// TestSweepAtStart: blobs and unpacked layers no image records (what a
// crash between writing and recording leaves) are removed when the
// service starts; recorded images are untouched.
func TestSweepAtStart(t *testing.T) {
	s, root := newService(t)
	img, err := s.Import(rootfsTar(t, "kept"), ImportOptions{Ref: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	kept := storeState(t, root)
	stray, err := s.content.WriteBytes([]byte("stray"))
	if err != nil {
		t.Fatal(err)
	}
	strayLayer, err := s.AddLayer(rootfsTar(t, "stray"), img.Config.RootFS.DiffIDs)
	if err != nil {
		t.Fatal(err)
	}
	if got := storeState(t, root); len(got) != len(kept)+3 { // stray blob, layer blob, layer dir
		t.Fatalf("strays not written: %v", got)
	}
	cs, _ := content.New(filepath.Join(root, "content"))
	snaps, _ := overlay.New(filepath.Join(root, "overlay"))
	s.db.Close()
	db, err := metadata.Open(filepath.Join(root, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s2, err := New(cs, snaps, db)
	if err != nil {
		t.Fatal(err)
	}
	if got := storeState(t, root); !reflect.DeepEqual(got, kept) {
		t.Fatalf("after restart: %v, want %v (strays %s %s)", got, kept, stray, strayLayer.Digest)
	}
	if _, err := s2.Resolve("kept"); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "overlay")); !containsName(ents, "empty") {
		t.Fatal("the empty lower dir was removed")
	}
}

func containsName(ents []os.DirEntry, name string) bool {
	for _, e := range ents {
		if strings.EqualFold(e.Name(), name) {
			return true
		}
	}
	return false
}

// TestRefusedLayerNotKept: a layer the snapshotter refuses (an entry
// escaping its root) leaves no blob behind.
func TestRefusedLayerNotKept(t *testing.T) {
	s, root := newService(t)
	before := storeState(t, root)
	evil := makeTar(t, tarEntry{name: "../../escape", body: []byte("x")})
	if _, err := s.Import(bytes.NewReader(evil), ImportOptions{Ref: "evil"}); err == nil {
		t.Fatal("import of an escaping layer succeeded")
	}
	if got := storeState(t, root); !reflect.DeepEqual(got, before) {
		t.Fatalf("left: %v", got)
	}
}
