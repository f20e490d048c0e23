package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

type fixture struct {
	t    *testing.T
	srv  *httptest.Server
	root string
}

func newFixture(t *testing.T, users map[string]func(string) bool) *fixture {
	root := t.TempDir()
	reg, err := New(Config{Root: root, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, root: root}
}

func (f *fixture) do(method, path, contentType string, body []byte, hdr ...string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// errorCode is the first spec error code of a response.
func errorCode(resp *http.Response) string {
	var body struct {
		Errors []apiError `json:"errors"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if len(body.Errors) == 0 {
		return ""
	}
	return body.Errors[0].Code
}

// pushBlob uploads b monolithically to repo and returns its digest.
func (f *fixture) pushBlob(repo string, b []byte) digest.Digest {
	f.t.Helper()
	d := digest.FromBytes(b)
	if resp := f.do("POST", "/v2/"+repo+"/blobs/uploads/?digest="+d.String(), "application/octet-stream", b); resp.StatusCode != http.StatusCreated {
		f.t.Fatalf("push blob: %s", resp.Status)
	}
	return d
}

// image pushes a config and one layer and returns the manifest bytes.
func (f *fixture) image(repo string) []byte {
	cfg := f.pushBlob(repo, []byte(`{"architecture":"amd64","os":"linux"}`))
	layer := f.pushBlob(repo, []byte("layer bytes"))
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageManifest,
		"config": ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfg, Size: 37},
		"layers": []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: layer, Size: 11}},
	})
	return m
}

func TestPushPull(t *testing.T) {
	f := newFixture(t, nil)
	m := f.image("team/app")
	resp := f.do("PUT", "/v2/team/app/manifests/v1", ocispec.MediaTypeImageManifest, m)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Docker-Content-Digest") != digest.FromBytes(m).String() {
		t.Fatalf("put manifest: %s %v", resp.Status, resp.Header)
	}
	for _, ref := range []string{"v1", digest.FromBytes(m).String()} {
		resp = f.do("GET", "/v2/team/app/manifests/"+ref, "", nil)
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, m) || resp.Header.Get("Content-Type") != ocispec.MediaTypeImageManifest {
			t.Fatalf("get manifest %s: %s %q", ref, resp.Status, got)
		}
	}
	// a range of a blob
	layer := digest.FromBytes([]byte("layer bytes"))
	resp = f.do("GET", "/v2/team/app/blobs/"+layer.String(), "", nil, "Range", "bytes=6-")
	if got, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusPartialContent || string(got) != "bytes" {
		t.Fatalf("range get: %s %q", resp.Status, got)
	}
	// blobs belong to repositories: another one sees nothing until it mounts
	if resp = f.do("HEAD", "/v2/other/blobs/"+layer.String(), "", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("blob of another repository: %s", resp.Status)
	}
	if resp = f.do("POST", "/v2/other/blobs/uploads/?mount="+layer.String()+"&from=team/app", "", nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("mount: %s", resp.Status)
	}
	resp = f.do("GET", "/v2/team/app/tags/list", "", nil)
	var tags struct{ Tags []string }
	_ = json.NewDecoder(resp.Body).Decode(&tags)
	if len(tags.Tags) != 1 || tags.Tags[0] != "v1" {
		t.Fatalf("tags: %v", tags.Tags)
	}
}

func TestChunkedUpload(t *testing.T) {
	f := newFixture(t, nil)
	resp := f.do("POST", "/v2/app/blobs/uploads/", "", nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || loc == "" {
		t.Fatalf("start upload: %s", resp.Status)
	}
	if resp = f.do("PATCH", loc, "application/octet-stream", []byte("hello "), "Content-Range", "0-5"); resp.StatusCode != http.StatusAccepted || resp.Header.Get("Range") != "0-5" {
		t.Fatalf("first chunk: %s %q", resp.Status, resp.Header.Get("Range"))
	}
	// a chunk that does not start where the upload ends
	if resp = f.do("PATCH", loc, "application/octet-stream", []byte("xx"), "Content-Range", "10-11"); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("chunk out of order: %s", resp.Status)
	}
	if resp = f.do("PATCH", loc, "application/octet-stream", []byte("world"), "Content-Range", "6-10"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("second chunk: %s", resp.Status)
	}
	d := digest.FromString("hello world")
	if resp = f.do("PUT", loc+"?digest="+d.String(), "", nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("finish: %s", resp.Status)
	}
	if resp = f.do("GET", loc, "", nil); resp.StatusCode != http.StatusNotFound || errorCode(resp) != "BLOB_UPLOAD_UNKNOWN" {
		t.Fatalf("finished upload still known: %s", resp.Status)
	}
}

func TestRefused(t *testing.T) {
	f := newFixture(t, nil)
	m := f.image("app")
	missing := bytes.Replace(m, []byte(digest.FromBytes([]byte("layer bytes")).Encoded()), []byte(strings.Repeat("a", 64)), 1)
	big := append([]byte(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","x":"`), bytes.Repeat([]byte("x"), maxManifest)...)
	for _, tc := range []struct {
		name, method, path, contentType string
		body                            []byte
		status                          int
		code                            string
	}{
		{"blob that does not match its digest", "POST", "/v2/app/blobs/uploads/?digest=" + digest.FromString("other").String(), "", []byte("data"), 400, "DIGEST_INVALID"},
		{"manifest naming a missing blob", "PUT", "/v2/app/manifests/bad", ocispec.MediaTypeImageManifest, missing, 400, "MANIFEST_BLOB_UNKNOWN"},
		{"oversized manifest", "PUT", "/v2/app/manifests/big", ocispec.MediaTypeImageManifest, big, 413, "SIZE_INVALID"},
		{"unknown media type", "PUT", "/v2/app/manifests/odd", "application/x-odd", m, 400, "MANIFEST_INVALID"},
		{"manifest not matching its digest", "PUT", "/v2/app/manifests/" + digest.FromString("x").String(), ocispec.MediaTypeImageManifest, m, 400, "DIGEST_INVALID"},
		{"name escaping upwards", "GET", "/v2/../x/tags/list", "", nil, 400, "NAME_INVALID"},
		{"uppercase name", "GET", "/v2/App/tags/list", "", nil, 400, "NAME_INVALID"},
		{"empty component", "GET", "/v2/a//b/tags/list", "", nil, 400, "NAME_INVALID"},
		{"reserved component", "GET", "/v2/a/_layers/tags/list", "", nil, 400, "NAME_INVALID"},
		{"unknown repository", "GET", "/v2/nothing/tags/list", "", nil, 404, "NAME_UNKNOWN"},
		{"unknown manifest", "GET", "/v2/app/manifests/nope", "", nil, 404, "MANIFEST_UNKNOWN"},
		{"unknown upload", "PATCH", "/v2/app/blobs/uploads/0123", "", []byte("x"), 404, "BLOB_UPLOAD_UNKNOWN"},
		{"bad digest", "GET", "/v2/app/blobs/sha256:zz", "", nil, 400, "DIGEST_INVALID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.srv.URL+tc.path, bytes.NewReader(tc.body))
			req.URL.Opaque = tc.path // keep "..", "//" as sent
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if code := errorCode(resp); resp.StatusCode != tc.status || code != tc.code {
				t.Fatalf("%s %s: %d %s, want %d %s", tc.method, tc.path, resp.StatusCode, code, tc.status, tc.code)
			}
		})
	}
	// nothing half-stored: no tag moved, no temporary files left
	resp := f.do("GET", "/v2/app/tags/list", "", nil)
	var tags struct{ Tags []string }
	_ = json.NewDecoder(resp.Body).Decode(&tags)
	if len(tags.Tags) != 0 {
		t.Fatalf("refused manifests left tags %v", tags.Tags)
	}
	if ents, _ := os.ReadDir(filepath.Join(f.root, "tmp")); len(ents) != 0 {
		t.Fatalf("temporary files left: %d", len(ents))
	}
	if _, err := os.Stat(filepath.Join(f.root, "blobs", "sha256", digest.FromString("data").Encoded())); err == nil {
		t.Fatal("a blob that failed verification was stored")
	}
}

