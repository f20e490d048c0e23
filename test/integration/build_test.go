package integration

import (
	"archive/tar"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// writeFiles makes a build context.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// steps returns the "Using cache" count and the steps that ran.
func cacheHits(out string) int { return strings.Count(out, "---> Using cache") }

// TestBuildCacheAndInstructions: the seed's Node.js layout (package.json
// first so the install step stays cached while sources change), every
// common instruction, the classic builder's output, history.
func TestBuildCacheAndInstructions(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{
		"package.json":  `{"name":"app"}`,
		"src/index.js":  "console.log('v1')\n",
		"secret.txt":    "do not send",
		".dockerignore": "secret.txt\n*.log\n!keep.log\n",
		"keep.log":      "kept\n",
		"drop.log":      "dropped\n",
		"Dockerfile": `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE
ARG FLAVOR=plain
ENV APP_HOME=/app \
    MODE=prod
WORKDIR $APP_HOME
COPY package.json .
RUN echo "installing $FLAVOR" && echo deps > node_modules.txt
COPY src/ ./src/
COPY *.log ./logs/
EXPOSE 8080/tcp 9090
USER nobody
LABEL org.example.team=core
STOPSIGNAL SIGINT
ENTRYPOINT ["cat"]
CMD ["/app/src/index.js"]
`,
	})
	out := must(t, d.berth("build", "-t", "app:1", "--build-arg", "FLAVOR=fancy", ctx))
	for _, want := range []string{"Step 1/15 : ARG BASE=busybox", "Step 2/15 : FROM $BASE", "installing fancy", "---> Running in ", "Removing intermediate container", "Successfully built ", "Successfully tagged app:1"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}
	if got := must(t, d.berth("run", "--rm", "app:1")); got != "console.log('v1')" {
		t.Fatalf("ENTRYPOINT+CMD: %q", got)
	}
	got := must(t, d.berth("run", "--rm", "--entrypoint", "sh", "app:1", "-c", "id -un; pwd; ls /app /app/logs; cat node_modules.txt; echo $MODE"))
	for _, want := range []string{"nobody", "/app", "keep.log", "deps", "prod"} {
		if !strings.Contains(got, want) {
			t.Errorf("image content lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "drop.log") || strings.Contains(got, "secret") {
		t.Errorf(".dockerignore not honoured:\n%s", got)
	}
	insp := must(t, d.berth("image", "inspect", "-f", "{{.Config.User}} {{.Config.StopSignal}} {{index .Config.Labels \"org.example.team\"}} {{len .Config.ExposedPorts}} {{.Config.WorkingDir}}", "app:1"))
	if insp != "nobody SIGINT core 2 /app" {
		t.Errorf("config: %q", insp)
	}
	hist := must(t, d.berth("history", "--no-trunc", "--format", "{{.CreatedBy}}", "app:1"))
	if !strings.Contains(hist, `|1 FLAVOR=fancy /bin/sh -c echo "installing $FLAVOR"`) || !strings.Contains(hist, "#(nop)  COPY file:") {
		t.Errorf("history:\n%s", hist)
	}
	// the same build again: every step from cache, the same image
	id1 := must(t, d.berth("images", "-q", "--no-trunc", "app:1"))
	out = must(t, d.berth("build", "-t", "app:1", "--build-arg", "FLAVOR=fancy", ctx))
	if cacheHits(out) != 13 {
		t.Errorf("rebuild: %d cached steps, want 13:\n%s", cacheHits(out), out)
	}
	if id := must(t, d.berth("images", "-q", "--no-trunc", "app:1")); id != id1 {
		t.Errorf("rebuild gave %s, first build %s", id, id1)
	}
	// a source change re-runs from the COPY that takes it; the install step stays cached
	writeFiles(t, ctx, map[string]string{"src/index.js": "console.log('v2')\n"})
	out = must(t, d.berth("build", "-t", "app:2", "--build-arg", "FLAVOR=fancy", ctx))
	if strings.Contains(out, "installing fancy") || cacheHits(out) != 5 {
		t.Errorf("after a source change (%d cached):\n%s", cacheHits(out), out)
	}
	if got := must(t, d.berth("run", "--rm", "app:2")); got != "console.log('v2')" {
		t.Fatalf("new source: %q", got)
	}
	// another build arg value re-runs the RUN that uses it
	out = must(t, d.berth("build", "--build-arg", "FLAVOR=plain", ctx))
	if !strings.Contains(out, "installing plain") {
		t.Errorf("build arg change did not re-run RUN:\n%s", out)
	}
	// --no-cache runs everything
	out = must(t, d.berth("build", "--no-cache", ctx))
	if cacheHits(out) != 0 {
		t.Errorf("--no-cache used the cache:\n%s", out)
	}
	// the real docker CLI (classic builder) builds on berthd, from cache
	out = must(t, d.cliEnv("docker", []string{"DOCKER_BUILDKIT=0"}, "build", "-t", "viadocker", "--build-arg", "FLAVOR=fancy", ctx))
	if cacheHits(out) != 13 || !strings.Contains(out, "Successfully tagged viadocker:latest") {
		t.Errorf("docker build:\n%s", out)
	}
	// the cache survives a kill -9 of the daemon
	id2 := must(t, d.berth("images", "-q", "--no-trunc", "app:2"))
	d.stop(syscall.SIGKILL)
	d.start()
	out = must(t, d.berth("build", "-q", "--build-arg", "FLAVOR=fancy", ctx))
	if out != id2 {
		t.Errorf("after a restart, -q printed %q, want %s", out, id2)
	}
}

// TestBuildMultiStageTargetAndFile: COPY --from, --target, skipped stages, -f.
func TestBuildMultiStageTargetAndFile(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{
		"Main.java": "class Main {}\n",
		"Dockerfile": `FROM busybox AS build
COPY Main.java /src/
RUN mkdir /out && cp /src/Main.java /out/app.jar
FROM busybox AS unused
RUN echo never-built
FROM busybox AS runtime
COPY --from=build /out/app.jar /opt/app.jar
CMD ["cat", "/opt/app.jar"]
`,
		"Dockerfile.dev": "FROM busybox\nENV MODE=dev\nCMD [\"sh\", \"-c\", \"echo $MODE\"]\n",
	})
	out := must(t, d.berth("build", "-t", "multi", ctx))
	if strings.Contains(out, "never-built") {
		t.Errorf("a stage the target does not need was built:\n%s", out)
	}
	if got := must(t, d.berth("run", "--rm", "multi")); got != "class Main {}" {
		t.Fatalf("COPY --from: %q", got)
	}
	out = must(t, d.berth("build", "--target", "build", "-t", "onlybuild", ctx))
	if strings.Contains(out, "runtime") || strings.Contains(out, "COPY --from") {
		t.Errorf("--target built past its stage:\n%s", out)
	}
	must(t, d.berth("run", "--rm", "onlybuild", "test", "-f", "/out/app.jar"))
	if r := d.berth("build", "--target", "nosuch", ctx); r.code == 0 || !strings.Contains(r.stderr, `target stage "nosuch" could not be found`) {
		t.Errorf("unknown target: %s", r)
	}
	must(t, d.berth("build", "-f", filepath.Join(ctx, "Dockerfile.dev"), "-t", "dev", ctx))
	if got := must(t, d.berth("run", "--rm", "dev")); got != "dev" {
		t.Errorf("-f Dockerfile.dev: %q", got)
	}
}

// TestBuildErrors: Docker's messages, a failing RUN leaves no image, tag
// or container, a path outside the context is refused.
func TestBuildErrors(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	reg := startRegistry(t)
	ctx := t.TempDir()
	cases := []struct {
		dockerfile, want string
	}{
		{"FROM busybox\nRUN true\nRUNN echo\n", "Dockerfile parse error on line 3: unknown instruction: RUNN"},
		{"FROM busybox\nRUN exit 3\n", "The command '/bin/sh -c exit 3' returned a non-zero code: 3"},
		{"FROM busybox\nCOPY missing.txt /\n", "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist"},
		{"FROM busybox\nCOPY ../outside /\n", "outside the build context"},
		{"FROM busybox\nCOPY --from=nostage /x /\n", "nostage"},
		// a base image neither here nor in its registry
		{"FROM " + reg.addr + "/nosuchimage\n", "pull access denied for " + reg.addr + "/nosuchimage, repository does not exist or may require 'docker login'"},
	}
	for _, c := range cases {
		writeFiles(t, ctx, map[string]string{"Dockerfile": c.dockerfile})
		r := d.berth("build", "-t", "broken", ctx)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: want %q in\n%s", c.dockerfile, c.want, r)
		}
	}
	// a failing RUN: the CLI exits with its code (berth and docker), and
	// -q still shows the output that explains it
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo why-it-failed; exit 3\n"})
	if r := d.berth("build", "-q", ctx); r.code != 3 || !strings.Contains(r.stdout, "why-it-failed") {
		t.Errorf("berth build -q of a failing RUN: %s", r)
	}
	if r := d.cliEnv("docker", []string{"DOCKER_BUILDKIT=0"}, "build", ctx); r.code != 3 {
		t.Errorf("docker build of a failing RUN: %s", r)
	}
	// FROM ${ARG} naming an earlier stage
	writeFiles(t, ctx, map[string]string{"Dockerfile": "ARG STAGE=base\nFROM busybox AS base\nRUN echo from-base > /f\nFROM ${STAGE}\nCMD [\"cat\", \"/f\"]\n"})
	must(t, d.berth("build", "-t", "argstage", ctx))
	if got := must(t, d.berth("run", "--rm", "argstage")); got != "from-base" {
		t.Errorf("FROM ${STAGE}: %q", got)
	}
	if out := must(t, d.berth("images", "-q", "broken")); out != "" {
		t.Errorf("a failed build was tagged: %s", out)
	}
	if out := must(t, d.berth("ps", "-aq")); out != "" {
		t.Errorf("intermediate containers left: %s", out)
	}
	if r := d.berth("build", "-f", filepath.Join(ctx, "nope"), ctx); r.code == 0 {
		t.Errorf("missing Dockerfile: %s", r)
	}
}

