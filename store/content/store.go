package content

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// Store keeps blobs under root/blobs/<alg>/<hex>. Writes land in root/ingest
// first and are renamed into place only after their digest is verified, so a
// blob path either holds the whole, verified content or does not exist.
type Store struct {
	root string
}

// New opens (creating if needed) a content store under root.
func New(root string) (*Store, error) {
	for _, d := range []string{"blobs/sha256", "blobs/sha512", "ingest"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("content store: %w", err)
		}
	}
	// Ingests left by a crash are garbage.
	if ents, err := os.ReadDir(filepath.Join(root, "ingest")); err == nil {
		for _, e := range ents {
			_ = os.RemoveAll(filepath.Join(root, "ingest", e.Name()))
		}
	}
	return &Store{root: root}, nil
}

// Path returns the file path of a committed blob.
func (s *Store) Path(dgst digest.Digest) (string, error) {
	if err := dgst.Validate(); err != nil {
		return "", fmt.Errorf("digest %q: %w", dgst, errdefs.ErrInvalidArgument)
	}
	return filepath.Join(s.root, "blobs", dgst.Algorithm().String(), dgst.Encoded()), nil
}

// Info returns the size of a blob, or ErrNotFound.
func (s *Store) Info(dgst digest.Digest) (int64, error) {
	p, err := s.Path(dgst)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("blob %s: %w", dgst, errdefs.ErrNotFound)
	} else if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Open returns a reader for a blob.
func (s *Store) Open(dgst digest.Digest) (*os.File, error) {
	p, err := s.Path(dgst)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", dgst, errdefs.ErrNotFound)
	}
	return f, err
}

// ReadAll returns a small blob's bytes (configs, manifests).
func (s *Store) ReadAll(dgst digest.Digest) ([]byte, error) {
	f, err := s.Open(dgst)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Write stores r's bytes and returns their digest and size. If expected is
// not empty, content with another digest is refused.
func (s *Store) Write(r io.Reader, expected digest.Digest) (digest.Digest, int64, error) {
	d, n, _, err := s.Ingest(r, expected)
	return d, n, err
}

// Ingest is Write that also reports whether the blob is new, so a caller
// that fails half-way knows which blobs it alone added.
func (s *Store) Ingest(r io.Reader, expected digest.Digest) (dgst digest.Digest, size int64, created bool, err error) {
	return s.ingest(r, expected, true)
}

// IngestUnsynced is Ingest without the fsync, for content most of which
// is thrown away (the files of an archive being loaded): the caller Syncs
// the blobs it keeps before anything refers to them.
func (s *Store) IngestUnsynced(r io.Reader, expected digest.Digest) (dgst digest.Digest, size int64, created bool, err error) {
	return s.ingest(r, expected, false)
}

// Writer is a blob being written by its producer (a registry download
// tees into it): nothing is visible until Commit, which its producer calls
// only once the bytes are verified (it does not hash them again).
type Writer struct {
	s        *Store
	f        *os.File
	expected digest.Digest
	n        int64
	wb       writeback
}

// NewWriter starts a blob that is to have digest expected.
func (s *Store) NewWriter(expected digest.Digest) (*Writer, error) {
	if err := expected.Validate(); err != nil {
		return nil, fmt.Errorf("digest %q: %w", expected, errdefs.ErrInvalidArgument)
	}
	f, err := os.CreateTemp(filepath.Join(s.root, "ingest"), "blob-")
	if err != nil {
		return nil, fmt.Errorf("content ingest: %w", err)
	}
	return &Writer{s: s, f: f, expected: expected}, nil
}

func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	w.wb.wrote(w.f, w.n)
	return n, err
}

// writebackChunk is how much a blob being written may hold dirty before
// the kernel is asked to start writing it out.
const writebackChunk = 8 << 20

// writeback starts the kernel writing a file out as it grows
// (sync_file_range without waiting), so that the fsync that makes it
// durable finds little left to do: a large pulled layer's commit then
// costs milliseconds, not the flush of the whole blob, and the disk works
// while the network does.
type writeback struct{ started int64 }

func (wb *writeback) wrote(f *os.File, size int64) {
	if size-wb.started < writebackChunk {
		return
	}
	_ = unix.SyncFileRange(int(f.Fd()), wb.started, size-wb.started, unix.SYNC_FILE_RANGE_WRITE)
	wb.started = size
}

// Commit makes the verified blob durable and visible; created is false if
// the store had it already.
func (w *Writer) Commit() (created bool, err error) {
	defer w.Abort()
	p, _ := w.s.Path(w.expected)
	if _, err := os.Stat(p); err == nil {
		return false, nil
	}
	if err := w.f.Sync(); err != nil {
		return false, err
	}
	if err := os.Rename(w.f.Name(), p); err != nil {
		return false, fmt.Errorf("content commit %s: %w", w.expected, err)
	}
	return true, nil
}

// Abort drops what was written (a no-op after Commit).
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// writebackFile is a file written with writeback.
type writebackFile struct {
	f  *os.File
	n  int64
	wb writeback
}

func (w *writebackFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	w.wb.wrote(w.f, w.n)
	return n, err
}

// Sync flushes a blob to disk.
func (s *Store) Sync(dgst digest.Digest) error {
	f, err := s.Open(dgst)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func (s *Store) ingest(r io.Reader, expected digest.Digest, sync bool) (dgst digest.Digest, size int64, created bool, err error) {
	tmp, err := os.CreateTemp(filepath.Join(s.root, "ingest"), "blob-")
	if err != nil {
		return "", 0, false, fmt.Errorf("content ingest: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	dg := digest.Canonical.Digester()
	var out io.Writer = tmp
	if sync {
		out = &writebackFile{f: tmp}
	}
	n, err := io.Copy(io.MultiWriter(out, dg.Hash()), r)
	if err != nil {
		return "", 0, false, fmt.Errorf("content ingest: %w", err)
	}
	dgst = dg.Digest()
	if expected != "" && expected != dgst {
		return "", 0, false, fmt.Errorf("content digest %s does not match expected %s: %w", dgst, expected, errdefs.ErrInvalidArgument)
	}
	p, _ := s.Path(dgst)
	if _, err := os.Stat(p); err == nil {
		return dgst, n, false, nil
	}
	if sync {
		if err := tmp.Sync(); err != nil {
			return "", 0, false, err
		}
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", 0, false, fmt.Errorf("content commit %s: %w", dgst, err)
	}
	return dgst, n, true, nil
}

// WriteBytes stores b.
func (s *Store) WriteBytes(b []byte) (digest.Digest, error) {
	d, _, err := s.Write(bytesReader(b), "")
	return d, err
}

// Delete removes a blob; a missing blob is not an error.
func (s *Store) Delete(dgst digest.Digest) error {
	p, err := s.Path(dgst)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Walk calls fn for every committed blob.
func (s *Store) Walk(fn func(digest.Digest, int64) error) error {
	dir := filepath.Join(s.root, "blobs", "sha256")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			continue
		}
		if err := fn(digest.NewDigestFromEncoded(digest.SHA256, e.Name()), info.Size()); err != nil {
			return err
		}
	}
	return nil
}
