package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-project/berth/registry/server"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// testRegistry is berth's own server, in-process.
func testRegistry(t *testing.T) *httptest.Server {
	reg, err := server.New(server.Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	return srv
}

func put(t *testing.T, method, url, contentType string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%s %s: %s", method, url, resp.Status)
	}
}

// pushImage stores a one-layer image for arch and returns its manifest.
func pushImage(t *testing.T, base, repo, arch string) ocispec.Descriptor {
	cfg := []byte(`{"architecture":"` + arch + `","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("layer of " + arch)
	for _, b := range [][]byte{cfg, layer} {
		put(t, "POST", base+"/v2/"+repo+"/blobs/uploads/?digest="+digest.FromBytes(b).String(), "application/octet-stream", b)
	}
	m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))},
		Layers: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(layer), Size: int64(len(layer))}}})
	d := digest.FromBytes(m)
	put(t, "PUT", base+"/v2/"+repo+"/manifests/"+d.String(), ocispec.MediaTypeImageManifest, m)
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(m)),
		Platform: &ocispec.Platform{OS: "linux", Architecture: arch}}
}

func TestResolveIndex(t *testing.T) {
	srv := testRegistry(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	amd, arm := pushImage(t, srv.URL, "multi/app", "amd64"), pushImage(t, srv.URL, "multi/app", "arm64")
	idx, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{amd, arm}})
	put(t, "PUT", srv.URL+"/v2/multi/app/manifests/v1", ocispec.MediaTypeImageIndex, idx)

	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := reference.ParseNormalizedNamed(host + "/multi/app:v1")
	for _, tc := range []struct {
		arch string
		want digest.Digest
	}{{"amd64", amd.Digest}, {"arm64", arm.Digest}} {
		im, err := c.Resolve(context.Background(), ref, nil, ocispec.Platform{OS: "linux", Architecture: tc.arch})
		if err != nil {
			t.Fatalf("%s: %v", tc.arch, err)
		}
		cfg, err := im.FetchConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if im.ManifestDigest() != tc.want || im.Digest != digest.FromBytes(idx) || !strings.Contains(string(cfg), tc.arch) {
			t.Fatalf("%s: manifest %s (want %s), tag digest %s", tc.arch, im.ManifestDigest(), tc.want, im.Digest)
		}
		rc, err := im.OpenBlob(context.Background(), im.Layers[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(b) != "layer of "+tc.arch {
			t.Fatalf("%s layer: %q %v", tc.arch, b, err)
		}
	}
	_, err = c.Resolve(context.Background(), ref, nil, ocispec.Platform{OS: "linux", Architecture: "s390x"})
	if err == nil || err.Error() != "no matching manifest for linux/s390x in the manifest list entries: not found" {
		t.Fatalf("missing platform: %v", err)
	}
	missing, _ := reference.ParseNormalizedNamed(host + "/multi/app:v2")
	if _, err = c.Resolve(context.Background(), missing, nil, ocispec.Platform{OS: "linux", Architecture: "amd64"}); err == nil ||
		!strings.HasPrefix(err.Error(), "manifest for "+host+"/multi/app:v2 not found: manifest unknown: manifest unknown") {
		t.Fatalf("missing tag: %v", err)
	}
}

// A docker.io image is looked for on each mirror, then on Docker Hub; a
// mirror that lacks it is passed over.
func TestMirrors(t *testing.T) {
	empty, full := testRegistry(t), testRegistry(t)
	m := pushImage(t, full.URL, "library/busybox", "amd64")
	resp, err := http.Get(full.URL + "/v2/library/busybox/manifests/" + m.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	put(t, "PUT", full.URL+"/v2/library/busybox/manifests/latest", ocispec.MediaTypeImageManifest, b)
	c, err := New(Config{Mirrors: []string{empty.URL, full.URL}})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := reference.ParseNormalizedNamed("busybox:latest")
	im, err := c.Resolve(context.Background(), ref, nil, ocispec.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil || len(im.Layers) != 1 {
		t.Fatalf("through the mirrors: %v", err)
	}
	// a mirror's "not there" stands when Docker Hub cannot be asked (or
	// says the same)
	missing, _ := reference.ParseNormalizedNamed("nosuchimage:latest")
	if _, err := c.Resolve(context.Background(), missing, nil, ocispec.Platform{OS: "linux", Architecture: "amd64"}); !errdefs.IsNotFound(err) {
		t.Fatalf("an image no mirror has: %v", err)
	}
	if _, err := New(Config{Mirrors: []string{"not a url"}}); err == nil {
		t.Fatal("a bad mirror was accepted")
	}
}

// A search of Docker Hub asks the mirrors first: one without search is
// passed over, and the next answers with docker.io's names.
func TestSearchMirrors(t *testing.T) {
	nosearch := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(nosearch.Close)
	full := testRegistry(t)
	pushImage(t, full.URL, "library/busybox", "amd64")
	pushImage(t, full.URL, "team/busybox-tools", "amd64")
	c, err := New(Config{Mirrors: []string{nosearch.URL, full.URL}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(context.Background(), "busybox", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range res {
		names = append(names, r.Name)
	}
	if strings.Join(names, " ") != "busybox team/busybox-tools" {
		t.Fatalf("search through the mirrors: %q", names)
	}
}

func TestInsecure(t *testing.T) {
	c, _ := New(Config{Insecure: []string{"10.1.0.0/16", "reg.example:5000"}})
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "localhost:5000": true, "10.1.2.3": true, "reg.example:5000": true,
		"10.2.0.1:5000": false, "8.8.8.8": false,
	} {
		if got := c.insecure(host); got != want {
			t.Errorf("insecure(%s) = %v, want %v", host, got, want)
		}
	}
}

func TestServerHost(t *testing.T) {
	for in, want := range map[string]string{
		"": hubRegistry, "https://index.docker.io/v1/": hubRegistry, "docker.io": hubRegistry,
		"localhost:5000": "localhost:5000", "https://r.example.com/": "r.example.com",
	} {
		if got := serverHost(in); got != want {
			t.Errorf("serverHost(%q) = %q, want %q", in, got, want)
		}
	}
}
