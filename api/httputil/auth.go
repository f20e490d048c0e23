package httputil

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/moby/moby/api/types/registry"
)

// RegistryAuth reads X-Registry-Auth: base64url JSON credentials, sent per
// request by the docker CLI. Unreadable credentials count as none, as in
// dockerd.
func RegistryAuth(r *http.Request) *registry.AuthConfig {
	h := r.Header.Get(registry.AuthHeader)
	if h == "" {
		return nil
	}
	b, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		if b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(h, "=")); err != nil {
			return nil
		}
	}
	var a registry.AuthConfig
	if json.Unmarshal(b, &a) != nil {
		return nil
	}
	return &a
}
