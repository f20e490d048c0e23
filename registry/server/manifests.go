package server

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxManifest is the largest manifest accepted (the spec asks for at least 4 MiB).
const maxManifest = 4 << 20

const (
	mediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// manifestKinds are the manifest media types stored, and whether each is
// an index (of manifests) rather than an image (of blobs).
var manifestKinds = map[string]bool{
	ocispec.MediaTypeImageManifest: false,
	mediaDockerManifest:            false,
	ocispec.MediaTypeImageIndex:    true,
	mediaDockerList:                true,
}

// manifest is the part of any manifest kind the registry checks.
type manifest struct {
	MediaType    string               `json:"mediaType"`
	ArtifactType string               `json:"artifactType"`
	Config       *ocispec.Descriptor  `json:"config"`
	Layers       []ocispec.Descriptor `json:"layers"`
	Manifests    []ocispec.Descriptor `json:"manifests"`
	Subject      *ocispec.Descriptor  `json:"subject"`
	Annotations  map[string]string    `json:"annotations"`
}

// resolve turns a tag or digest into the digest of a manifest name holds.
func (g *Registry) resolve(name, ref string) (digest.Digest, error) {
	if strings.Contains(ref, ":") {
		d, err := parseDigest(ref)
		if err != nil {
			return "", err
		}
		if !exists(g.store.revisionLink(name, d)) {
			return "", errManifestUnknown(ref)
		}
		return d, nil
	}
	if !validTag(ref) {
		return "", errTagInvalid(ref)
	}
	d, ok := g.store.resolveTag(name, ref)
	if !ok || !exists(g.store.revisionLink(name, d)) {
		return "", errManifestUnknown(ref)
	}
	return d, nil
}

func (g *Registry) getManifest(w http.ResponseWriter, r *http.Request, rt route) error {
	if g.up != nil {
		g.proxyManifest(r, rt)
	}
	if !g.store.repoExists(rt.name) { // as Distribution: clients tell "no such repository" by it
		return errNameUnknown(rt.name)
	}
	d, err := g.resolve(rt.name, rt.ref)
	if err != nil {
		return err
	}
	mt, err := os.ReadFile(g.store.revisionLink(rt.name, d))
	if err != nil {
		return errManifestUnknown(rt.ref)
	}
	b, err := os.ReadFile(g.store.blobPath(d))
	if err != nil {
		return errManifestUnknown(rt.ref)
	}
	w.Header().Set("Content-Type", string(mt))
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("ETag", `"`+d.String()+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	_, err = w.Write(b)
	return err
}

// putManifest stores a manifest after checking its digest and that the
// blobs (or, for an index, the manifests) it references are here.
func (g *Registry) putManifest(w http.ResponseWriter, r *http.Request, rt route) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxManifest+1))
	if err != nil {
		return errManifestInvalid("reading manifest: " + err.Error())
	}
	if len(b) > maxManifest {
		return errSizeInvalid("manifest larger than 4 MiB")
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return errManifestInvalid("manifest is not JSON: " + err.Error())
	}
	mt := r.Header.Get("Content-Type")
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = strings.TrimSpace(mt[:i])
	}
	if mt == "" {
		mt = m.MediaType
	}
	index, known := manifestKinds[mt]
	if !known {
		return errManifestInvalid("unsupported manifest media type " + strconv.Quote(mt))
	}
	if m.MediaType != "" && m.MediaType != mt {
		return errManifestInvalid("manifest mediaType " + strconv.Quote(m.MediaType) + " differs from Content-Type " + strconv.Quote(mt))
	}
	d := digest.SHA256.FromBytes(b)
	var tags []string
	if strings.Contains(rt.ref, ":") {
		want, err := parseDigest(rt.ref)
		if err != nil {
			return err
		}
		if d = want.Algorithm().FromBytes(b); d != want {
			return errDigestInvalid("manifest digest did not match")
		}
		tags = r.URL.Query()["tag"] // distribution-spec 1.1's tags with a push by digest
	} else {
		tags = []string{rt.ref}
	}
	for _, t := range tags {
		if !validTag(t) {
			return errTagInvalid(t)
		}
	}
	if err := g.checkReferences(rt.name, &m, index); err != nil {
		return err
	}
	if err := g.store.putBytes(d, b); err != nil {
		return err
	}
	if err := g.store.writeFile(g.store.revisionLink(rt.name, d), []byte(mt)); err != nil {
		return err
	}
	if m.Subject != nil {
		if err := g.addReferrer(rt.name, d, mt, int64(len(b)), &m); err != nil {
			return err
		}
		w.Header().Set("OCI-Subject", m.Subject.Digest.String())
	}
	for _, t := range tags {
		if err := g.store.writeFile(g.store.tagLink(rt.name, t), []byte(d.String())); err != nil {
			return err
		}
	}
	if strings.Contains(rt.ref, ":") && len(tags) > 0 {
		w.Header().Set("OCI-Tag", strings.Join(tags, ","))
	}
	w.Header().Set("Location", "/v2/"+rt.name+"/manifests/"+d.String())
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// checkReferences refuses an image manifest whose config or layers the
// repository lacks (non-distributable layers excepted: they live
// elsewhere by definition) and an index whose manifests it lacks.
func (g *Registry) checkReferences(name string, m *manifest, index bool) error {
	if index {
		for _, c := range m.Manifests {
			if err := c.Digest.Validate(); err != nil {
				return errManifestInvalid("invalid digest in index: " + err.Error())
			}
			if !exists(g.store.revisionLink(name, c.Digest)) {
				return errManifestBlobUnknown(c.Digest.String())
			}
		}
		return nil
	}
	if m.Config == nil {
		return errManifestInvalid("manifest has no config")
	}
	refs := append([]ocispec.Descriptor{*m.Config}, m.Layers...)
	for _, l := range refs {
		if err := l.Digest.Validate(); err != nil {
			return errManifestInvalid("invalid digest in manifest: " + err.Error())
		}
		if strings.Contains(l.MediaType, "nondistributable") || strings.Contains(l.MediaType, "foreign") {
			continue
		}
		if !g.store.hasBlob(name, l.Digest) {
			return errManifestBlobUnknown(l.Digest.String())
		}
	}
	return nil
}

