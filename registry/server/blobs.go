package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// parseDigest accepts the digests the spec names (sha256, sha512).
func parseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil || (d.Algorithm() != digest.SHA256 && d.Algorithm() != digest.SHA512) {
		return "", errDigestInvalid(fmt.Sprintf("invalid digest %q", s))
	}
	return d, nil
}

func (g *Registry) getBlob(w http.ResponseWriter, r *http.Request, rt route) error {
	d, err := parseDigest(rt.ref)
	if err != nil {
		return err
	}
	if !g.store.hasBlob(rt.name, d) {
		if g.up != nil {
			return g.proxyBlob(w, r, rt, d)
		}
		return errBlobUnknown(d.String())
	}
	f, err := os.Open(g.store.blobPath(d))
	if err != nil {
		return errBlobUnknown(d.String())
	}
	defer f.Close()
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+d.String()+`"`)
	// ServeContent answers HEAD and Range requests as the spec wants
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

func (g *Registry) deleteBlob(w http.ResponseWriter, rt route) error {
	d, err := parseDigest(rt.ref)
	if err != nil {
		return err
	}
	if !g.store.hasBlob(rt.name, d) {
		return errBlobUnknown(d.String())
	}
	if err := os.Remove(g.store.layerLink(rt.name, d)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// upload is one upload in progress, bound to its repository.
type upload struct {
	path string
	repo string
}

func (g *Registry) uploadPath(uuid string) string {
	return filepath.Join(g.store.root, "uploads", uuid)
}

// openUpload finds upload uuid of rt's repository and locks it; unlock
// when done.
func (g *Registry) openUpload(rt route) (*upload, func(), error) {
	uuid := rt.ref
	if uuid == "" || strings.ContainsAny(uuid, "/.") {
		return nil, nil, errUploadUnknown()
	}
	repo, err := os.ReadFile(g.uploadPath(uuid) + ".repo")
	if err != nil || string(repo) != rt.name {
		return nil, nil, errUploadUnknown()
	}
	g.mu.Lock()
	l, ok := g.uploads[uuid]
	if !ok {
		l = &sync.Mutex{}
		g.uploads[uuid] = l
	}
	g.mu.Unlock()
	l.Lock()
	if !exists(g.uploadPath(uuid)) { // finished or cancelled meanwhile
		l.Unlock()
		return nil, nil, errUploadUnknown()
	}
	return &upload{path: g.uploadPath(uuid), repo: rt.name}, l.Unlock, nil
}

// endUpload removes an upload's files.
func (g *Registry) endUpload(uuid string) {
	os.Remove(g.uploadPath(uuid))
	os.Remove(g.uploadPath(uuid) + ".repo")
	g.mu.Lock()
	delete(g.uploads, uuid)
	g.mu.Unlock()
}

func (u *upload) size() int64 {
	fi, err := os.Stat(u.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// uploadHeaders are the ones every upload answer carries.
func uploadHeaders(w http.ResponseWriter, name, uuid string, size int64) {
	w.Header().Set("Location", "/v2/"+name+"/blobs/uploads/"+uuid)
	w.Header().Set("Docker-Upload-UUID", uuid)
	end := size - 1
	if end < 0 {
		end = 0
	}
	w.Header().Set("Range", fmt.Sprintf("0-%d", end))
}

// startUpload is POST /blobs/uploads/: a cross-repository mount, a
// monolithic upload (digest=), or the start of a session.
func (g *Registry) startUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	q := r.URL.Query()
	if m := q.Get("mount"); m != "" {
		d, err := parseDigest(m)
		if err != nil {
			return err
		}
		// without from, any repository's copy will do (every account of
		// this registry may read every repository)
		from := q.Get("from")
		if (from != "" && validName(from) && g.store.hasBlob(from, d)) || (from == "" && exists(g.store.blobPath(d))) {
			if err := g.store.linkBlob(rt.name, d); err != nil {
				return err
			}
			w.Header().Set("Location", "/v2/"+rt.name+"/blobs/"+d.String())
			w.Header().Set("Docker-Content-Digest", d.String())
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusCreated)
			return nil
		}
		// not mountable: a session starts instead, as the spec allows
	}
	if ds := q.Get("digest"); ds != "" {
		d, err := parseDigest(ds)
		if err != nil {
			return err
		}
		tmp, err := g.receive(r.Body)
		if err != nil {
			return err
		}
		return g.commitBlob(w, rt.name, tmp, d)
	}
	uuid := newUUID()
	if err := g.store.writeFile(g.uploadPath(uuid)+".repo", []byte(rt.name)); err != nil {
		return err
	}
	if err := g.store.writeFile(g.uploadPath(uuid), nil); err != nil {
		return err
	}
	uploadHeaders(w, rt.name, uuid, 0)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// receive writes a request body to a temporary file.
func (g *Registry) receive(body io.Reader) (string, error) {
	f, err := os.CreateTemp(filepath.Join(g.store.root, "tmp"), "blob-")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", errUploadInvalid("upload interrupted: " + err.Error())
	}
	if err := f.Sync(); err != nil { // it may become a blob: whole on disk first
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// commitBlob verifies tmp against d, stores it and links it into name.
func (g *Registry) commitBlob(w http.ResponseWriter, name, tmp string, d digest.Digest) error {
	if _, err := g.store.putBlob(tmp, d); err != nil {
		return err
	}
	if err := g.store.linkBlob(name, d); err != nil {
		return err
	}
	w.Header().Set("Location", "/v2/"+name+"/blobs/"+d.String())
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (g *Registry) uploadStatus(w http.ResponseWriter, rt route) error {
	u, unlock, err := g.openUpload(rt)
	if err != nil {
		return err
	}
	defer unlock()
	uploadHeaders(w, rt.name, rt.ref, u.size())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// appendChunk adds body to the upload. A Content-Range must start where
// the upload ends (else 416, the spec's rule for chunks out of order).
func (u *upload) appendChunk(r *http.Request) error {
	size := u.size()
	if cr := r.Header.Get("Content-Range"); cr != "" {
		start, end, ok := parseRange(cr)
		if !ok || start != size || end < start {
			return errRangeInvalid()
		}
		if r.ContentLength >= 0 && r.ContentLength != end-start+1 {
			return errRangeInvalid()
		}
	}
	f, err := os.OpenFile(u.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r.Body); err != nil {
		f.Close()
		_ = os.Truncate(u.path, size) // a cut chunk leaves the upload as it was
		return errUploadInvalid("upload interrupted: " + err.Error())
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseRange reads "start-end" (with or without a "bytes " prefix).
func parseRange(s string) (start, end int64, ok bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "bytes ")
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(strings.SplitN(b, "/", 2)[0], 10, 64)
	return start, end, err1 == nil && err2 == nil && start >= 0
}

func (g *Registry) patchUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	u, unlock, err := g.openUpload(rt)
	if err != nil {
		return err
	}
	defer unlock()
	if err := u.appendChunk(r); err != nil {
		if e, ok := err.(*apiError); ok && e.Status == http.StatusRequestedRangeNotSatisfiable {
			uploadHeaders(w, rt.name, rt.ref, u.size())
		}
		return err
	}
	uploadHeaders(w, rt.name, rt.ref, u.size())
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// finishUpload is the closing PUT: an optional last chunk, then the digest
// check; a mismatch keeps nothing.
func (g *Registry) finishUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	u, unlock, err := g.openUpload(rt)
	if err != nil {
		return err
	}
	defer unlock()
	d, err := parseDigest(r.URL.Query().Get("digest"))
	if err != nil {
		return err
	}
	if r.ContentLength != 0 {
		if err := u.appendChunk(r); err != nil {
			return err
		}
	}
	tmp := filepath.Join(g.store.root, "tmp", "up-"+rt.ref)
	if err := os.Rename(u.path, tmp); err != nil {
		return err
	}
	g.endUpload(rt.ref)
	return g.commitBlob(w, rt.name, tmp, d)
}

func (g *Registry) cancelUpload(w http.ResponseWriter, rt route) error {
	_, unlock, err := g.openUpload(rt)
	if err != nil {
		return err
	}
	defer unlock()
	g.endUpload(rt.ref)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// errNotExist reports a missing file.
func errNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