func TestBasicAuth(t *testing.T) {
	f := newFixture(t, map[string]func(string) bool{"alice": func(p string) bool { return p == "pw" }})
	resp := f.do("GET", "/v2/", "", nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Fatalf("anonymous: %s %v", resp.Status, resp.Header)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/v2/", nil)
	req.SetBasicAuth("alice", "pw")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("with the password: %v %v", err, resp)
	}
}

func TestParseRoute(t *testing.T) {
	for _, tc := range []struct {
		path string
		want route
		ok   bool
	}{
		{"/v2/library/busybox/manifests/latest", route{"library/busybox", "manifests", "latest"}, true},
		{"/v2/a/blobs/uploads/", route{"a", "uploads", ""}, true},
		{"/v2/a/blobs/uploads", route{"a", "uploads", ""}, true},
		{"/v2/a/b/blobs/uploads/123", route{"a/b", "uploads", "123"}, true},
		{"/v2/a/blobs/sha256:ab", route{"a", "blobs", "sha256:ab"}, true},
		{"/v2/a/manifests/b/tags/list", route{"a/manifests/b", "tags", ""}, true},
		{"/v2/a/referrers/sha256:ab", route{"a", "referrers", "sha256:ab"}, true},
		{"/v2/a/other", route{}, false},
	} {
		got, ok := parseRoute(tc.path)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseRoute(%q) = %+v %v, want %+v %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

func TestGC(t *testing.T) {
	root := t.TempDir()
	reg, err := New(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg)
	f := &fixture{t: t, srv: srv, root: root}
	kept := f.image("kept")
	f.do("PUT", "/v2/kept/manifests/1", ocispec.MediaTypeImageManifest, kept)
	orphan := f.pushBlob("gone", []byte("nobody references me"))
	if _, err := GC(root, false); err == nil || !strings.Contains(err.Error(), "in use by a running registry") {
		t.Fatalf("gc under a running server: %v", err)
	}
	srv.Close()
	reg.Close()
	dry, err := GC(root, true)
	if err != nil || dry.Blobs != 1 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if _, err := os.Stat(filepath.Join(root, "blobs", "sha256", orphan.Encoded())); err != nil {
		t.Fatal("a dry run removed a blob")
	}
	res, err := GC(root, false)
	if err != nil || res.Blobs != 1 || res.Bytes != int64(len("nobody references me")) {
		t.Fatalf("gc: %+v %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(root, "blobs", "sha256", orphan.Encoded())); err == nil {
		t.Fatal("the orphan blob is still there")
	}
	// what the manifest needs survives
	reg, err = New(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	f.srv = httptest.NewServer(reg)
	defer f.srv.Close()
	var m ocispec.Manifest
	json.Unmarshal(kept, &m)
	for _, d := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		if resp := f.do("GET", "/v2/kept/blobs/"+d.Digest.String(), "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("blob %s after gc: %s", d.Digest, resp.Status)
		}
	}
}

func TestProxy(t *testing.T) {
	up := newFixture(t, nil)
	m := up.image("library/busybox")
	up.do("PUT", "/v2/library/busybox/manifests/latest", ocispec.MediaTypeImageManifest, m)
	root := t.TempDir()
	reg, err := New(Config{Root: root, Proxy: &Proxy{Remote: up.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	p := &fixture{t: t, srv: httptest.NewServer(reg), root: root}
	defer p.srv.Close()
	var man ocispec.Manifest
	json.Unmarshal(m, &man)
	fetchAll := func() {
		t.Helper()
		resp := p.do("GET", "/v2/library/busybox/manifests/latest", "", nil)
		if got, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || !bytes.Equal(got, m) {
			t.Fatalf("manifest through the proxy: %s", resp.Status)
		}
		for _, d := range append([]ocispec.Descriptor{man.Config}, man.Layers...) {
			resp := p.do("GET", "/v2/library/busybox/blobs/"+d.Digest.String(), "", nil)
			if got, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || digest.FromBytes(got) != d.Digest {
				t.Fatalf("blob %s through the proxy: %s", d.Digest, resp.Status)
			}
		}
	}
	fetchAll()
	up.srv.Close() // the cache serves on its own now
	fetchAll()
	if resp := p.do("PUT", "/v2/library/busybox/manifests/x", ocispec.MediaTypeImageManifest, m); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("push to a pull-through cache: %s", resp.Status)
	}
	if _, err := New(Config{Root: t.TempDir(), Proxy: &Proxy{Remote: "ftp://x"}}); err == nil {
		t.Fatal("a bad remote was accepted")
	}
}
