package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestBindMounts: -v host:ctr is a reference, not a copy; :ro holds; -v
// creates a missing host directory, --mount type=bind refuses one.
func TestBindMounts(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := must(t, d.berth("run", "-d", "-v", site+":/www", "busybox", "sleep", "1000"))
	if out := must(t, d.berth("exec", id, "cat", "/www/index.html")); out != "v1" {
		t.Fatalf("bind content: %q", out)
	}
	// edit on the host, seen in the container without a restart
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("v2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := must(t, d.berth("exec", id, "cat", "/www/index.html")); out != "v2" {
		t.Fatalf("host edit not seen: %q", out)
	}
	// and the container's writes reach the host
	must(t, d.berth("exec", id, "sh", "-c", "echo from-ctr > /www/new"))
	if b, _ := os.ReadFile(filepath.Join(site, "new")); string(b) != "from-ctr\n" {
		t.Fatalf("container write on the host: %q", b)
	}
	if r := d.berth("run", "--rm", "-v", site+":/www:ro", "busybox", "touch", "/www/x"); r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Fatalf(":ro: %s", r)
	}
	missing := filepath.Join(t.TempDir(), "a", "b")
	must(t, d.berth("run", "--rm", "-v", missing+":/m", "busybox", "true"))
	if st, err := os.Stat(missing); err != nil || !st.IsDir() {
		t.Fatalf("-v did not create the host directory: %v", err)
	}
	gone := filepath.Join(t.TempDir(), "nope")
	r := d.berth("run", "--rm", "--mount", "type=bind,src="+gone+",dst=/m", "busybox", "true")
	if r.code != 125 || !strings.Contains(r.stderr, "bind source path does not exist: "+gone) {
		t.Fatalf("--mount of a missing source: %s", r)
	}
	if _, err := os.Stat(gone); err == nil {
		t.Fatal("--mount created the missing source")
	}
	// ".." in the source is cleaned, not a way around it
	must(t, d.berth("run", "--rm", "-v", site+"/../"+filepath.Base(site)+":/www", "busybox", "test", "-f", "/www/new"))
	for _, bad := range []string{"rel:x", site + ":/", "/a:/b:bogus"} {
		if r := d.berth("run", "--rm", "-v", bad, "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "invalid") {
			t.Errorf("-v %s: %s", bad, r)
		}
	}
	if r := d.berth("run", "--rm", "-v", site+":/a", "-v", site+":/a", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "Duplicate mount point: /a") {
		t.Errorf("duplicate: %s", r)
	}
}

// TestNamedAndAnonymousVolumes covers the volume lifecycle with berth and
// the docker CLI.
func TestNamedAndAnonymousVolumes(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	if out := must(t, d.berth("volume", "create", "--label", "team=a", "data")); out != "data" {
		t.Fatalf("create printed %q", out)
	}
	must(t, d.berth("run", "--rm", "-v", "data:/d", "busybox", "sh", "-c", "echo kept > /d/f"))
	// --rm keeps named volumes; the data is there for the next container
	if out := must(t, d.berth("run", "--rm", "-v", "data:/d", "busybox", "cat", "/d/f")); out != "kept" {
		t.Fatalf("named volume content: %q", out)
	}
	// a volume named on first use is created
	must(t, d.berth("run", "--rm", "-v", "auto:/d", "busybox", "true"))
	must(t, d.berth("volume", "inspect", "auto"))
	// copy-up: a new volume over a non-empty image directory gets its content
	if out := must(t, d.berth("run", "--rm", "-v", "etc:/etc", "busybox", "cat", "/etc/passwd")); !strings.Contains(out, "root:") {
		t.Fatalf("copy-up: %q", out)
	}
	mp := must(t, d.berth("volume", "inspect", "-f", "{{.Mountpoint}}", "etc"))
	if b, err := os.ReadFile(filepath.Join(mp, "passwd")); err != nil || !strings.Contains(string(b), "root:") {
		t.Fatalf("copy-up did not reach the volume: %v", err)
	}
	// ... unless nocopy
	if r := d.berth("run", "--rm", "-v", "empty:/etc:nocopy", "busybox", "ls", "/etc/passwd"); r.code == 0 {
		t.Fatalf("nocopy copied the image's /etc: %s", r)
	}
	// anonymous volumes: -v /path, removed with rm -v; --rm removes them too
	must(t, d.berth("run", "--name", "anonc", "-v", "/anon", "busybox", "true"))
	id := must(t, d.berth("inspect", "-f", "{{.Id}}", "anonc"))
	anon := must(t, d.berth("inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", id))
	if len(anon) != 64 {
		t.Fatalf("anonymous volume name %q", anon)
	}
	if r := d.berth("volume", "rm", anon); r.code != 1 || !strings.Contains(r.stderr, "volume is in use - ["+id) {
		t.Fatalf("rm of a volume in use: %s", r)
	}
	must(t, d.berth("rm", "-v", id))
	if r := d.berth("volume", "inspect", anon); r.code == 0 || !strings.Contains(r.stderr, "no such volume") {
		t.Fatalf("rm -v left the anonymous volume: %s", r)
	}
	before := must(t, d.berth("volume", "ls", "-q"))
	must(t, d.berth("run", "--rm", "-v", "/anon2", "busybox", "true"))
	if after := must(t, d.berth("volume", "ls", "-q")); after != before {
		t.Fatalf("--rm left a volume:\n%s\nvs\n%s", after, before)
	}
	must(t, d.berth("create", "--name", "user-of-data", "-v", "data:/d", "busybox", "true"))
	if out := must(t, d.berth("ps", "-a", "--format", "{{.Names}}", "--filter", "volume=data")); out != "user-of-data" {
		t.Fatalf("ps --filter volume=data: %q", out)
	}
	must(t, d.berth("rm", "user-of-data"))
	// ls filters and formats
	if out := must(t, d.berth("volume", "ls", "-q", "--filter", "label=team=a")); out != "data" {
		t.Fatalf("label filter: %q", out)
	}
	if out := must(t, d.berth("volume", "ls", "--format", "{{.Name}} {{.Driver}}", "--filter", "name=dat")); out != "data local" {
		t.Fatalf("name filter: %q", out)
	}
	// the seed's clean-up line, with the docker CLI
	d.docker("run", "-d", "--name", "holder", "-v", "data:/d", "busybox", "sleep", "1000")
	dangling := strings.Fields(must(t, d.docker("volume", "ls", "-qf", "dangling=true")))
	for _, v := range dangling {
		if v == "data" {
			t.Fatal("a volume in use is listed as dangling")
		}
	}
	must(t, d.docker(append([]string{"volume", "rm"}, dangling...)...))
	if out := must(t, d.docker("volume", "ls", "-q")); out != "data" {
		t.Fatalf("after removing the dangling volumes: %q", out)
	}
	must(t, d.docker("rm", "-f", "holder"))
	// prune: anonymous only by default, all unused with -a
	id = must(t, d.berth("create", "-v", "/x", "busybox", "true"))
	anon = must(t, d.berth("inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", id))
	must(t, d.berth("rm", id))
	out := must(t, d.berth("volume", "prune", "-f"))
	if !strings.Contains(out, anon) || strings.Contains(out, "data") {
		t.Fatalf("prune: %s", out)
	}
	out = must(t, d.berth("volume", "prune", "-af"))
	if !strings.Contains(out, "data") {
		t.Fatalf("prune -a: %s", out)
	}
	if out := must(t, d.berth("volume", "ls", "-q")); out != "" {
		t.Fatalf("volumes left after prune -a: %q", out)
	}
	if r := d.berth("volume", "create", "bad/name"); r.code == 0 || !strings.Contains(r.stderr, "includes invalid characters for a local volume name") {
		t.Fatalf("bad name: %s", r)
	}
}