// TestBuildReproducible: the same Dockerfile and context in two places at
// two times, without the cache, give the same image ID.
func TestBuildReproducible(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	files := map[string]string{
		"a.txt":      "alpha\n",
		"dir/b":      "beta\n",
		"Dockerfile": "FROM busybox\nCOPY . /data/\nRUN cat /data/a.txt > /data/copy && mkdir -p /var/x && touch /var/x/y\nWORKDIR /w\nENV K=v\n",
	}
	var ids []string
	for i := 0; i < 2; i++ {
		ctx := t.TempDir()
		writeFiles(t, ctx, files)
		if i == 1 { // other times and owners on the second context
			_ = os.Chtimes(filepath.Join(ctx, "a.txt"), mustTime(t, "2001-02-03T04:05:06Z"), mustTime(t, "2001-02-03T04:05:06Z"))
			_ = os.Chown(filepath.Join(ctx, "dir", "b"), 1234, 1234)
		}
		ids = append(ids, must(t, d.berth("build", "-q", "--no-cache", ctx)))
	}
	if ids[0] != ids[1] {
		t.Fatalf("two builds gave %s and %s", ids[0], ids[1])
	}
	// and the files do not carry the context's owner
	if out := must(t, d.berth("run", "--rm", ids[0], "stat", "-c", "%u:%g", "/data/dir/b")); out != "0:0" {
		t.Errorf("owner leaked from the context: %s", out)
	}
}

