package content

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

func TestWriteReadDelete(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := digest.FromString("hello")
	for _, tc := range []struct {
		name     string
		expected digest.Digest
		wantErr  error
	}{
		{"no expectation", "", nil},
		{"matching", want, nil},
		{"mismatch", digest.FromString("other"), errdefs.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := s.Write(strings.NewReader("hello"), tc.expected)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (got != want || n != 5) {
				t.Fatalf("got %s %d", got, n)
			}
		})
	}
	b, err := s.ReadAll(want)
	if err != nil || string(b) != "hello" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
	if err := s.Delete(want); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Info(want); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Info after delete: %v", err)
	}
}

func TestIngestReportsNew(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if _, _, created, err := s.Ingest(strings.NewReader("x"), ""); err != nil || created != want {
			t.Fatalf("ingest %d: created %v, %v", i, created, err)
		}
	}
}

func TestIngestUnsyncedThenSync(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, n, created, err := s.IngestUnsynced(strings.NewReader("later"), "")
	if err != nil || n != 5 || !created {
		t.Fatalf("%s %d %v %v", d, n, created, err)
	}
	if err := s.Sync(d); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(digest.FromString("missing")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Sync of a missing blob: %v", err)
	}
}

func TestWriter(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("a layer")
	d := digest.FromBytes(data)
	w, err := s.NewWriter(d)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if _, err := s.Info(d); err == nil {
		t.Fatal("visible before Commit")
	}
	if created, err := w.Commit(); err != nil || !created {
		t.Fatalf("Commit: %v %v", created, err)
	}
	if b, err := s.ReadAll(d); err != nil || string(b) != "a layer" {
		t.Fatalf("after Commit: %q %v", b, err)
	}
	// an aborted writer leaves nothing, in the store or its ingest dir
	other := digest.FromString("other")
	w, _ = s.NewWriter(other)
	w.Write([]byte("half"))
	w.Abort()
	if _, err := s.Info(other); err == nil {
		t.Fatal("an aborted blob is visible")
	}
	if ents, _ := os.ReadDir(filepath.Join(s.root, "ingest")); len(ents) != 0 {
		t.Fatalf("%d ingest files left", len(ents))
	}
	if _, err := s.NewWriter("sha256:../x"); err == nil {
		t.Fatal("a bad digest was accepted")
	}
	// a blob of several writeback chunks, written in odd-sized pieces,
	// and one ingested, come back whole
	big := bytes.Repeat([]byte("0123456789abcdef"), 3*writebackChunk/16+1000)
	w, _ = s.NewWriter(digest.FromBytes(big))
	for rest := big; len(rest) > 0; {
		n := min(len(rest), 1<<20+7)
		w.Write(rest[:n])
		rest = rest[n:]
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, err := s.ReadAll(digest.FromBytes(big)); err != nil || !bytes.Equal(b, big) {
		t.Fatalf("a large blob: %d bytes, %v", len(b), err)
	}
	big[0] = 'x'
	if d, n, _, err := s.Ingest(bytes.NewReader(big), ""); err != nil || n != int64(len(big)) || d != digest.FromBytes(big) {
		t.Fatalf("Ingest of a large blob: %s %d %v", d, n, err)
	}
}
