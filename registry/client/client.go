// Package client talks to Distribution registries for the daemon: it
// resolves references (mirrors for docker.io, insecure registries, certs.d),
// authenticates as the request's credentials allow (basic or bearer
// tokens), and fetches or pushes manifests and blobs, verifying digests.
// The protocol work is go-containerregistry's.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Config is the daemon's registry configuration (daemon.json).
type Config struct {
	// Mirrors are tried, in order, before Docker Hub for docker.io images
	// (registry-mirrors: URLs such as http://127.0.0.1:5000).
	Mirrors []string
	// Insecure are registries (host[:port] or CIDR) reached over plain
	// HTTP or unverified TLS; 127.0.0.0/8 always is, as in Docker.
	Insecure []string
	// CertsDir holds <host[:port]>/ca.crt (and client.cert/client.key),
	// as Docker's /etc/docker/certs.d.
	CertsDir string
	// UserAgent is sent with every request.
	UserAgent string
}

// Client reaches registries as Config says. Its mirrors and insecure
// registries can be changed while it serves (a daemon reload).
type Client struct {
	certsDir string
	policy   atomic.Pointer[policy]
	base     *http.Transport
	userAgnt string
}

// policy is the part of Config that Reconfigure replaces as a whole, so
// that a request sees either the old or the new one.
type policy struct {
	mirrors []*url.URL
	nets    []*net.IPNet
	hosts   map[string]bool
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	c := &Client{certsDir: cfg.CertsDir, userAgnt: cfg.UserAgent}
	if err := c.Reconfigure(cfg.Mirrors, cfg.Insecure); err != nil {
		return nil, err
	}
	c.base = http.DefaultTransport.(*http.Transport).Clone()
	c.base.ResponseHeaderTimeout = 60 * time.Second
	if c.userAgnt == "" {
		c.userAgnt = "berth"
	}
	return c, nil
}

// Reconfigure checks and takes new mirrors and insecure registries; on an
// error the client keeps what it had.
func (c *Client) Reconfigure(mirrors, insecure []string) error {
	p := &policy{hosts: map[string]bool{}}
	for _, m := range mirrors {
		u, err := url.Parse(m)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("invalid mirror: %q is not a valid URI", m)
		}
		p.mirrors = append(p.mirrors, u)
	}
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	p.nets = append(p.nets, loopback)
	for _, s := range insecure {
		if _, n, err := net.ParseCIDR(s); err == nil {
			p.nets = append(p.nets, n)
			continue
		}
		p.hosts[strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "http://"), "https://"), "/")] = true
	}
	c.policy.Store(p)
	return nil
}

// mirrors are docker.io's mirrors, in order.
func (c *Client) mirrors() []*url.URL { return c.policy.Load().mirrors }

