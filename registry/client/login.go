package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/api/types/registry"
)

// hubHosts are the names Docker Hub's credentials and index go by.
var hubHosts = map[string]bool{"": true, "docker.io": true, "index.docker.io": true, "registry-1.docker.io": true}

// serverHost turns a login server ("https://index.docker.io/v1/",
// "localhost:5000", "https://r.example.com") into a registry host.
func serverHost(server string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	if hubHosts[s] {
		return hubRegistry
	}
	return s
}

// registryFor returns the registry to reach host at and its transport.
func (c *Client) registryFor(host string) (name.Registry, http.RoundTripper, error) {
	var opts []name.Option
	if c.insecure(host) {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return name.Registry{}, nil, fmt.Errorf("invalid registry %q: %w", host, errdefs.ErrInvalidArgument)
	}
	t, err := c.transport(host)
	return reg, t, err
}

// Login checks credentials against a registry as `docker login` does: the
// token service accepts them, or the registry answers /v2/ with them.
func (c *Client) Login(ctx context.Context, auth *registry.AuthConfig) (registry.AuthResponse, error) {
	host := serverHost(auth.ServerAddress)
	reg, t, err := c.registryFor(host)
	if err != nil {
		return registry.AuthResponse{}, err
	}
	rt, err := transport.NewWithContext(ctx, reg, authenticator(auth), t, nil)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && (te.StatusCode == 401 || te.StatusCode == 403) {
			return registry.AuthResponse{}, fmt.Errorf("unauthorized: incorrect username or password: %w", errdefs.ErrUnauthenticated)
		}
		return registry.AuthResponse{}, fmt.Errorf("login to %s: %v: %w", host, err, errdefs.ErrUnavailable)
	}
	u := url.URL{Scheme: reg.Scheme(), Host: reg.RegistryStr(), Path: "/v2/"}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return registry.AuthResponse{}, fmt.Errorf("login to %s: %v: %w", host, err, errdefs.ErrUnavailable)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return registry.AuthResponse{}, fmt.Errorf("login attempt to %s failed with status: %d %s: %w",
			u.String(), resp.StatusCode, http.StatusText(resp.StatusCode), errdefs.ErrUnauthenticated)
	}
	return registry.AuthResponse{Status: "Login Succeeded"}, nil
}

// Search queries a registry's v1 search API: a registry named in the
// term ("host:port/term"), or for Docker Hub its index, index.docker.io,
// after the registry-mirrors (berth's registry answers /v1/search, so a
// team's mirror answers offline; one without search is passed over).
func (c *Client) Search(ctx context.Context, term string, limit int, auth *registry.AuthConfig) ([]registry.SearchResult, error) {
	host := name.DefaultRegistry
	if i := strings.IndexByte(term, '/'); i > 0 && strings.ContainsAny(term[:i], ".:") || strings.HasPrefix(term, "localhost/") {
		host, term = term[:i], term[i+1:]
	}
	if host != name.DefaultRegistry {
		reg, _, err := c.registryFor(host)
		if err != nil {
			return nil, err
		}
		return c.searchAt(ctx, &url.URL{Scheme: reg.Scheme(), Host: host}, term, limit, auth)
	}
	for _, m := range c.mirrors() {
		res, err := c.searchAt(ctx, m, term, limit, nil) // Hub credentials stay with the Hub
		if err != nil {
			continue
		}
		for i := range res { // a mirror names docker.io's official images by their full path
			res[i].Name = strings.TrimPrefix(res[i].Name, "library/")
		}
		return res, nil
	}
	return c.searchAt(ctx, &url.URL{Scheme: "https", Host: "index.docker.io"}, term, limit, auth)
}

// searchAt asks base's /v1/search.
func (c *Client) searchAt(ctx context.Context, base *url.URL, term string, limit int, auth *registry.AuthConfig) ([]registry.SearchResult, error) {
	t, err := c.transport(base.Host)
	if err != nil {
		return nil, err
	}
	q := url.Values{"q": {term}}
	if limit > 0 {
		q.Set("n", strconv.Itoa(limit))
	}
	u := base.JoinPath("/v1/search")
	u.RawQuery = q.Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	req.Header.Set("User-Agent", c.userAgnt)
	if auth != nil && auth.Username != "" {
		req.SetBasicAuth(auth.Username, auth.Password)
	}
	resp, err := (&http.Client{Transport: t}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("search %s: %v: %w", base.Host, err, errdefs.ErrUnavailable)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("Unexpected status code %d: %w", resp.StatusCode, errdefs.ErrUnavailable)
	}
	var body struct {
		Results []registry.SearchResult `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("search %s: %w", base.Host, err)
	}
	return body.Results, nil
}
