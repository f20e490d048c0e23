package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// waitRegistry waits until a registry answers at addr.
func waitRegistry(t *testing.T, addr string) {
	t.Helper()
	waitFor(t, func() bool {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
}

// registryServer is a `berth registry serve` process on a free loopback port.
type registryServer struct {
	addr string // host:port
	root string
}

func startRegistry(t *testing.T, args ...string) *registryServer {
	t.Helper()
	requireEnv(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	root := t.TempDir()
	cmd := exec.Command(filepath.Join(binDir, "berth"), append([]string{"registry", "serve", "--addr", addr, "--root", root}, args...)...)
	logf, err := os.Create(filepath.Join(t.TempDir(), "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	waitRegistry(t, addr)
	return &registryServer{addr: addr, root: root}
}

// daemonAndRegistry is a daemon with busybox, a registry beside it, and a
// docker config of the test's own.
func daemonAndRegistry(t *testing.T, args ...string) (*daemon, *registryServer) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	d := startDaemon(t)
	d.loadBusybox()
	return d, startRegistry(t, args...)
}

// TestRegistryPushPull: an image travels through berth's own registry with
// the berth and docker CLIs: push, pull (the digest verified, progress as
// docker prints it, repo digests recorded), run pulling what is missing,
// and Docker's errors for what is not there.
func TestRegistryPushPull(t *testing.T) {
	d, reg := daemonAndRegistry(t)
	ref := reg.addr + "/team/busybox:1"
	must(t, d.berth("tag", "busybox", ref))
	out := must(t, d.berth("push", ref))
	if !strings.Contains(out, "The push refers to repository ["+reg.addr+"/team/busybox]") || !strings.Contains(out, "1: digest: sha256:") || !strings.Contains(out, ": Pushed") {
		t.Fatalf("push output:\n%s", out)
	}
	// a second push finds every blob there already
	if out = must(t, d.docker("push", ref)); !strings.Contains(out, "Layer already exists") {
		t.Fatalf("second push:\n%s", out)
	}
	id := must(t, d.berth("inspect", "-f", "{{.Id}}", ref))
	size := must(t, d.berth("inspect", "-f", "{{.Size}}", ref))
	must(t, d.berth("rmi", ref, "busybox")) // the image is gone: every layer downloads
	out = must(t, d.docker("pull", ref))
	for _, want := range []string{"1: Pulling from team/busybox", "Pull complete", "Digest: sha256:", "Status: Downloaded newer image for " + ref} {
		if !strings.Contains(out, want) {
			t.Fatalf("pull output lacks %q:\n%s", want, out)
		}
	}
	if got := must(t, d.berth("inspect", "-f", "{{.Id}} {{index .RepoDigests 0}}", ref)); !strings.HasPrefix(got, id+" "+reg.addr+"/team/busybox@sha256:") {
		t.Fatalf("pulled image: %q, want ID %s and a repo digest", got, id)
	}
	if got := must(t, d.berth("inspect", "-f", "{{.Size}}", ref)); got != size {
		t.Fatalf("pulled image's size %s, pushed %s", got, size)
	}
	var dist struct {
		Descriptor struct{ Digest string }
		Platforms  []struct{ Architecture, OS string }
	}
	d.apiJSON(t, "GET", "/distribution/"+ref+"/json", nil, http.StatusOK, &dist)
	if !strings.Contains(must(t, d.berth("inspect", "-f", "{{index .RepoDigests 0}}", ref)), dist.Descriptor.Digest) || len(dist.Platforms) != 1 || dist.Platforms[0].OS != "linux" {
		t.Fatalf("distribution inspect: %+v", dist)
	}
	if out = must(t, d.berth("pull", ref)); !strings.Contains(out, "Status: Image is up to date for "+ref) {
		t.Fatalf("pull of what is here:\n%s", out)
	}
	// each layer reports docker's statuses in docker's order
	must(t, d.berth("rmi", ref))
	code, body := d.api(t, "POST", "/images/create?fromImage="+url.QueryEscape(ref), nil)
	if code != http.StatusOK {
		t.Fatalf("pull: %d %s", code, body)
	}
	if got, want := layerStatuses(t, body), []string{"Pulling fs layer", "Downloading", "Verifying Checksum", "Download complete", "Extracting", "Pull complete"}; !slices.Equal(got, want) {
		t.Fatalf("a layer's statuses: %q, want %q\n%s", got, want, body)
	}
	// a push to another repository of the registry mounts the blobs
	must(t, d.berth("tag", ref, reg.addr+"/other/copy:1"))
	if out = must(t, d.berth("push", reg.addr+"/other/copy:1")); !strings.Contains(out, "Mounted from team/busybox") || strings.Contains(out, ": Pushed") {
		t.Fatalf("push to a second repository:\n%s", out)
	}
	// run pulls a missing image first
	must(t, d.berth("rmi", ref))
	r := d.berth("run", "--rm", ref, "echo", "pulled and ran")
	if r.code != 0 || !strings.Contains(r.stderr, "Unable to find image '"+ref+"' locally") || !strings.Contains(r.stdout, "pulled and ran") {
		t.Fatalf("run of a missing image: %s", r)
	}
	// a build pulls a missing base image, and --pull refreshes one
	must(t, d.berth("rmi", ref))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+ref+"\nRUN echo built > /built\n"), 0o644)
	if out = must(t, d.berth("build", "-t", "onpulled", dir)); !strings.Contains(out, "Status: Downloaded newer image for "+ref) {
		t.Fatalf("build from a missing base:\n%s", out)
	}
	if out = must(t, d.docker("build", "--pull", "-t", "onpulled", dir)); !strings.Contains(out, "Status: Image is up to date for "+ref) {
		t.Fatalf("build --pull:\n%s", out)
	}
	// --all-tags
	must(t, d.berth("tag", ref, reg.addr+"/team/busybox:2"))
	must(t, d.berth("push", reg.addr+"/team/busybox:2"))
	must(t, d.berth("rmi", ref, reg.addr+"/team/busybox:2"))
	must(t, d.docker("pull", "-a", reg.addr+"/team/busybox"))
	if out := must(t, d.berth("images", "--format", "{{.Tag}}", reg.addr+"/team/busybox")); out != "1\n2" && out != "2\n1" {
		t.Fatalf("tags after pull -a: %q", out)
	}
	// what is not there, in Docker's words
	if r = d.docker("pull", reg.addr+"/team/busybox:nope"); r.code != 1 || !strings.Contains(r.stderr, "manifest for "+reg.addr+"/team/busybox:nope not found: manifest unknown: manifest unknown") {
		t.Fatalf("pull of a missing tag: %s", r)
	}
	if r = d.docker("pull", reg.addr+"/team/nothere"); r.code != 1 || !strings.Contains(r.stderr, "pull access denied for "+reg.addr+"/team/nothere, repository does not exist or may require 'docker login'") {
		t.Fatalf("pull of a missing repository: %s", r)
	}
	if r = d.berth("push", reg.addr+"/team/none:1"); r.code == 0 || !strings.Contains(r.stderr, "tag does not exist: "+reg.addr+"/team/none:1") {
		t.Fatalf("push of a missing tag: %s", r)
	}
}

// TestRegistryPullVerifies: a registry whose blob does not match its
// digest gets the pull refused, and nothing of the image is kept.
func TestRegistryPullVerifies(t *testing.T) {
	d, reg := daemonAndRegistry(t)
	ref := reg.addr + "/bad/busybox:1"
	must(t, d.berth("tag", "busybox", ref))
	must(t, d.berth("push", ref))
	must(t, d.berth("rmi", ref, "busybox"))
	// corrupt the layer in the registry's store (same size, other bytes)
	var manifest struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	resp, err := http.Get("http://" + reg.addr + "/v2/bad/busybox/manifests/1")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&manifest)
	resp.Body.Close()
	blob := filepath.Join(reg.root, "blobs", "sha256", strings.TrimPrefix(manifest.Layers[0].Digest, "sha256:"))
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := d.berth("pull", ref); r.code == 0 {
		t.Fatalf("pull of a corrupt blob succeeded: %s", r)
	}
	if out := must(t, d.berth("images", "-q", ref)); out != "" {
		t.Fatalf("a refused pull left an image: %q", out)
	}
	if ents, _ := os.ReadDir(filepath.Join(d.dataRoot, "content", "ingest")); len(ents) != 0 {
		t.Fatalf("a refused pull left %d ingests", len(ents))
	}
}

// TestRegistryLogin: login against a registry with accounts stores the
// credentials where the docker CLI keeps them (and the docker CLI's login
// works for berth), pushes need them, logout removes them.
func TestRegistryLogin(t *testing.T) {
	cfgDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfgDir)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	os.WriteFile(htpasswd, []byte("alice:"+string(hash)+"\n"), 0o600)
	d := startDaemon(t)
	d.loadBusybox()
	reg := startRegistry(t, "--htpasswd", htpasswd)
	ref := reg.addr + "/alice/busybox:1"
	must(t, d.berth("tag", "busybox", ref))
	// dockerd's words where basic auth is asked for and none was given
	if r := d.berth("push", ref); r.code == 0 || !strings.Contains(r.stderr, "no basic auth credentials") {
		t.Fatalf("anonymous push to a registry with accounts: %s", r)
	}
	want := fmt.Sprintf(`Error response from daemon: Get "http://%s/v2/alice/busybox/manifests/1": no basic auth credentials`, reg.addr)
	if r := d.berth("pull", ref); r.code == 0 || !strings.Contains(r.stderr, want) {
		t.Fatalf("anonymous pull from a registry with accounts: %s\nwant %s", r, want)
	}
	if r := d.berth("login", "-u", "alice", "-p", "wrong", reg.addr); r.code == 0 || !strings.Contains(r.stderr, "401 Unauthorized") {
		t.Fatalf("login with a wrong password: %s", r)
	}
	r := d.cli(filepath.Join(binDir, "berth"), "s3cret\n", "login", "-u", "alice", "--password-stdin", reg.addr)
	if r.code != 0 || !strings.Contains(r.stdout, "Login Succeeded") {
		t.Fatalf("login: %s", r)
	}
	fi, err := os.Stat(filepath.Join(cfgDir, "config.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.json: %v %v", err, fi)
	}
	b, _ := os.ReadFile(filepath.Join(cfgDir, "config.json"))
	if !strings.Contains(string(b), fmt.Sprintf("%q", reg.addr)) {
		t.Fatalf("config.json lacks the registry:\n%s", b)
	}
	must(t, d.berth("push", ref))
	// the docker CLI reads the same credentials
	must(t, d.berth("rmi", ref))
	must(t, d.docker("pull", ref))
	if out := must(t, d.berth("logout", reg.addr)); !strings.Contains(out, "Removing login credentials for "+reg.addr) {
		t.Fatalf("logout: %q", out)
	}
	// and a login by the docker CLI works for berth
	must(t, d.cli("docker", "s3cret\n", "login", "-u", "alice", "--password-stdin", reg.addr))
	must(t, d.berth("pull", ref))
}

