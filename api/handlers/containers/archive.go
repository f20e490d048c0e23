package containers

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"

	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	"github.com/berth-project/berth/service/containers/archive"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// archiveBackend is what docker cp, export and diff need
// (service/containers/archive).
type archiveBackend interface {
	StatPath(ref, path string) (*container.PathStat, error)
	ArchivePath(ref, path string) (io.ReadCloser, *container.PathStat, error)
	ExtractToDir(ref, path string, o archive.ExtractOptions, content io.Reader) error
	Changes(ref string) ([]container.FilesystemChange, error)
	Export(ref string) (io.ReadCloser, error)
}

func registerArchive(rt *server.Router, h handlers) {
	rt.Handle("HEAD /containers/{id}/archive", h.statPath)
	rt.Handle("GET /containers/{id}/archive", h.archivePath)
	rt.Handle("PUT /containers/{id}/archive", h.extractToDir)
}

// archivePathParam is the required ?path= of the archive routes.
func archivePathParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", errdefs.ErrInvalidArgument.WithMessage("bad parameter: path cannot be empty")
	}
	return p, nil
}

// setPathStat puts the stat in X-Docker-Container-Path-Stat (base64 JSON).
func setPathStat(w http.ResponseWriter, st *container.PathStat) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set("X-Docker-Container-Path-Stat", base64.StdEncoding.EncodeToString(b))
	return nil
}

func (h handlers) statPath(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePathParam(r)
	if err != nil {
		return err
	}
	st, err := h.b.StatPath(r.PathValue("id"), p)
	if err != nil {
		return err
	}
	if err := setPathStat(w, st); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h handlers) archivePath(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePathParam(r)
	if err != nil {
		return err
	}
	rc, st, err := h.b.ArchivePath(r.PathValue("id"), p)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := setPathStat(w, st); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
	return nil
}

func (h handlers) extractToDir(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePathParam(r)
	if err != nil {
		return err
	}
	// Overwriting a directory with a file is allowed unless the client
	// says noOverwriteDirNonDir (the docker CLI always does).
	o := archive.ExtractOptions{
		AllowOverwriteDirWithFile: !r.URL.Query().Has("noOverwriteDirNonDir") || !httputil.Bool(r, "noOverwriteDirNonDir"),
		CopyUIDGID:                httputil.Bool(r, "copyUIDGID"),
	}
	if err := h.b.ExtractToDir(r.PathValue("id"), p, o, r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
