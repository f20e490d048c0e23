package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/store/content"
	"github.com/berth-project/berth/store/metadata"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

func newService(t *testing.T) (*Service, string) {
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
	s, err := New(cs, snaps, db)
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

func rootfsTar(t *testing.T, file string) *bytes.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: file, Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("hi"))
	tw.Close()
	return bytes.NewReader(buf.Bytes())
}

func TestImportResolveRemove(t *testing.T) {
	s, root := newService(t)
	img, err := s.Import(rootfsTar(t, "a"), ImportOptions{Ref: "busybox", Changes: []string{`CMD ["sh"]`}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"busybox", "busybox:latest", "docker.io/library/busybox:latest", img.ID.String(), img.ID.Encoded()[:12], "sha256:" + img.ID.Encoded()[:8]} {
		got, err := s.Resolve(ref)
		if err != nil || got.ID != img.ID {
			t.Errorf("Resolve(%q) = %v, %v", ref, got, err)
		}
	}
	if _, err := s.Resolve("nope"); !errdefs.IsNotFound(err) || err.Error() != "No such image: nope:latest: not found" {
		t.Errorf("Resolve(nope) = %v", err)
	}
	// A second image from another tar: two IDs, an ambiguous empty-ish prefix is refused.
	img2, err := s.Import(rootfsTar(t, "b"), ImportOptions{Ref: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if img2.ID == img.ID {
		t.Fatal("different content, same ID")
	}
	if err := s.Tag("busybox", "me/box:1"); err != nil {
		t.Fatal(err)
	}
	if got := s.Tags(img.ID); len(got) != 2 {
		t.Fatalf("tags = %v", got)
	}
	s.SetUsers(func(id digest.Digest) ([]string, []string) {
		if id == img.ID {
			return nil, []string{"c0ffee000000"}
		}
		return nil, nil
	})
	if _, err := s.Remove(img.ID.String(), false, true); !errdefs.IsConflict(err) {
		t.Fatalf("remove by ID with two tags: %v", err)
	}
	if _, err := s.Remove("me/box:1", false, true); err != nil {
		t.Fatalf("untag: %v", err)
	}
	if _, err := s.Remove("busybox", false, true); !errdefs.IsConflict(err) {
		t.Fatalf("remove of a used image: %v", err)
	}
	s.SetUsers(nil)
	resp, err := s.Remove("busybox", false, true)
	if err != nil || len(resp) < 2 || resp[0].Untagged != "busybox:latest" || resp[1].Deleted != img.ID.String() {
		t.Fatalf("remove = %+v, %v", resp, err)
	}
	if _, err := os.Stat(filepath.Join(root, "content", "blobs", "sha256", img.ID.Encoded())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config blob left: %v", err)
	}
	// Records survive a reopen.
	s2, err := New(s.content, s.snaps, s.db)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Resolve("other"); err != nil || got.ID != img2.ID {
		t.Fatalf("after reopen: %v, %v", got, err)
	}
}

func TestHelloIsDeterministic(t *testing.T) {
	s1, _ := newService(t)
	s2, _ := newService(t)
	a, err := s1.Resolve("hello-world")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s2.Resolve("hello-world:latest")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID {
		t.Fatalf("hello-world IDs differ: %s %s", a.ID, b.ID)
	}
}
