package integration

// docker build behaviours Moby's integration-cli build suite checks.

import (
	"bytes"
	"compress/gzip"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBuildQuietIgnoreStderrAndLabels(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{
		"Dockerfile":    "FROM busybox\nCOPY . /ctx\nRUN ls -a /ctx; echo to-stderr >&2\n",
		".dockerignore": "Dockerfile\n.dockerignore\n",
		"kept":          "k",
	})
	// the docker CLI's classic builder prints only the image ID with -q
	r := d.cliEnv("docker", []string{"DOCKER_BUILDKIT=0"}, "build", "-q", "-t", "quiet:1", ctx)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(id, "sha256:") || id != must(t, d.berth("images", "-q", "--no-trunc", "quiet:1")) {
		t.Fatalf("docker build -q: %s", r)
	}
	// the files .dockerignore names are not in the context (berth sends them, as docker-py does)
	out := must(t, d.berth("build", "--no-cache", "-t", "ign:1", ctx))
	if strings.Contains(out, "Dockerfile") || strings.Contains(out, ".dockerignore") || !strings.Contains(out, "kept") {
		t.Fatalf("context listing:\n%s", out)
	}
	// a RUN step's stderr is red, as in the classic builder
	if !strings.Contains(out, "\x1b[91mto-stderr\n\x1b[0m") {
		t.Fatalf("stderr not marked:\n%q", out)
	}
	// editing the ignored Dockerfile keeps COPY . cached
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nCOPY . /ctx\nRUN ls -a /ctx; echo to-stderr >&2\n# edited\n"})
	if out := must(t, d.berth("build", ctx)); strings.Count(out, "Using cache") != 2 {
		t.Fatalf("COPY . not cached after an edit of the ignored Dockerfile:\n%s", out)
	}
	// --label values are part of the cache key
	plain := t.TempDir()
	writeFiles(t, plain, map[string]string{"Dockerfile": "FROM busybox\nRUN true\n"})
	for _, v := range []string{"1", "2"} {
		must(t, d.berth("build", "-t", "lab:"+v, "--label", "v="+v, plain))
		if got := must(t, d.berth("inspect", "-f", "{{.Config.Labels.v}}", "lab:"+v)); got != v {
			t.Fatalf("label v: %s, want %s", got, v)
		}
	}
}

func TestBuildCacheFromAndCgroupParent(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nENV A=1\nRUN echo built > /f\nCOPY f2 /f2\nCMD [\"cat\", \"/f\"]\n", "f2": "x"})
	must(t, d.berth("build", "-t", "src:1", ctx))
	// a source that does not exist: no cache at all, not the local one
	if out := must(t, d.berth("build", "--cache-from", "nope:1", ctx)); strings.Contains(out, "Using cache") {
		t.Fatalf("cache used with --cache-from naming no image:\n%s", out)
	}
	// a loaded image, without its build's parent chain, is a cache source
	archive := filepath.Join(t.TempDir(), "src.tar")
	must(t, d.berth("save", "-o", archive, "src:1"))
	srcID := must(t, d.berth("images", "-q", "--no-trunc", "src:1"))
	before := len(strings.Fields(must(t, d.berth("images", "-aq"))))
	must(t, d.berth("rmi", "src:1")) // its untagged parents go with it
	if after := len(strings.Fields(must(t, d.berth("images", "-aq")))); after != 1 {
		t.Fatalf("%d images before rmi, %d after (want only busybox)", before, after)
	}
	must(t, d.berth("load", "-i", archive))
	out := must(t, d.berth("build", "-t", "again:1", "--cache-from", "src:1", ctx))
	if strings.Count(out, "Using cache") != 4 {
		t.Fatalf("steps of the loaded image not reused:\n%s", out)
	}
	if id := must(t, d.berth("images", "-q", "--no-trunc", "again:1")); id != srcID {
		t.Fatalf("cached build gave %s, the source is %s", id, srcID)
	}
	// RUN containers go under --cgroup-parent
	cg := t.TempDir()
	writeFiles(t, cg, map[string]string{"Dockerfile": "FROM busybox\nRUN cat /proc/self/cgroup\n"})
	out = must(t, d.berth("build", "--no-cache", "--cgroup-parent", "/berth-build-test", cg))
	t.Cleanup(func() {
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/berth-build-test")
		for _, p := range append(dirs, "/sys/fs/cgroup/unified/berth-build-test") {
			_ = os.Remove(p)
		}
	})
	if !strings.Contains(out, "/berth-build-test/") {
		t.Fatalf("RUN not under the cgroup parent:\n%s", out)
	}
}