// insecure reports whether host (host[:port]) may be reached without
// verified TLS.
func (c *Client) insecure(host string) bool {
	p := c.policy.Load()
	if p.hosts[host] || host == "localhost" || strings.HasPrefix(host, "localhost:") {
		return true
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if p.hosts[h] {
		return true
	}
	ip := net.ParseIP(h)
	if ip == nil {
		if addrs, err := net.LookupIP(h); err == nil && len(addrs) > 0 {
			ip = addrs[0]
		}
	}
	for _, n := range p.nets {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// transport is the HTTP transport for host: its certs.d CA and client
// certificate, and no verification for an insecure registry.
func (c *Client) transport(host string) (http.RoundTripper, error) {
	t := c.base.Clone()
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.insecure(host) {
		tc.InsecureSkipVerify = true
	}
	if c.certsDir != "" {
		dir := filepath.Join(c.certsDir, host)
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			switch {
			case strings.HasSuffix(e.Name(), ".crt"):
				pem, err := os.ReadFile(p)
				if err != nil {
					return nil, err
				}
				if tc.RootCAs == nil {
					if tc.RootCAs, _ = x509.SystemCertPool(); tc.RootCAs == nil {
						tc.RootCAs = x509.NewCertPool()
					}
				}
				tc.RootCAs.AppendCertsFromPEM(pem)
			case strings.HasSuffix(e.Name(), ".cert"):
				key := strings.TrimSuffix(p, ".cert") + ".key"
				cert, err := tls.LoadX509KeyPair(p, key)
				if err != nil {
					return nil, fmt.Errorf("certs.d %s: %w", host, err)
				}
				tc.Certificates = append(tc.Certificates, cert)
			}
		}
	}
	t.TLSClientConfig = tc
	return t, nil
}

// hubRegistry is where Docker Hub's registry API is served.
const hubRegistry = "registry-1.docker.io"

// endpoint is one place to reach a repository: a mirror or its registry.
type endpoint struct {
	repo     name.Repository
	mirror   bool
	opts     []remote.Option
	base     http.RoundTripper // the host's transport (TLS, certs.d)
	auth     authn.Authenticator
	agent    string
	nameOpts []name.Option
}

// client is an HTTP client for the endpoint's repository with the given
// scope (go-containerregistry's transport: ping, token, retries).
func (ep endpoint) client(ctx context.Context, action string) (*http.Client, error) {
	scopes := []string{ep.repo.Scope(action)}
	rt, err := transport.NewWithContext(ctx, ep.repo.Registry, ep.auth,
		transport.NewUserAgent(transport.NewRetry(ep.base), ep.agent), scopes)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt}, nil
}

// noBasicCredentials reports whether te is a 401 to a request that carried
// no credentials, from a registry that asks for basic auth (its ping's
// challenge): dockerd then says "no basic auth credentials" rather than
// "access denied", a 500 as dockerd answers it.
func (ep endpoint) noBasicCredentials(ctx context.Context, te *transport.Error) bool {
	if te.StatusCode != http.StatusUnauthorized || ep.auth != authn.Anonymous {
		return false
	}
	ch, err := transport.Ping(ctx, ep.repo.Registry, ep.base)
	return err == nil && strings.EqualFold(ch.Scheme, "basic")
}

// noBasicCredentials is that error as dockerd words it for a pull: the
// request, as Go's HTTP client names one that failed
// (Head "https://host/v2/…": no basic auth credentials).
func noBasicCredentials(te *transport.Error) error {
	if te.Request == nil {
		return errors.New("no basic auth credentials")
	}
	m := strings.ToUpper(te.Request.Method[:1]) + strings.ToLower(te.Request.Method[1:])
	return fmt.Errorf("%s %q: no basic auth credentials", m, te.Request.URL.String())
}

// blobURL is where the endpoint's repository serves blob d.
func (ep endpoint) blobURL(d digest.Digest) string {
	u := url.URL{Scheme: ep.repo.Registry.Scheme(), Host: ep.repo.RegistryStr(),
		Path: "/v2/" + ep.repo.RepositoryStr() + "/blobs/" + d.String()}
	return u.String()
}

// hasBlob asks the registry whether the repository holds d already.
func (ep endpoint) hasBlob(ctx context.Context, hc *http.Client, d ocispec.Descriptor) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, ep.blobURL(d.Digest), nil)
	if err != nil {
		return false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// authenticator turns the request's credentials (X-Registry-Auth) into
// go-containerregistry's: anonymous, basic, or an identity token.
func authenticator(a *registry.AuthConfig) authn.Authenticator {
	if a == nil || (a.Username == "" && a.Password == "" && a.IdentityToken == "" && a.RegistryToken == "" && a.Auth == "") {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{
		Username: a.Username, Password: a.Password, Auth: a.Auth,
		IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken,
	})
}

// domain is the registry host of a normalized reference.
func domain(n reference.Named) string { return reference.Domain(n) }

// endpoints lists where to look for repository n: docker.io's mirrors
// first, then the registry itself. Credentials go to the registry (and to
// mirrors, as dockerd sends them too).
func (c *Client) endpoints(n reference.Named, auth *registry.AuthConfig) ([]endpoint, error) {
	path := reference.Path(n)
	var eps []endpoint
	if domain(n) == "docker.io" {
		for _, m := range c.mirrors() {
			ep, err := c.endpoint(m.Host, path, m.Scheme == "http", auth)
			if err != nil {
				return nil, err
			}
			ep.mirror = true
			eps = append(eps, ep)
		}
	}
	host := domain(n)
	if host == "docker.io" {
		host = hubRegistry
	}
	ep, err := c.endpoint(host, path, false, auth)
	if err != nil {
		return nil, err
	}
	return append(eps, ep), nil
}

func (c *Client) endpoint(host, path string, plainHTTP bool, auth *registry.AuthConfig) (endpoint, error) {
	var opts []name.Option
	if plainHTTP || c.insecure(host) {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(host+"/"+path, opts...)
	if err != nil {
		return endpoint{}, fmt.Errorf("invalid reference %s/%s: %w", host, path, err)
	}
	t, err := c.transport(host)
	if err != nil {
		return endpoint{}, err
	}
	return endpoint{repo: repo, base: t, auth: authenticator(auth), agent: c.userAgnt, nameOpts: opts, opts: []remote.Option{
		remote.WithTransport(t),
		remote.WithAuth(authenticator(auth)),
		remote.WithUserAgent(c.userAgnt),
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout),
	}}, nil
}