// TestBuildAddTarAndOnbuild: ADD extracts a local tar; ONBUILD runs in the child.
func TestBuildAddTarAndOnbuild(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctx := t.TempDir()
	f, err := os.Create(filepath.Join(ctx, "bundle.tar"))
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	_ = tw.WriteHeader(&tar.Header{Name: "inner/file.txt", Mode: 0o644, Size: 6, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("inside"))
	_ = tw.Close()
	f.Close()
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nADD bundle.tar /opt/\nONBUILD RUN echo triggered > /onbuild\n"})
	must(t, d.berth("build", "-t", "parent", ctx))
	if got := must(t, d.berth("run", "--rm", "parent", "cat", "/opt/inner/file.txt")); got != "inside" {
		t.Fatalf("ADD tar: %q", got)
	}
	child := t.TempDir()
	writeFiles(t, child, map[string]string{"Dockerfile": "FROM parent\nCMD [\"cat\", \"/onbuild\"]\n"})
	must(t, d.berth("build", "-t", "child", child))
	if got := must(t, d.berth("run", "--rm", "child")); got != "triggered" {
		t.Fatalf("ONBUILD: %q", got)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBuildRemoteAddURLAndPrune: a context tar at a URL, ADD of a URL
// (both from a server on the host's loopback), and builder prune.
func TestBuildRemoteAddURLAndPrune(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	df := []byte("FROM busybox\nADD http://127.0.0.1:PORT/file.txt /fetched.txt\nRUN echo step\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ctx.tar":
			_, _ = w.Write(ctxTar.Bytes())
		case "/file.txt":
			_, _ = w.Write([]byte("from the web\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	df = bytes.ReplaceAll(df, []byte("127.0.0.1:PORT"), []byte(strings.TrimPrefix(srv.URL, "http://")))
	_ = tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df)), Typeflag: tar.TypeReg})
	_, _ = tw.Write(df)
	_ = tw.Close()
	must(t, d.berth("build", "-t", "remote", srv.URL+"/ctx.tar"))
	if got := must(t, d.berth("run", "--rm", "remote", "cat", "/fetched.txt")); got != "from the web" {
		t.Fatalf("ADD URL: %q", got)
	}
	// a superseded build leaves a dangling chain; builder prune takes it, the tagged image stays
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo one > /f\n"})
	must(t, d.berth("build", "-t", "pruneme", ctx))
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo two > /f\n"})
	must(t, d.berth("build", "-t", "pruneme", ctx))
	before := len(strings.Fields(must(t, d.berth("images", "-aq"))))
	out := must(t, d.berth("builder", "prune", "-f"))
	if !strings.Contains(out, "Deleted build cache objects:") {
		t.Fatalf("builder prune: %s", out)
	}
	if after := len(strings.Fields(must(t, d.berth("images", "-aq")))); after >= before {
		t.Fatalf("images: %d before, %d after prune", before, after)
	}
	if got := must(t, d.berth("run", "--rm", "pruneme", "cat", "/f")); got != "two" {
		t.Fatalf("the tagged image after prune: %q", got)
	}
	// -a empties the cache, intermediate images of tagged ones included:
	// the next build runs its steps again
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo two > /f\nENV STEP=2\n"})
	must(t, d.berth("build", "-t", "pruneme", ctx))
	must(t, d.berth("builder", "prune", "-af"))
	// (the RUN step runs again; being reproducible, it remakes the same
	// image, so the ENV step after it finds its old child again)
	if out := must(t, d.berth("build", ctx)); !strings.Contains(out, "Running in") {
		t.Fatalf("cache after prune -a:\n%s", out)
	}
}

// TestBuildAptThroughNAT: a RUN step installs a Debian package through the
// default bridge's NAT (skipped where the Debian mirror is unreachable).
func TestBuildAptThroughNAT(t *testing.T) {
	if _, err := net.LookupHost("deb.debian.org"); err != nil {
		t.Skip("no Debian mirror reachable from this machine")
	}
	d := startDaemon(t)
	tarball := filepath.Join(imagesDir(), "debian-bookworm-slim.tar")
	if _, err := os.Stat(tarball); err != nil {
		t.Skip("debian test image missing")
	}
	must(t, d.berth("import", "-c", `CMD ["bash"]`, tarball, "debian:bookworm-slim"))
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get update -q && apt-get install -y -q --no-install-recommends hello && rm -rf /var/lib/apt/lists/*\nCMD [\"hello\"]\n"})
	must(t, d.berth("build", "-t", "withhello", ctx))
	if got := must(t, d.berth("run", "--rm", "withhello")); got != "Hello, world!" {
		t.Fatalf("hello: %q", got)
	}
}

// TestBuildEntrypointCmdAndCopyFlags: ENTRYPOINT resets an inherited CMD
// but keeps one set in the same stage; COPY --chown/--chmod.
func TestBuildEntrypointCmdAndCopyFlags(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{
		"f.txt":      "content\n",
		"Dockerfile": "FROM busybox AS base\nCMD [\"inherited\"]\nFROM base AS reset\nENTRYPOINT [\"echo\"]\nFROM busybox AS kept\nCMD [\"kept\"]\nENTRYPOINT [\"echo\"]\nCOPY --chown=nobody:nogroup --chmod=600 f.txt /f.txt\n",
	})
	must(t, d.berth("build", "--target", "reset", "-t", "reset", ctx))
	if got := must(t, d.berth("run", "--rm", "reset")); got != "" {
		t.Errorf("inherited CMD not reset by ENTRYPOINT: %q", got)
	}
	must(t, d.berth("build", "-t", "kept", ctx))
	if got := must(t, d.berth("run", "--rm", "kept")); got != "kept" {
		t.Errorf("CMD of the same stage dropped: %q", got)
	}
	if got := must(t, d.berth("run", "--rm", "--entrypoint", "stat", "kept", "-c", "%U:%G %a", "/f.txt")); got != "nobody:nogroup 600" {
		t.Errorf("--chown/--chmod: %q", got)
	}
}

// TestBuildIndependentStagesRunConcurrently: stage a's RUN waits, through a
// server on the host, for stage b's RUN to arrive; that only completes if
// the two stages run at the same time (a sequential build times out).
func TestBuildIndependentStagesRunConcurrently(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	bArrived := make(chan struct{})
	var once sync.Once
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/b":
			once.Do(func() { close(bArrived) })
			_, _ = w.Write([]byte("b"))
		case "/a":
			select {
			case <-bArrived:
				_, _ = w.Write([]byte("a"))
			case <-time.After(30 * time.Second):
				http.Error(w, "stage b never came", http.StatusGatewayTimeout)
			}
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	gw := must(t, d.berth("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", "bridge"))
	url := fmt.Sprintf("http://%s:%d", gw, ln.Addr().(*net.TCPAddr).Port)
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{"Dockerfile": fmt.Sprintf(`FROM busybox AS a
RUN wget -qO /a %[1]s/a
FROM busybox AS b
RUN wget -qO /b %[1]s/b
FROM busybox
COPY --from=a /a /a
COPY --from=b /b /b
CMD ["cat", "/a", "/b"]
`, url)})
	out := must(t, d.berth("build", "-t", "concurrent", ctx))
	if got := must(t, d.berth("run", "--rm", "concurrent")); got != "ab" {
		t.Fatalf("result %q", got)
	}
	// the output still reads in stage order
	if strings.Index(out, "Step 2/8 : RUN wget -qO /a") > strings.Index(out, "Step 3/8 : FROM busybox AS b") {
		t.Fatalf("output out of order:\n%s", out)
	}
}

// TestSystemDfWithBuildCache: system df counts images, containers, volumes
// and the build cache (berth and docker CLI), and builder prune empties it.
func TestSystemDfWithBuildCache(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo a > /a\nRUN echo b > /b\n"})
	must(t, d.berth("build", "-t", "dfimg", ctx))
	must(t, d.berth("run", "-d", "-v", "dfvol:/v", "dfimg", "sleep", "1000"))
	rows := map[string][]string{}
	for _, l := range strings.Split(must(t, d.docker("system", "df")), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) >= 3 {
			name := f[0]
			if name == "Local" || name == "Build" {
				name, f = name+" "+f[1], f[1:]
			}
			rows[name] = f[1:]
		}
	}
	// Images: busybox, dfimg (hello-world is materialised only on use); the RUN step before dfimg is cache
	for name, want := range map[string][2]string{"Images": {"2", "1"}, "Containers": {"1", "1"}, "Local Volumes": {"1", "1"}, "Build Cache": {"1", "1"}} {
		if r := rows[name]; len(r) < 2 || r[0] != want[0] || r[1] != want[1] {
			t.Errorf("%s: TOTAL/ACTIVE %v, want %v", name, r, want)
		}
	}
	if out := must(t, d.berth("system", "df")); !strings.Contains(out, "Build Cache") || !strings.Contains(out, "Local Volumes") {
		t.Errorf("berth system df:\n%s", out)
	}
	must(t, d.berth("builder", "prune", "-af"))
	if out := must(t, d.berth("system", "df")); !regexp.MustCompile(`Build Cache\s+0\s+0`).MatchString(out) {
		t.Errorf("after builder prune -a:\n%s", out)
	}
}