// TestSearch: search against a private registry (berth's answers /v1/search).
func TestSearch(t *testing.T) {
	d, reg := daemonAndRegistry(t)
	for _, name := range []string{"tools/busybox", "tools/other", "web/app"} {
		must(t, d.berth("tag", "busybox", reg.addr+"/"+name+":1"))
		must(t, d.berth("push", reg.addr+"/"+name+":1"))
	}
	out := must(t, d.docker("search", "--format", "{{.Name}}", reg.addr+"/tools"))
	if out != "tools/busybox\ntools/other" {
		t.Fatalf("docker search: %q", out)
	}
	out = must(t, d.berth("search", "--limit", "1", reg.addr+"/tools"))
	if lines := strings.Split(out, "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "tools/busybox") {
		t.Fatalf("berth search --limit 1:\n%s", out)
	}
}

// tokenGate is Docker Hub's auth flow in miniature, in front of a
// registry: requests without a valid bearer token get the challenge
// (WWW-Authenticate: Bearer realm=…,service=…,scope=…), and a token
// service hands out tokens per repository and action.
type tokenGate struct {
	*httptest.Server
	tokens *httptest.Server
	mu     sync.Mutex
	issued map[string]string // token → scope
	scopes []string          // every scope asked for
}

func startTokenGate(t *testing.T, backend string) *tokenGate {
	g := &tokenGate{issued: map[string]string{}}
	g.tokens = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := r.URL.Query().Get("scope")
		g.mu.Lock()
		tok := fmt.Sprintf("tok-%d", len(g.issued)+1)
		g.issued[tok] = scope
		g.scopes = append(g.scopes, scope)
		g.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
	}))
	target, _ := url.Parse("http://" + backend)
	proxy := httputil.NewSingleHostReverseProxy(target)
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") { // the index's search is anonymous
			proxy.ServeHTTP(w, r)
			return
		}
		repo := strings.TrimPrefix(r.URL.Path, "/v2/")
		for _, sep := range []string{"/manifests/", "/blobs/", "/tags/"} {
			if i := strings.Index(repo, sep); i >= 0 {
				repo = repo[:i]
			}
		}
		want := "repository:" + repo + ":pull"
		g.mu.Lock()
		scope, ok := g.issued[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		g.mu.Unlock()
		if r.URL.Path != "/v2/" && (!ok || !strings.HasPrefix(scope, "repository:"+repo+":")) || r.URL.Path == "/v2/" && !ok {
			// a realm by name, as auth.docker.io is (go-containerregistry
			// refuses private IP literals as realms: SSRF protection)
			realm := strings.Replace(g.tokens.URL, "127.0.0.1", "localhost", 1) + "/token"
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="registry.test",scope=%q`, realm, want))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { g.Close(); g.tokens.Close() })
	return g
}

// TestHubFlow: with registry-mirrors pointing docker.io at a registry
// behind a token service, `pull busybox` resolves docker.io/library/busybox
// through the bearer-token flow, as it does online.
func TestHubFlow(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	reg := startRegistry(t)
	src := startDaemon(t)
	src.loadBusybox()
	must(t, src.berth("tag", "busybox", reg.addr+"/library/busybox:latest"))
	must(t, src.berth("push", reg.addr+"/library/busybox:latest"))
	gate := startTokenGate(t, reg.addr)

	d := startDaemonWith(t, map[string]any{"registry-mirrors": []string{gate.URL}})
	out := must(t, d.docker("pull", "busybox"))
	if !strings.Contains(out, "latest: Pulling from library/busybox") || !strings.Contains(out, "Status: Downloaded newer image for busybox:latest") {
		t.Fatalf("pull through the mirror:\n%s", out)
	}
	if got := must(t, d.berth("run", "--rm", "busybox", "echo", "from the hub")); got != "from the hub" {
		t.Fatalf("run: %q", got)
	}
	gate.mu.Lock()
	scopes := strings.Join(gate.scopes, " ")
	gate.mu.Unlock()
	if !strings.Contains(scopes, "repository:library/busybox:pull") {
		t.Fatalf("no token for library/busybox was asked for: %q", scopes)
	}
	if got := must(t, d.berth("inspect", "-f", "{{index .RepoDigests 0}}", "busybox")); !strings.HasPrefix(got, "busybox@sha256:") {
		t.Fatalf("repo digest: %q", got)
	}
	// a search of Docker Hub is answered by the mirror, in Hub's names
	if out := must(t, d.docker("search", "--format", "{{.Name}}", "busy")); out != "busybox" {
		t.Fatalf("docker search through the mirror: %q", out)
	}
}

// startDistribution runs Debian's docker-registry (CNCF Distribution 2.8)
// on a free port; the test skips without it (.ci/run installs it).
func startDistribution(t *testing.T) string {
	t.Helper()
	requireEnv(t)
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("docker-registry not installed (apt-get install docker-registry)")
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	os.WriteFile(conf, []byte(fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)), 0o644)
	cmd := exec.Command(bin, "serve", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitRegistry(t, addr)
	return addr
}

// TestRegistryInterop: berth pushes to and pulls from the reference
// registry (Distribution 2.8), and skopeo copies images into and out of
// berth's registry, gzip-compressing the layers on the way (so a pull
// decompresses as it unpacks).
func TestRegistryInterop(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Skip("skopeo not installed (apt-get install skopeo)")
	}
	dist := startDistribution(t)
	reg := startRegistry(t)
	d := startDaemon(t)
	d.loadBusybox()
	ref := dist + "/interop/busybox:1"
	must(t, d.berth("tag", "busybox", ref))
	must(t, d.berth("push", ref))
	// skopeo: out of Distribution into berth's registry, compressing
	copyImage := func(src, dst string, extra ...string) {
		t.Helper()
		args := append([]string{"copy", "--src-tls-verify=false", "--dest-tls-verify=false"}, extra...)
		cmd := exec.Command(skopeo, append(args, "docker://"+src, "docker://"+dst)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("skopeo copy %s %s: %v\n%s", src, dst, err, out)
		}
	}
	copyImage(ref, reg.addr+"/interop/gz:1", "--dest-compress", "--format", "v2s2")
	must(t, d.berth("rmi", ref, "busybox"))
	out := must(t, d.berth("pull", reg.addr+"/interop/gz:1"))
	if !strings.Contains(out, "Pull complete") {
		t.Fatalf("pull of skopeo's copy:\n%s", out)
	}
	if got := must(t, d.berth("run", "--rm", reg.addr+"/interop/gz:1", "cat", "/etc/group")); !strings.Contains(got, "wheel:x:10:root") {
		t.Fatalf("run of the gzip image: %q", got)
	}
	// the image pushed by berth comes back from Distribution too
	must(t, d.docker("pull", ref))
	if got := must(t, d.berth("run", "--rm", ref, "echo", "back")); got != "back" {
		t.Fatalf("run of the image from Distribution: %q", got)
	}
	// and skopeo copies berth's registry's content back out
	copyImage(reg.addr+"/interop/gz:1", dist+"/interop/back:1")
	if out := must(t, d.berth("pull", dist+"/interop/back:1")); !strings.Contains(out, "Digest: sha256:") {
		t.Fatalf("pull of the round trip:\n%s", out)
	}
}

// blobProxy stands in front of a registry, counting the blob downloads and
// slowing them down when asked (so a test can act in the middle of one).
type blobProxy struct {
	*httptest.Server
	mu    sync.Mutex
	gets  map[string]int // blob path → GETs
	bytes int64          // blob bytes sent
	slow  bool
	// cut drops the connection of each blob's first download after 1 MiB
	cut    bool
	ranges []string // Range headers asked for
}

func startBlobProxy(t *testing.T, backend string) *blobProxy {
	p := &blobProxy{gets: map[string]int{}}
	target, _ := url.Parse("http://" + backend)
	proxy := httputil.NewSingleHostReverseProxy(target)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/sha256:") {
			proxy.ServeHTTP(w, r)
			return
		}
		p.mu.Lock()
		p.gets[r.URL.Path]++
		first := p.gets[r.URL.Path] == 1
		if rg := r.Header.Get("Range"); rg != "" {
			p.ranges = append(p.ranges, rg)
		}
		p.mu.Unlock()
		proxy.ServeHTTP(&slowWriter{ResponseWriter: w, p: p, cutAt: p.cut && first}, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *blobProxy) sent() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}

type slowWriter struct {
	http.ResponseWriter
	p     *blobProxy
	cutAt bool
	n     int
}

func (s *slowWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		k := min(len(b), 32<<10)
		if s.cutAt && s.n >= 1<<20 {
			panic(http.ErrAbortHandler) // the connection drops mid-blob
		}
		m, err := s.ResponseWriter.Write(b[:k])
		n += m
		s.n += m
		s.p.mu.Lock()
		s.p.bytes += int64(m)
		slow := s.p.slow
		s.p.mu.Unlock()
		if err != nil {
			return n, err
		}
		if f, ok := s.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		if slow {
			time.Sleep(20 * time.Millisecond)
		}
		b = b[k:]
	}
	return n, nil
}

// pushBig puts an image with a 32 MiB random layer into reg and removes
// it locally.
func pushBig(t *testing.T, d *daemon, ref string) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN head -c 33554432 /dev/urandom > /big\n"), 0o644)
	must(t, d.berth("build", "-q", "-t", ref, dir))
	must(t, d.berth("push", ref))
	must(t, d.berth("rmi", ref, "busybox"))
}

// TestPullKill9: berthd killed in the middle of a pull leaves no image, no
// tag and no half-written layer, and the next pull completes.
func TestPullKill9(t *testing.T) {
	d, reg := daemonAndRegistry(t)
	pushBig(t, d, reg.addr+"/big/image:1")
	proxy := startBlobProxy(t, reg.addr)
	proxy.slow = true
	ref := strings.TrimPrefix(proxy.URL, "http://") + "/big/image:1"
	pull := exec.Command(filepath.Join(binDir, "berth"), "pull", ref)
	pull.Env = append(os.Environ(), "DOCKER_HOST=unix://"+d.sock)
	if err := pull.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return proxy.sent() > 4<<20 }) // well into the big layer
	d.stop(syscall.SIGKILL)
	pull.Wait()
	d.start()
	if out := must(t, d.berth("images", "-a", "-q")); out != "" {
		t.Fatalf("images after a killed pull: %q", out)
	}
	if ents, _ := os.ReadDir(filepath.Join(d.dataRoot, "content", "ingest")); len(ents) != 0 {
		t.Fatalf("%d ingests left", len(ents))
	}
	ents, _ := os.ReadDir(filepath.Join(d.dataRoot, "overlay"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "tmp-") {
			t.Fatalf("half-unpacked layer left: %s", e.Name())
		}
	}
	proxy.mu.Lock()
	proxy.slow = false
	proxy.mu.Unlock()
	out := must(t, d.berth("pull", ref))
	if !strings.Contains(out, "Status: Downloaded newer image for "+ref) {
		t.Fatalf("pull after the kill:\n%s", out)
	}
	if got := must(t, d.berth("run", "--rm", ref, "sh", "-c", "wc -c < /big")); got != "33554432" {
		t.Fatalf("the big file: %q", got)
	}
}

// TestConcurrentPulls: two pulls of one image at once download each blob
// once, and both succeed.
func TestConcurrentPulls(t *testing.T) {
	d, reg := daemonAndRegistry(t)
	pushBig(t, d, reg.addr+"/big/image:1")
	proxy := startBlobProxy(t, reg.addr)
	ref := strings.TrimPrefix(proxy.URL, "http://") + "/big/image:1"
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = d.berth("pull", ref) }()
	}
	wg.Wait()
	for _, r := range results {
		if r.code != 0 {
			t.Fatalf("concurrent pull: %s", r)
		}
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	for path, n := range proxy.gets {
		if n != 1 && !strings.Contains(path, "/blobs/sha256:") {
			continue
		}
		if n != 1 {
			t.Errorf("%s downloaded %d times", path, n)
		}
	}
	if len(proxy.gets) < 2 {
		t.Fatalf("blob downloads seen: %v", proxy.gets)
	}
}

// TestPullResumes: a blob download cut in the middle resumes with a Range
// request, and the pull completes with the layer verified.
func TestPullResumes(t *testing.T) {
	d, reg := daemonAndRegistry(t)
	pushBig(t, d, reg.addr+"/big/image:1")
	proxy := startBlobProxy(t, reg.addr)
	proxy.cut = true
	ref := strings.TrimPrefix(proxy.URL, "http://") + "/big/image:1"
	must(t, d.berth("pull", ref))
	proxy.mu.Lock()
	ranges := strings.Join(proxy.ranges, " ")
	proxy.mu.Unlock()
	if !strings.Contains(ranges, "bytes=") {
		t.Fatalf("no resumed download (ranges %q)", ranges)
	}
	if got := must(t, d.berth("run", "--rm", ref, "sh", "-c", "wc -c < /big")); got != "33554432" {
		t.Fatalf("the big file: %q", got)
	}
}

// layerStatuses is the statuses one pulled layer went through, each once
// in the order first seen, from a pull's JSON stream.
func layerStatuses(t *testing.T, stream []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(stream))
	var layer string
	var seen []string
	for dec.More() {
		var m struct{ ID, Status string }
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("pull stream: %v\n%s", err, stream)
		}
		if m.Status == "Pulling fs layer" && layer == "" {
			layer = m.ID
		}
		if m.ID == layer && layer != "" && !slices.Contains(seen, m.Status) {
			seen = append(seen, m.Status)
		}
	}
	return seen
}

// TestMultiPlatformPull: an OCI index of two platforms, put together by
// the test in berth's registry, pulls the host's platform by default and
// the other with --platform (from the docker CLI, which sends it as
// "os/arch"); a platform the index lacks, and a push or create asking
// for a platform the local image is not, fail in dockerd's words.
func TestMultiPlatformPull(t *testing.T) {
	d, reg := daemonAndRegistry(t)
	ctr := must(t, d.berth("create", "busybox", "true"))
	tarball := filepath.Join(t.TempDir(), "rootfs.tar")
	must(t, d.berth("export", "-o", tarball, ctr))
	must(t, d.berth("rm", ctr))
	must(t, d.docker("import", "--platform", "linux/arm64", tarball, "arm:1"))
	host, arm := reg.addr+"/team/plat:host", reg.addr+"/team/plat:arm"
	must(t, d.berth("tag", "busybox", host))
	must(t, d.berth("tag", "arm:1", arm))
	must(t, d.berth("push", host))
	must(t, d.berth("push", arm))
	hostID := must(t, d.berth("inspect", "-f", "{{.Id}}", host))
	armID := must(t, d.berth("inspect", "-f", "{{.Id}}", arm))

	entry := func(tag, arch string) map[string]any {
		req, _ := http.NewRequest("HEAD", "http://"+reg.addr+"/v2/team/plat/manifests/"+tag, nil)
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("HEAD manifest %s: %v %v", tag, resp, err)
		}
		resp.Body.Close()
		return map[string]any{"mediaType": resp.Header.Get("Content-Type"), "digest": resp.Header.Get("Docker-Content-Digest"),
			"size": resp.ContentLength, "platform": map[string]string{"os": "linux", "architecture": arch}}
	}
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{entry("arm", "arm64"), entry("host", runtime.GOARCH)}})
	req, _ := http.NewRequest("PUT", "http://"+reg.addr+"/v2/team/plat/manifests/multi", bytes.NewReader(index))
	req.Header.Set("Content-Type", "application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT index: %v %v", resp, err)
	}
	resp.Body.Close()
	must(t, d.berth("rmi", host, arm, "arm:1", "busybox"))

	multi := reg.addr + "/team/plat:multi"
	must(t, d.berth("pull", multi))
	if got := must(t, d.berth("inspect", "-f", "{{.Id}}", multi)); got != hostID {
		t.Fatalf("pull of the index: image %s, want the host's %s (arm64's is %s)", got, hostID, armID)
	}
	must(t, d.docker("pull", "--platform", "linux/arm64", multi))
	if got := must(t, d.berth("inspect", "-f", "{{.Id}} {{.Architecture}}", multi)); got != armID+" arm64" {
		t.Fatalf("pull --platform linux/arm64: %s, want %s arm64", got, armID)
	}
	if r := d.berth("pull", "--platform", "linux/s390x", multi); r.code == 0 || !strings.Contains(r.stderr, "no matching manifest for linux/s390x in the manifest list entries") {
		t.Fatalf("pull of a platform the index lacks: %s", r)
	}
	// the local image is arm64 now
	r := d.docker("push", "--platform", "linux/amd64", multi)
	if r.code == 0 || !strings.Contains(r.stderr, "image with reference "+multi+" was found but does not match the specified platform: wanted linux/amd64, actual: linux/arm64") {
		t.Fatalf("push --platform of another platform: %s", r)
	}
	if r := d.docker("push", "--platform", "linux/arm64", multi); r.code != 0 {
		t.Fatalf("push --platform of the image's own platform: %s", r)
	}
	code, body := d.api(t, "POST", "/containers/create?platform=linux/amd64", map[string]any{"Image": multi, "Cmd": []string{"true"}})
	if code != http.StatusNotFound || !strings.Contains(string(body), "does not match the specified platform: wanted linux/amd64, actual: linux/arm64") {
		t.Fatalf("create with another platform: %d %s", code, body)
	}
}

// credHelper is a docker-credential-<name> program speaking the
// credential helpers' protocol (store, get, erase, list on stdin and
// stdout), keeping what it stores in a file; it is put first on PATH.
const credHelper = `#!/usr/bin/env python3
import json, os, sys
path = os.environ["BERTH_TEST_CREDS"]
db = json.load(open(path)) if os.path.exists(path) else {}
op, data = sys.argv[1], sys.stdin.read().strip()
if op == "store":
    c = json.loads(data)
    db[c["ServerURL"]] = [c["Username"], c["Secret"]]
elif op == "get":
    if data not in db:
        print("credentials not found in native keychain")
        sys.exit(1)
    print(json.dumps({"ServerURL": data, "Username": db[data][0], "Secret": db[data][1]}))
    sys.exit(0)
elif op == "erase":
    db.pop(data, None)
elif op == "list":
    print(json.dumps({k: v[0] for k, v in db.items()}))
    sys.exit(0)
json.dump(db, open(path, "w"))
`

// TestCredentialHelper: with "credsStore" in config.json, login stores the
// password with the helper (not in the file), berth and the docker CLI
// both get it from there, and logout erases it.
func TestCredentialHelper(t *testing.T) {
	cfgDir, binDirH := t.TempDir(), t.TempDir()
	store := filepath.Join(t.TempDir(), "creds.json")
	os.WriteFile(filepath.Join(binDirH, "docker-credential-berthtest"), []byte(credHelper), 0o755)
	os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"credsStore": "berthtest"}`), 0o600)
	t.Setenv("DOCKER_CONFIG", cfgDir)
	t.Setenv("PATH", binDirH+":"+os.Getenv("PATH"))
	t.Setenv("BERTH_TEST_CREDS", store)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	os.WriteFile(htpasswd, []byte("bob:"+string(hash)+"\n"), 0o600)
	d := startDaemon(t)
	d.loadBusybox()
	reg := startRegistry(t, "--htpasswd", htpasswd)
	ref := reg.addr + "/bob/busybox:1"
	must(t, d.berth("tag", "busybox", ref))
	if r := d.cli(filepath.Join(binDir, "berth"), "s3cret\n", "login", "-u", "bob", "--password-stdin", reg.addr); r.code != 0 {
		t.Fatalf("login: %s", r)
	}
	if b, _ := os.ReadFile(store); !strings.Contains(string(b), "s3cret") {
		t.Fatalf("the helper holds no password: %s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(cfgDir, "config.json")); strings.Contains(string(b), "auth\"") && strings.Contains(string(b), "Ym9i") {
		t.Fatalf("config.json holds the credentials itself:\n%s", b)
	}
	must(t, d.berth("push", ref))
	must(t, d.berth("rmi", ref))
	must(t, d.docker("pull", ref))
	must(t, d.berth("logout", reg.addr))
	if b, _ := os.ReadFile(store); strings.Contains(string(b), "s3cret") {
		t.Fatalf("logout left the password with the helper: %s", b)
	}
	if r := d.berth("push", ref); r.code == 0 {
		t.Fatalf("push after logout: %s", r)
	}
}
