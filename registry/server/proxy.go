package server

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
)

// Proxy makes the registry a pull-through cache of a remote registry
// (distribution's proxy mode): what is asked for and not here is fetched
// from the remote, kept, and served; pushes are refused. A team points
// every daemon's registry-mirrors at it and Docker Hub sees one client.
type Proxy struct {
	// Remote is the upstream registry's URL (https://registry-1.docker.io).
	Remote   string
	Username string
	Password string
}

// upstream is a parsed Proxy.
type upstream struct {
	host string
	opts []name.Option
	auth authn.Authenticator
}

func newUpstream(p *Proxy) (*upstream, error) {
	u, err := url.Parse(p.Remote)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("invalid proxy remote %q: want http(s)://host[:port]", p.Remote)
	}
	up := &upstream{host: u.Host, auth: authn.Anonymous}
	if u.Scheme == "http" {
		up.opts = append(up.opts, name.Insecure)
	}
	if p.Username != "" {
		up.auth = &authn.Basic{Username: p.Username, Password: p.Password}
	}
	return up, nil
}

func (u *upstream) ref(repo, ref string) (name.Reference, error) {
	sep := ":"
	if strings.Contains(ref, ":") {
		sep = "@"
	}
	return name.ParseReference(u.host+"/"+repo+sep+ref, u.opts...)
}

func (u *upstream) options(r *http.Request) []remote.Option {
	return []remote.Option{remote.WithContext(r.Context()), remote.WithAuth(u.auth)}
}

// proxyManifest refreshes a manifest from the remote into this registry:
// a tag is asked for every time (it may have moved), a digest only when
// it is not here. If the remote is unreachable, what is here is served.
func (g *Registry) proxyManifest(r *http.Request, rt route) {
	if strings.Contains(rt.ref, ":") {
		if d, err := digest.Parse(rt.ref); err == nil && exists(g.store.revisionLink(rt.name, d)) {
			return
		}
	}
	ref, err := g.up.ref(rt.name, rt.ref)
	if err != nil {
		return
	}
	// a HEAD first: Docker Hub counts manifest GETs against its rate limit,
	// and a tag that has not moved needs none
	if !strings.Contains(rt.ref, ":") {
		if head, err := remote.Head(ref, g.up.options(r)...); err == nil {
			if d, ok := g.store.resolveTag(rt.name, rt.ref); ok && d.String() == head.Digest.String() && exists(g.store.revisionLink(rt.name, d)) {
				return
			}
		}
	}
	desc, err := remote.Get(ref, g.up.options(r)...)
	if err != nil {
		g.log.Warn("proxy: manifest from the remote", "ref", ref.String(), "err", err)
		return
	}
	d := digest.Digest(desc.Digest.String())
	if d.Validate() != nil || d.Algorithm().FromBytes(desc.Manifest) != d {
		return
	}
	if err := g.store.putBytes(d, desc.Manifest); err != nil {
		return
	}
	if err := g.store.writeFile(g.store.revisionLink(rt.name, d), []byte(desc.MediaType)); err != nil {
		return
	}
	if !strings.Contains(rt.ref, ":") {
		_ = g.store.writeFile(g.store.tagLink(rt.name, rt.ref), []byte(d.String()))
	}
}

// proxyBlob streams a blob this registry lacks from the remote to the
// client while keeping it; the copy is committed only if its digest
// matches (the client checks its copy too).
func (g *Registry) proxyBlob(w http.ResponseWriter, r *http.Request, rt route, d digest.Digest) error {
	ref, err := g.up.ref(rt.name, d.String())
	if err != nil {
		return errBlobUnknown(d.String())
	}
	l, err := remote.Layer(ref.(name.Digest), g.up.options(r)...)
	if err != nil {
		return errBlobUnknown(d.String())
	}
	size, err := l.Size()
	if err != nil {
		return errBlobUnknown(d.String())
	}
	if r.Method == http.MethodHead { // the remote has it; a GET fetches it
		w.Header().Set("Docker-Content-Digest", d.String())
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		return nil
	}
	rc, err := l.Compressed()
	if err != nil {
		return errBlobUnknown(d.String())
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Join(g.store.root, "tmp"), "proxy-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	_, err = io.Copy(io.MultiWriter(tmp, w), rc)
	tmp.Close()
	if err != nil {
		g.log.Warn("proxy: blob from the remote", "digest", d, "err", err)
		return nil // the response is under way: the client sees it cut
	}
	if _, err := g.store.putBlob(tmp.Name(), d); err == nil {
		_ = g.store.linkBlob(rt.name, d)
	}
	return nil
}
