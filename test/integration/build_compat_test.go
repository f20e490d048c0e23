package integration

// docker build behaviours Moby's integration-cli build suite checks.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
