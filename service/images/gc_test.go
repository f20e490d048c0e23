package images

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-project/berth/store/content"
	"github.com/berth-project/berth/store/metadata"
	"github.com/berth-project/berth/store/snapshots/overlay"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestRemoveFreesBlobsAndLayers: removing the last reference to an image
// frees its config, manifest, layer blobs and unpacked layers; what another
// image shares stays until that one goes too.
func TestRemoveFreesBlobsAndLayers(t *testing.T) {
	s, root := newService(t)
	empty := storeState(t, root)
	commitImage(t, s, []string{"base", "a"}, "a:1", "a:2")
	commitImage(t, s, []string{"base", "b"}, "b:1")
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

// TestLease: what a lease holds survives the removal of the image that
// used it; what the operation wrote or unpacked goes at Release unless an
// image recorded meanwhile needs it.
func TestLease(t *testing.T) {
	s, root := newService(t)
	img, err := s.Import(rootfsTar(t, "x"), ImportOptions{Ref: "x"})
	if err != nil {
		t.Fatal(err)
	}
	l := s.NewLease()
	if _, ok := l.HoldBlob(digest.FromString("absent")); ok {
		t.Fatal("held a blob the store does not have")
	}
	layer, chain := img.Layers[0], img.ChainIDs()[0]
	if size, ok := l.HoldBlob(layer.Digest); !ok || size != layer.Size {
		t.Fatalf("HoldBlob = %d, %v; want %d", size, ok, layer.Size)
	}
	l.HoldChain(chain)
	scratch, _, _, err := s.IngestBlobUnsynced(strings.NewReader("scratch"))
	if err != nil {
		t.Fatal(err)
	}
	l.Wrote(scratch)
	kept := commitImage(t, s, []string{"kept"}, "kept:1")
	l.Wrote(kept.Layers[0].Digest)
	l.Unpacked(kept.ChainIDs()[0])
	if _, err := s.Remove("x", false, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBlob(layer.Digest); err != nil || !s.HasLayer(chain) {
		t.Fatal("leased content was removed")
	}
	keptOnly := storeState(t, root)
	l.Release()
	if _, err := s.ReadBlob(layer.Digest); err == nil || s.HasLayer(chain) {
		t.Fatal("held content kept after Release")
	}
	if _, err := s.ReadBlob(scratch); err == nil {
		t.Fatal("written blob kept after Release")
	}
	if got := storeState(t, root); len(got) != len(keptOnly)-3 { // the layer blob, its dir, scratch
		t.Fatalf("after Release: %v (before %v)", got, keptOnly)
	}
	if _, err := s.Resolve("kept:1"); err != nil || !s.HasLayer(kept.ChainIDs()[0]) {
		t.Fatal("Release removed what an image records")
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
	if _, err := s.Import(rootfsTar(t, "../../escape"), ImportOptions{Ref: "evil"}); err == nil {
		t.Fatal("import of an escaping layer succeeded")
	}
	if got := storeState(t, root); !reflect.DeepEqual(got, before) {
		t.Fatalf("left: %v", got)
	}
}

// commitImage records an image of one-file layers (each file's name is
// its layer's content), tagged refs.
func commitImage(t *testing.T, s *Service, files []string, refs ...string) *Image {
	t.Helper()
	var layers []ocispec.Descriptor
	var diffIDs []digest.Digest
	for _, f := range files {
		l, err := s.AddLayer(rootfsTar(t, f), diffIDs)
		if err != nil {
			t.Fatal(err)
		}
		layers, diffIDs = append(layers, l), append(diffIDs, l.Digest)
	}
	cfg := &dockerspec.DockerOCIImage{}
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}
	img, err := s.Commit(cfg, layers, "", refs...)
	if err != nil {
		t.Fatal(err)
	}
	return img
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
