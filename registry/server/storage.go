package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
)

// The layout under the root (every write lands in tmp/ and is renamed into
// place, so a kill at any moment leaves whole files or none):
//
//	blobs/<alg>/<hex>                               content, verified on upload
//	repositories/<name>/_layers/<alg>/<hex>         a blob the repository holds
//	repositories/<name>/_manifests/revisions/<alg>/<hex>   a manifest it holds (its media type)
//	repositories/<name>/_manifests/tags/<tag>       the digest a tag points at
//	repositories/<name>/_referrers/<alg>/<hex>/<alg>-<hex> a referrer's descriptor, by subject
//	uploads/<uuid>                                  an upload in progress (name in uploads/<uuid>.repo)
//	tmp/                                            writes before their rename
//
// Repository names cannot have a component starting with "_" (nameRE), so
// the reserved folders never collide with a repository.
type storage struct {
	root string
}

// nameRE is the Distribution spec's repository name grammar, compiled
// on first use: the berth CLI links this package (registry serve), and
// every CLI start paid for the compile.
var nameRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
})

// validTag reports whether t is a tag by the spec's grammar,
// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127} (a regexp of it compiles to 128
// copies of the class).
func validTag(t string) bool {
	if len(t) == 0 || len(t) > 128 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

func newStorage(root string) (*storage, error) {
	for _, d := range []string{"blobs", "repositories", "uploads", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, fmt.Errorf("registry storage: %w", err)
		}
	}
	// writes a kill interrupted are garbage
	ents, _ := os.ReadDir(filepath.Join(root, "tmp"))
	for _, e := range ents {
		_ = os.RemoveAll(filepath.Join(root, "tmp", e.Name()))
	}
	return &storage{root: root}, nil
}

// validName reports whether name is a repository name the spec allows.
func validName(name string) bool {
	return len(name) <= 255 && nameRE().MatchString(name)
}

func (s *storage) blobPath(d digest.Digest) string {
	return filepath.Join(s.root, "blobs", d.Algorithm().String(), d.Encoded())
}

func (s *storage) repoPath(name string, parts ...string) string {
	return filepath.Join(append([]string{s.root, "repositories", filepath.FromSlash(name)}, parts...)...)
}

func (s *storage) layerLink(name string, d digest.Digest) string {
	return s.repoPath(name, "_layers", d.Algorithm().String(), d.Encoded())
}

func (s *storage) revisionLink(name string, d digest.Digest) string {
	return s.repoPath(name, "_manifests", "revisions", d.Algorithm().String(), d.Encoded())
}

func (s *storage) tagLink(name, tag string) string {
	return s.repoPath(name, "_manifests", "tags", tag)
}

func (s *storage) referrersDir(name string, subject digest.Digest) string {
	return s.repoPath(name, "_referrers", subject.Algorithm().String(), subject.Encoded())
}

// writeFile puts data at path atomically.
func (s *storage) writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "w-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// hasBlob reports whether repository name holds blob d.
func (s *storage) hasBlob(name string, d digest.Digest) bool {
	return exists(s.layerLink(name, d)) && exists(s.blobPath(d))
}

// linkBlob makes blob d (stored already) part of repository name.
func (s *storage) linkBlob(name string, d digest.Digest) error {
	return s.writeFile(s.layerLink(name, d), nil)
}

// putBlob verifies the file at tmp against d and moves it into the blob
// store; tmp is gone afterwards either way.
func (s *storage) putBlob(tmp string, d digest.Digest) (int64, error) {
	defer os.Remove(tmp)
	f, err := os.Open(tmp)
	if err != nil {
		return 0, err
	}
	v := d.Verifier()
	n, err := io.Copy(v, f)
	f.Close()
	if err != nil {
		return 0, err
	}
	if !v.Verified() {
		return 0, errDigestInvalid("provided digest did not match uploaded content")
	}
	dst := s.blobPath(d)
	if exists(dst) {
		return n, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp, dst)
}

// putBytes stores b as blob d (verified by the caller).
func (s *storage) putBytes(d digest.Digest, b []byte) error {
	if exists(s.blobPath(d)) {
		return nil
	}
	return s.writeFile(s.blobPath(d), b)
}

// repoExists reports whether anything was ever pushed to name.
func (s *storage) repoExists(name string) bool {
	return exists(s.repoPath(name, "_manifests")) || exists(s.repoPath(name, "_layers"))
}

// tags lists a repository's tags, sorted.
func (s *storage) tags(name string) ([]string, error) {
	ents, err := os.ReadDir(s.repoPath(name, "_manifests", "tags"))
	if errors.Is(err, fs.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out, nil
}

// resolveTag returns the digest a tag points at.
func (s *storage) resolveTag(name, tag string) (digest.Digest, bool) {
	b, err := os.ReadFile(s.tagLink(name, tag))
	if err != nil {
		return "", false
	}
	d, err := digest.Parse(strings.TrimSpace(string(b)))
	return d, err == nil
}

// repositories lists every repository with a manifest, sorted.
func (s *storage) repositories() ([]string, error) {
	base := filepath.Join(s.root, "repositories")
	var out []string
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || !strings.HasPrefix(d.Name(), "_") {
			return nil
		}
		if d.Name() == "_manifests" {
			rel, _ := filepath.Rel(base, filepath.Dir(path))
			out = append(out, filepath.ToSlash(rel))
		}
		return filepath.SkipDir
	})
	sort.Strings(out)
	return out, err
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
