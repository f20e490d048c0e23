package archive

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/service/images"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// maxJSON bounds the JSON files of an archive read into memory (containerd's limit).
const maxJSON = 20 << 20

// loadArchive is a load's view of the tar it reads. Every regular file is
// stored in the content store as it streams past (so layers are written
// once, never to a scratch directory) and only its name is kept; links
// are resolved inside the archive, as Docker's chrooted untar does.
type loadArchive struct {
	s     Store
	lease *images.Lease          // what the load wrote, unpacked or needs
	files map[string]archiveFile // clean name → blob
	links map[string]string      // symlink name → its target, verbatim
}

type archiveFile struct {
	digest digest.Digest
	size   int64
}

func newLoadArchive(s Store) *loadArchive {
	return &loadArchive{s: s, lease: s.NewLease(), files: map[string]archiveFile{}, links: map[string]string{}}
}

// read consumes the tar. A truncated or malformed tar fails here with the
// tar reader's words ("unexpected EOF"), as Docker's untar does.
func (a *loadArchive) read(ctx context.Context, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(strings.TrimLeft(hdr.Name, "/"))
		if name == "." {
			continue
		}
		if !filepath.IsLocal(name) {
			return fmt.Errorf("invalid entry name %q", hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			a.links[name] = hdr.Linkname
		case tar.TypeLink:
			target, ok := a.resolve(strings.TrimLeft(hdr.Linkname, "/"))
			f, found := a.files[target]
			if !ok || !found {
				return fmt.Errorf("invalid hardlink target %q", hdr.Linkname)
			}
			a.files[name] = f
		case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old tars still carry TypeRegA
			f, err := a.ingest(name, tr)
			if err != nil {
				return err
			}
			a.files[name] = f
		}
	}
}

// ingest stores one file. A blob the store already has under the name's
// digest is not written again (Docker likewise skips layers it has).
func (a *loadArchive) ingest(name string, r io.Reader) (archiveFile, error) {
	if d, ok := blobDigest(name); ok {
		if size, ok := a.lease.HoldBlob(d); ok {
			n, err := io.Copy(io.Discard, r)
			if err != nil {
				return archiveFile{}, err
			}
			if n != size {
				return archiveFile{}, fmt.Errorf("invalid archive: %s has %d bytes, the blob %d", name, n, size)
			}
			return archiveFile{d, size}, nil
		}
	}
	src := &errReader{r: r}
	d, n, created, err := a.s.IngestBlobUnsynced(src)
	if src.err != nil {
		return archiveFile{}, src.err // the tar's own words: "unexpected EOF"
	}
	if err != nil {
		return archiveFile{}, err
	}
	if created {
		a.lease.Wrote(d)
	}
	if _, ok := a.lease.HoldBlob(d); !ok {
		return archiveFile{}, fmt.Errorf("blob %s was removed while loading: %w", d, errdefs.ErrAborted)
	}
	return archiveFile{d, n}, nil
}

// blobDigest returns the digest a file named blobs/<alg>/<hex> must have.
func blobDigest(name string) (digest.Digest, bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 || parts[0] != "blobs" {
		return "", false
	}
	d := digest.Digest(parts[1] + ":" + parts[2])
	return d, d.Validate() == nil
}

// resolve follows symlinks in name within the archive: absolute targets
// start at the archive's root and ".." stops there. It reports false for
// a link loop.
func (a *loadArchive) resolve(name string) (string, bool) {
	p := path.Clean("/" + name)
	for hops := 0; hops < 255; hops++ {
		parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
		moved := false
		for i := 1; i <= len(parts); i++ {
			prefix := strings.Join(parts[:i], "/")
			target, ok := a.links[prefix]
			if !ok {
				continue
			}
			if !path.IsAbs(target) {
				target = path.Join("/", path.Dir(prefix), target)
			}
			p = path.Join("/", target, strings.Join(parts[i:], "/"))
			moved = true
			break
		}
		if !moved {
			return strings.TrimPrefix(p, "/"), true
		}
	}
	return "", false
}

// open finds a file the archive's manifests name.
func (a *loadArchive) open(name string) (archiveFile, error) {
	p, ok := a.resolve(name)
	if !ok {
		return archiveFile{}, fmt.Errorf("open %s: too many levels of symbolic links", name)
	}
	f, found := a.files[p]
	if !found {
		return archiveFile{}, fmt.Errorf("open %s: no such file or directory", name)
	}
	return f, nil
}

// has reports whether the archive holds a file of that name.
func (a *loadArchive) has(name string) bool {
	_, err := a.open(name)
	return err == nil
}

// readFile returns a small file's bytes.
func (a *loadArchive) readFile(name string) ([]byte, error) {
	f, err := a.open(name)
	if err != nil {
		return nil, err
	}
	if f.size > maxJSON {
		return nil, fmt.Errorf("%s: %d bytes is too large", name, f.size)
	}
	return a.s.ReadBlob(f.digest)
}

// readJSON decodes a JSON file of the archive.
func (a *loadArchive) readJSON(name string, v any) error {
	b, err := a.readFile(name)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// errReader remembers the error of the reader it wraps.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