// addReferrer records manifest d as a referrer of its subject.
func (g *Registry) addReferrer(name string, d digest.Digest, mt string, size int64, m *manifest) error {
	if err := m.Subject.Digest.Validate(); err != nil {
		return errManifestInvalid("invalid subject digest: " + err.Error())
	}
	at := m.ArtifactType
	if at == "" && m.Config != nil {
		at = m.Config.MediaType
	}
	desc, err := json.Marshal(ocispec.Descriptor{MediaType: mt, Digest: d, Size: size, ArtifactType: at, Annotations: m.Annotations})
	if err != nil {
		return err
	}
	return g.store.writeFile(filepath.Join(g.store.referrersDir(name, m.Subject.Digest), d.Algorithm().String()+"-"+d.Encoded()), desc)
}

// deleteManifest removes a tag, or a manifest with the tags pointing at
// it and its entry in its subject's referrers.
func (g *Registry) deleteManifest(w http.ResponseWriter, rt route) error {
	if !strings.Contains(rt.ref, ":") {
		if !validTag(rt.ref) {
			return errTagInvalid(rt.ref)
		}
		if _, ok := g.store.resolveTag(rt.name, rt.ref); !ok {
			return errManifestUnknown(rt.ref)
		}
		if err := os.Remove(g.store.tagLink(rt.name, rt.ref)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	d, err := g.resolve(rt.name, rt.ref)
	if err != nil {
		return err
	}
	if b, err := os.ReadFile(g.store.blobPath(d)); err == nil {
		var m manifest
		if json.Unmarshal(b, &m) == nil && m.Subject != nil && m.Subject.Digest.Validate() == nil {
			os.Remove(filepath.Join(g.store.referrersDir(rt.name, m.Subject.Digest), d.Algorithm().String()+"-"+d.Encoded()))
		}
	}
	tags, err := g.store.tags(rt.name)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if td, ok := g.store.resolveTag(rt.name, t); ok && td == d {
			os.Remove(g.store.tagLink(rt.name, t))
		}
	}
	if err := os.Remove(g.store.revisionLink(rt.name, d)); err != nil && !errNotExist(err) {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