// TestBuildConfigNormalisation: the image config a build writes, and the
// Dockerfiles it refuses, as dockerd's classic builder.
func TestBuildConfigNormalisation(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nSHELL [\"/bin/sh\", \"-ec\"]\nONBUILD RUN echo trigger-fired\nCMD []\nEXPOSE 5678/UDP\nWORKDIR /a/b/\n"})
	must(t, d.berth("build", "-t", "parent:1", ctx))
	for f, want := range map[string]string{
		"{{json .Config.Cmd}}":          "[]",
		"{{json .Config.ExposedPorts}}": `{"5678/udp":{}}`,
		"{{.Config.WorkingDir}}":        "/a/b",
		"{{json .Config.Shell}}":        `["/bin/sh","-ec"]`,
		"{{json .Config.Env}}":          `["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]`,
	} {
		if got := must(t, d.berth("inspect", "-f", f, "parent:1")); got != want {
			t.Errorf("%s = %s, want %s", f, got, want)
		}
	}
	// the child inherits SHELL (-e: the failing false stops the step) and
	// fires the trigger once; its own child does not fire it again
	child := t.TempDir()
	writeFiles(t, child, map[string]string{"Dockerfile": "FROM parent:1\n"})
	out := must(t, d.berth("build", "-t", "child:1", child))
	if !strings.Contains(out, "trigger-fired") {
		t.Fatalf("trigger not fired:\n%s", out)
	}
	if got := must(t, d.berth("inspect", "-f", "{{json .Config.OnBuild}}", "child:1")); got != "null" && got != "[]" {
		t.Fatalf("child keeps the triggers: %s", got)
	}
	grand := t.TempDir()
	writeFiles(t, grand, map[string]string{"Dockerfile": "FROM child:1\nRUN false; echo reached-$((1+1))\n"})
	if r := d.berth("build", grand); r.code == 0 || strings.Contains(r.stdout, "trigger-fired") || strings.Contains(r.stdout, "reached-2") {
		t.Fatalf("grandchild (trigger again, or SHELL not inherited): %s", r)
	}
	// proxy build args reach RUN without an ARG; unused ones are reported
	px := t.TempDir()
	writeFiles(t, px, map[string]string{"Dockerfile": "FROM busybox\nRUN echo proxy=$HTTP_PROXY\n"})
	out = must(t, d.berth("build", "--no-cache", "--build-arg", "HTTP_PROXY=http://p:3128", "--build-arg", "UNUSED=1", px))
	if !strings.Contains(out, "proxy=http://p:3128") || !strings.Contains(out, "[Warning] One or more build-args [UNUSED] were not consumed") {
		t.Fatalf("proxy build arg:\n%s", out)
	}
	if hist := must(t, d.berth("history", "--no-trunc", "--format", "{{.CreatedBy}}", strings.Fields(out)[len(strings.Fields(out))-1])); strings.Contains(hist, "3128") {
		t.Fatalf("the proxy is in the history:\n%s", hist)
	}
	for _, tc := range []struct{ dockerfile, err string }{
		{"FROM scratch\n", "No image was generated. Is your Dockerfile empty?"},
		{"FROM busybox\nVOLUME \"\"\n", "VOLUME specified can not be an empty string"},
		{"FROM busybox\nRUN touch /foo\nVOLUME /foo\n", "file exists"},
		{"FROM busybox\nCOPY --from=0 /etc/passwd /x\n", "invalid from flag value 0: refers to current build stage"},
	} {
		bad := t.TempDir()
		writeFiles(t, bad, map[string]string{"Dockerfile": tc.dockerfile})
		if r := d.berth("build", bad); r.code == 0 || !strings.Contains(r.stderr+r.stdout, tc.err) {
			t.Errorf("%q: %s", tc.dockerfile, r)
		}
	}
}

