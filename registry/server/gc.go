package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// lockRoot takes the root's lock: a server holds it while it serves, and
// gc needs it, so gc never sweeps under a running server.
func lockRoot(root string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(root, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("registry root %s is in use by a running registry: stop it first", root)
		}
		return nil, err
	}
	return f, nil
}

// GCResult is what a collection removed (or, dry, would remove).
type GCResult struct {
	Blobs int
	Bytes int64
}

// GC removes the blobs no manifest of any repository references (and the
// repository links to them). It refuses to run while a server serves root.
func GC(root string, dryRun bool) (GCResult, error) {
	st := &storage{root: root}
	lock, err := lockRoot(root)
	if err != nil {
		return GCResult{}, err
	}
	defer lock.Close()
	used := map[digest.Digest]bool{}
	repos := filepath.Join(root, "repositories")
	// mark: every manifest revision, and what it references
	err = filepath.WalkDir(repos, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(path, string(filepath.Separator)+"_manifests"+string(filepath.Separator)+"revisions"+string(filepath.Separator)) {
			return err
		}
		dg := digest.NewDigestFromEncoded(digest.Algorithm(filepath.Base(filepath.Dir(path))), d.Name())
		if dg.Validate() != nil {
			return nil
		}
		used[dg] = true
		b, err := os.ReadFile(st.blobPath(dg))
		if err != nil {
			return nil
		}
		var m manifest
		if json.Unmarshal(b, &m) != nil {
			return nil
		}
		if m.Config != nil {
			used[m.Config.Digest] = true
		}
		for _, l := range append(m.Layers, m.Manifests...) {
			used[l.Digest] = true
		}
		return nil
	})
	if err != nil && !errNotExist(err) {
		return GCResult{}, err
	}
	// sweep the blob store
	var res GCResult
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		ents, _ := os.ReadDir(filepath.Join(root, "blobs", alg.String()))
		for _, e := range ents {
			dg := digest.NewDigestFromEncoded(alg, e.Name())
			if used[dg] {
				continue
			}
			if info, err := e.Info(); err == nil {
				res.Bytes += info.Size()
			}
			res.Blobs++
			if !dryRun {
				if err := os.Remove(st.blobPath(dg)); err != nil {
					return res, err
				}
			}
		}
	}
	if dryRun {
		return res, nil
	}
	// and the repository links to what is gone
	err = filepath.WalkDir(repos, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(path, string(filepath.Separator)+"_layers"+string(filepath.Separator)) {
			return err
		}
		dg := digest.NewDigestFromEncoded(digest.Algorithm(filepath.Base(filepath.Dir(path))), d.Name())
		if !exists(st.blobPath(dg)) {
			return os.Remove(path)
		}
		return nil
	})
	if err != nil && !errNotExist(err) {
		return res, err
	}
	return res, nil
}
