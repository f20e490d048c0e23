package overlay

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

type entry struct {
	name, body string
	typ        byte
	link       string
}

func layerTar(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ == tar.TypeDir {
			h.Mode, h.Size = 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	return buf.Bytes()
}

func TestApplyMountWhiteoutAndIsolation(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("overlay mounts need root")
	}
	root := t.TempDir()
	s, err := New(filepath.Join(root, "snap"))
	if err != nil {
		t.Fatal(err)
	}
	l1, l2 := digest.FromString("l1"), digest.FromString("l2")
	if err := s.Apply(l1, bytes.NewReader(layerTar(t,
		entry{name: "etc/", typ: tar.TypeDir},
		entry{name: "etc/a", body: "A", typ: tar.TypeReg},
		entry{name: "etc/gone", body: "G", typ: tar.TypeReg}))); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(l2, bytes.NewReader(layerTar(t,
		entry{name: "etc/.wh.gone", typ: tar.TypeReg},
		entry{name: "etc/b", body: "B", typ: tar.TypeReg}))); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(root, "c1", "rootfs")
	if err := s.Mount([]digest.Digest{l1, l2}, filepath.Join(root, "c1"), mnt); err != nil {
		t.Fatal(err)
	}
	defer Unmount(mnt)
	for name, want := range map[string]string{"etc/a": "A", "etc/b": "B"} {
		if b, err := os.ReadFile(filepath.Join(mnt, name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v", name, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(mnt, "etc/gone")); !os.IsNotExist(err) {
		t.Errorf("whiteout not applied: %v", err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "etc/a"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.dir(l1), "etc/a")); string(b) != "A" {
		t.Errorf("write reached the layer: %q", b)
	}
	if err := Unmount(mnt); err != nil {
		t.Fatal(err)
	}
}

func TestApplyRefusesBreakout(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("layer unpacking with ownership needs root")
	}
	root := t.TempDir()
	s, _ := New(filepath.Join(root, "snap"))
	bad := layerTar(t, entry{name: "../../escape", body: "x", typ: tar.TypeReg})
	_ = s.Apply(digest.FromString("bad"), bytes.NewReader(bad))
	if _, err := os.Stat(filepath.Join(root, "escape")); err == nil {
		t.Fatal("tar entry escaped the snapshot root")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(root), "escape")); err == nil {
		t.Fatal("tar entry escaped the snapshot root")
	}
}

func TestList(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("layer unpacking with ownership needs root")
	}
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := digest.FromString("l")
	if err := s.Apply(l, bytes.NewReader(layerTar(t, entry{name: "a", body: "A", typ: tar.TypeReg}))); err != nil {
		t.Fatal(err)
	}
	got, err := s.List()
	if err != nil || len(got) != 1 || got[0] != l {
		t.Fatalf("List = %v, %v (the empty lower dir is not a layer)", got, err)
	}
}

// A layer's size is the length of the tar it came from, however it got
// here, and a snapshot from before that was recorded falls back to its
// files' size.
func TestSize(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("layer unpacking with ownership needs root")
	}
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tarball := layerTar(t, entry{name: "a", body: "hello", typ: tar.TypeReg})
	l := digest.FromString("l")
	if err := s.Apply(l, bytes.NewReader(tarball)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Size(l); err != nil || n != int64(len(tarball)) {
		t.Fatalf("Size = %d, %v; want the tar's %d", n, err, len(tarball))
	}
	os.Remove(filepath.Join(s.path(l), "size"))
	if n, err := s.Size(l); err != nil || n != 5 {
		t.Fatalf("Size without a record = %d, %v; want the files' 5", n, err)
	}
	if _, err := s.Size("sha256:../x"); err == nil {
		t.Fatal("Size of an invalid chain ID succeeded")
	}
}

// Chain IDs become directory names: what is not a digest is refused
// (a registry's manifest chooses them).
func TestInvalidChainIDs(t *testing.T) {
	root := t.TempDir()
	s, err := New(filepath.Join(root, "snaps"))
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(root, "outside")
	os.MkdirAll(filepath.Join(outside, "diff"), 0o755)
	for _, bad := range []digest.Digest{"sha256:../outside", "sha256:../../" + digest.Digest(filepath.Base(root)), "nocolon", "sha256:ab"} {
		if s.Exists(bad) {
			t.Errorf("Exists(%q)", bad)
		}
		if err := s.Remove(bad); err == nil {
			t.Errorf("Remove(%q) accepted", bad)
		}
		if err := s.ApplyVerified(bad, strings.NewReader(""), ""); err == nil {
			t.Errorf("ApplyVerified(%q) accepted", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "diff")); err != nil {
		t.Fatal("a directory outside the root was removed")
	}
}

// A volatile mount (run --rm) works like any other, and the same
// writable layer mounts again after a clean unmount, although overlayfs
// leaves its "volatile was here" mark in the work dir.
func TestMountVolatile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("overlay mounts need root")
	}
	root := t.TempDir()
	s, err := New(filepath.Join(root, "snap"))
	if err != nil {
		t.Fatal(err)
	}
	l := digest.FromString("l")
	if err := s.Apply(l, bytes.NewReader(layerTar(t, entry{name: "a", body: "A", typ: tar.TypeReg}))); err != nil {
		t.Fatal(err)
	}
	rw, mnt := filepath.Join(root, "c"), filepath.Join(root, "mnt")
	for i := 0; i < 2; i++ {
		if err := s.MountVolatile([]digest.Digest{l}, rw, mnt); err != nil {
			t.Fatalf("mount %d: %v", i, err)
		}
		if b, err := os.ReadFile(filepath.Join(mnt, "a")); err != nil || string(b) != "A" {
			Unmount(mnt)
			t.Fatalf("mount %d: lower file %q %v", i, b, err)
		}
		if err := os.WriteFile(filepath.Join(mnt, "b"), []byte("B"), 0o644); err != nil {
			Unmount(mnt)
			t.Fatal(err)
		}
		if err := Unmount(mnt); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(rw, "upper", "b")); err != nil || string(b) != "B" {
		t.Fatalf("upper file: %q %v", b, err)
	}
}