// TestBuildCopySymlinksOwnersAndArchives: COPY and ADD follow symlinks on
// the destination and a source that links to a directory, keep the owner
// of a directory they copy into, and copy a compressed file that holds no
// tar as it is.
func TestBuildCopySymlinksOwnersAndArchives(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{
		"Dockerfile": "FROM busybox\n" +
			"RUN mkdir -p /real /exists && ln -s /real /link && chown 1000:1000 /exists\n" +
			"ADD foo /link/\nCOPY foo /exists/\nCOPY dirlink /copied/\nADD plain.gz /\n" +
			"RUN test -L /link && test -f /real/foo && test \"$(stat -c %u:%g /exists)\" = 1000:1000 && test -f /copied/inner && test -f /plain.gz && echo all-good\n",
		"foo":       "foo",
		"dir/inner": "in",
	})
	if err := os.Symlink("dir", filepath.Join(ctx, "dirlink")); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("not a tar\n"))
	zw.Close()
	if err := os.WriteFile(filepath.Join(ctx, "plain.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := must(t, d.berth("build", ctx)); !strings.Contains(out, "all-good") {
		t.Fatalf("build:\n%s", out)
	}
}

// TestBuildAddURLKeepsLastModified: a file ADD downloads keeps the
// server's Last-Modified time (deterministic, as the rest of the layer).
func TestBuildAddURLKeepsLastModified(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var modified atomic.Int64 // the server's Last-Modified, Unix seconds
	modified.Store(time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC).Unix())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "file", time.Unix(modified.Load(), 0), strings.NewReader("hello"))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nADD http://" + ln.Addr().String() + "/file /\nRUN date -u -r /file +%Y-%m-%dT%H:%M:%S\n"})
	if out := must(t, d.berth("build", "--network", "host", "--no-cache", ctx)); !strings.Contains(out, "2021-03-04T05:06:07") {
		t.Fatalf("the file's time:\n%s", out)
	}
	// the time is not part of the cache key: the same content, newer, is a hit
	modified.Add(3600)
	if out := must(t, d.berth("build", "--network", "host", ctx)); strings.Count(out, "Using cache") != 2 {
		t.Fatalf("same content with another Last-Modified missed the cache:\n%s", out)
	}
}

// TestBuildResourceLimits: RUN containers get the build's limits and
// labels (kept with --rm=false), and the image gets none of them.
func TestBuildResourceLimits(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max\n"})
	r := d.cliEnv("docker", []string{"DOCKER_BUILDKIT=0"}, "build", "--no-cache", "--rm=false", "--memory=64m", "--memory-swap=-1", "--cpuset-cpus=0",
		"--cpu-shares=100", "--cpu-quota=8000", "--ulimit", "nofile=42", "--label=limits-test", "-t", "limited", ctx)
	if r.code != 0 || !strings.Contains(r.stdout, "67108864") {
		t.Fatalf("build with limits: %s", r)
	}
	ctr := must(t, d.berth("ps", "-lq", "--filter", "label=limits-test"))
	out := must(t, d.berth("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpusetCpus}} {{.HostConfig.CPUShares}} {{.HostConfig.CPUQuota}} {{(index .HostConfig.Ulimits 0).Name}}={{(index .HostConfig.Ulimits 0).Hard}}", ctr))
	if out != "67108864 -1 0 100 8000 nofile=42" {
		t.Fatalf("RUN container's limits: %s", out)
	}
	must(t, d.berth("run", "--name", "fromimage", "limited", "true"))
	if out := must(t, d.berth("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.CPUShares}}", "fromimage")); out != "0 0" {
		t.Fatalf("limits reached the image: %s", out)
	}
}
