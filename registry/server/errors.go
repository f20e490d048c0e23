package server

import (
	"encoding/json"
	"net/http"
)

// apiError is an error in the Distribution spec's shape: a code from its
// table, the status that code goes with, and a message.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errBlobUnknown(d string) *apiError {
	return &apiError{http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry", map[string]string{"digest": d}}
}

func errUploadUnknown() *apiError {
	return &apiError{http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", nil}
}

func errUploadInvalid(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "BLOB_UPLOAD_INVALID", msg, nil}
}

func errDigestInvalid(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "DIGEST_INVALID", msg, nil}
}

func errManifestUnknown(ref string) *apiError {
	return &apiError{http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown", map[string]string{"reference": ref}}
}

func errManifestInvalid(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "MANIFEST_INVALID", msg, nil}
}

func errManifestBlobUnknown(d string) *apiError {
	return &apiError{http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry", map[string]string{"digest": d}}
}

func errNameInvalid(name string) *apiError {
	return &apiError{http.StatusBadRequest, "NAME_INVALID", "invalid repository name", map[string]string{"name": name}}
}

func errNameUnknown(name string) *apiError {
	return &apiError{http.StatusNotFound, "NAME_UNKNOWN", "repository name not known to registry", map[string]string{"name": name}}
}

func errTagInvalid(tag string) *apiError {
	return &apiError{http.StatusBadRequest, "TAG_INVALID", "manifest tag did not match URI", map[string]string{"tag": tag}}
}

func errSizeInvalid(msg string) *apiError {
	return &apiError{http.StatusRequestEntityTooLarge, "SIZE_INVALID", msg, nil}
}

func errUnsupported() *apiError {
	return &apiError{http.StatusMethodNotAllowed, "UNSUPPORTED", "the operation is unsupported", nil}
}

func errUnauthorized() *apiError {
	return &apiError{http.StatusUnauthorized, "UNAUTHORIZED", "authentication required", nil}
}

func errRangeInvalid() *apiError {
	return &apiError{http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", "requested range not satisfiable", nil}
}

func errPaginationInvalid() *apiError {
	return &apiError{http.StatusBadRequest, "PAGINATION_NUMBER_INVALID", "invalid number of results requested", nil}
}

// writeError answers with err in the spec's {"errors": [...]} body; an
// error that is not an apiError is the registry's own failure (500).
func writeError(w http.ResponseWriter, err error) {
	e, ok := err.(*apiError)
	if !ok { // logged with its detail (ServeHTTP); the client learns no paths
		e = &apiError{http.StatusInternalServerError, "UNKNOWN", "unknown error", nil}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string][]*apiError{"errors": {e}})
}