// TestVolumeSurvivesRestartAndKill9: volume data and records outlive the daemon.
func TestVolumeSurvivesRestartAndKill9(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("run", "--rm", "-v", "keep:/d", "busybox", "sh", "-c", "echo 1 > /d/f"))
	d.stop(syscall.SIGKILL)
	d.start()
	if out := must(t, d.berth("run", "--rm", "-v", "keep:/d", "busybox", "cat", "/d/f")); out != "1" {
		t.Fatalf("after kill -9: %q", out)
	}
	d.stop(syscall.SIGTERM)
	d.start()
	if out := must(t, d.berth("volume", "ls", "-q")); out != "keep" {
		t.Fatalf("after restart: %q", out)
	}
}

// TestTmpfsVolumesFromAndImageVolumes covers --tmpfs, --mount type=tmpfs,
// --volumes-from, VOLUME in the image and a tmpfs-backed named volume.
func TestTmpfsVolumesFromAndImageVolumes(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	out := must(t, d.berth("run", "--rm", "--tmpfs", "/run:size=1m", "--mount", "type=tmpfs,dst=/t,tmpfs-size=2097152",
		"busybox", "sh", "-c", "grep -E ' /run | /t ' /proc/mounts"))
	if !strings.Contains(out, "tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k") || !strings.Contains(out, "tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k") {
		t.Fatalf("tmpfs mounts:\n%s", out)
	}
	src := must(t, d.berth("run", "-d", "-v", "shared:/s", "-v", "/anon", "busybox", "sh", "-c", "echo hi > /s/f; sleep 1000"))
	waitFor(t, func() bool { return d.berth("exec", src, "test", "-f", "/s/f").code == 0 })
	r := d.berth("run", "--rm", "--volumes-from", src+":ro", "busybox", "sh", "-c", "cat /s/f; test -d /anon && echo anon; touch /s/g")
	if !strings.Contains(r.stdout, "hi") || !strings.Contains(r.stdout, "anon") || !strings.Contains(r.stderr, "Read-only") {
		t.Fatalf("--volumes-from: %s", r)
	}
	must(t, d.berth("rm", "-f", "-v", src))
	// the anonymous volume --volumes-from shared belongs to src: gone with it; "shared" stays
	if out := must(t, d.berth("volume", "ls", "-q")); out != "shared" {
		t.Fatalf("volumes after rm -v of the source: %q", out)
	}
	// VOLUME in the image config makes an anonymous volume
	tarball := filepath.Join(imagesDir(), "busybox.tar")
	must(t, d.berth("import", "-c", "VOLUME /data", tarball, "withvol"))
	id := must(t, d.berth("create", "withvol", "true"))
	if out := must(t, d.berth("inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Destination}}{{end}}", id)); out != "volume /data" {
		t.Fatalf("image volume: %q", out)
	}
	// a named volume on tmpfs (local driver options): mounted while used
	must(t, d.berth("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", "mem"))
	if out := must(t, d.berth("run", "--rm", "-v", "mem:/m", "busybox", "sh", "-c", "grep ' /m ' /proc/mounts")); !strings.HasPrefix(out, "tmpfs /m tmpfs") || !strings.Contains(out, "size=1024k") {
		t.Fatalf("tmpfs volume: %q", out)
	}
	mp := must(t, d.berth("volume", "inspect", "-f", "{{.Mountpoint}}", "mem"))
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), mp) {
		t.Fatalf("tmpfs volume still mounted after its container ended")
	}
}
