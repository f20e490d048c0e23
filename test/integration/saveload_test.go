package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// saveLoadFixture: busybox:latest, me/box:1 (the same image) and
// withfile:1 (a commit of a container on busybox: two layers).
func saveLoadFixture(t *testing.T) (*daemon, map[string]string) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("tag", "busybox", "me/box:1"))
	must(t, d.berth("run", "--name", "mk", "busybox", "sh", "-c", "echo hi > /hi"))
	must(t, d.berth("commit", "mk", "withfile:1"))
	must(t, d.berth("rm", "mk"))
	ids := map[string]string{}
	for _, ref := range []string{"busybox:latest", "me/box:1", "withfile:1"} {
		ids[ref] = must(t, d.berth("image", "inspect", "-f", "{{.Id}}", ref))
	}
	return d, ids
}

// storeEmpty fails unless the daemon holds no image, blob or unpacked layer.
func (d *daemon) storeEmpty(t *testing.T, when string) {
	t.Helper()
	if out := must(t, d.berth("images", "-aq")); out != "" {
		t.Fatalf("%s: images %q", when, out)
	}
	for dir, allowed := range map[string]int{"content/blobs/sha256": 0, "content/ingest": 0, "overlay": 1 /* the empty lower dir */} {
		ents, err := os.ReadDir(filepath.Join(d.dataRoot, dir))
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) != allowed {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Fatalf("%s: %s holds %v", when, dir, names)
		}
	}
}

func (d *daemon) removeAll(t *testing.T, refs ...string) {
	t.Helper()
	must(t, d.berth(append([]string{"rmi"}, refs...)...))
}

func checkIDs(t *testing.T, d *daemon, ids map[string]string) {
	t.Helper()
	for ref, id := range ids {
		if got := must(t, d.berth("image", "inspect", "-f", "{{.Id}}", ref)); got != id {
			t.Errorf("%s is %s after load, was %s", ref, got, id)
		}
	}
}

// TestSaveLoadRoundTrip: save several images to a file, remove them (which
// frees every blob and layer), load them back with the same IDs and tags.
func TestSaveLoadRoundTrip(t *testing.T) {
	d, ids := saveLoadFixture(t)
	archive := filepath.Join(d.root, "images.tar")
	if r := d.berth("save", "-o", archive, "busybox", "me/box:1", "withfile:1"); r.code != 0 || r.stdout != "" {
		t.Fatalf("save: %s", r)
	}
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive: %v %v", fi, err)
	}
	d.removeAll(t, "busybox", "me/box:1", "withfile:1")
	d.storeEmpty(t, "after rmi")

	r := d.berth("load", "-i", archive)
	want := "Loaded image: busybox:latest\nLoaded image: me/box:1\nLoaded image: withfile:1\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("load: %s", r)
	}
	checkIDs(t, d, ids)
	if out := must(t, d.berth("run", "--rm", "withfile:1", "cat", "/hi")); out != "hi" {
		t.Fatalf("loaded image content: %q", out)
	}

	// -q, and the `image` group's spelling; the archive already loaded
	// adds nothing and says the same.
	if r := d.berth("image", "load", "-q", "-i", archive); r.code != 0 || r.stdout != want {
		t.Fatalf("image load -q: %s", r)
	}
	// A tag that points elsewhere moves, with Docker's notice.
	must(t, d.berth("tag", "withfile:1", "me/box:1"))
	if r := d.berth("load", "-i", archive); r.code != 0 || !strings.Contains(r.stdout,
		"The image me/box:1 already exists, renaming the old one with ID "+ids["withfile:1"]+" to empty string\nLoaded image: me/box:1\n") {
		t.Fatalf("load over a moved tag: %s", r)
	}

	// Through stdout and stdin: a pipe, and a file in between.
	b := filepath.Join(binDir, "berth")
	r = d.cli("sh", "", "-c", b+" image save busybox withfile:1 | "+b+" load")
	if r.code != 0 || r.stdout != "Loaded image: busybox:latest\nLoaded image: withfile:1\n" {
		t.Fatalf("save | load: %s", r)
	}
	piped := filepath.Join(d.root, "piped.tar")
	must(t, d.cli("sh", "", "-c", b+" save busybox withfile:1 > "+piped))
	d.removeAll(t, "busybox", "me/box:1", "withfile:1")
	d.storeEmpty(t, "after the second rmi")
	r = d.cli("sh", "", "-c", b+" load < "+piped)
	if r.code != 0 || r.stdout != "Loaded image: busybox:latest\nLoaded image: withfile:1\n" {
		t.Fatalf("load < file: %s", r)
	}
	// An image saved by ID loads untagged.
	r = d.cli("sh", "", "-c", b+" save "+ids["withfile:1"][7:19]+" > "+filepath.Join(d.root, "byid.tar"))
	if r.code != 0 {
		t.Fatalf("save by ID: %s", r)
	}
	must(t, d.berth("rmi", "withfile:1"))
	if r := d.berth("load", "-i", filepath.Join(d.root, "byid.tar")); r.code != 0 || r.stdout != "Loaded image ID: "+ids["withfile:1"]+"\n" {
		t.Fatalf("load of an untagged image: %s", r)
	}
}

// TestSaveLoadErrors: Docker's words and exit codes.
func TestSaveLoadErrors(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"save", "-o", filepath.Join(d.root, "x.tar"), "nope:1"}, "Error response from daemon: reference does not exist"},
		{[]string{"save", "-o", filepath.Join(d.root, "x.tar"), "nope"}, "Error response from daemon: No such image: nope"},
		{[]string{"save", "-o", filepath.Join(d.root, "missing", "x.tar"), "busybox"}, "failed to save image: invalid output path: stat " + filepath.Join(d.root, "missing") + ": no such file or directory"},
		{[]string{"save"}, "'" + "berth save' requires at least 1 argument"},
		{[]string{"load", "x"}, "'berth load' accepts no arguments"},
		{[]string{"load", "-i", filepath.Join(d.root, "none.tar")}, "open " + filepath.Join(d.root, "none.tar") + ": no such file or directory"},
	} {
		r := d.berth(tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%v: %s\nwant %q", tc.args, r, tc.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(d.root, "x.tar")); err == nil {
		t.Error("a failed save left its output file")
	}
	// A terminal is never the archive, in either direction.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"save", "busybox"}, "cowardly refusing to save to a terminal. Use the -o flag or redirect"},
		{[]string{"load"}, "requested load from stdin, but stdin is empty"},
	} {
		out, code := runPty(t, d, filepath.Join(binDir, "berth"), tc.args...)
		if code != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("%v on a terminal: exit %d, %q", tc.args, code, out)
		}
	}
}

// runPty runs a CLI with a terminal as stdin and stdout.
func runPty(t *testing.T, d *daemon, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+d.sock)
	f, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, _ := io.ReadAll(f) // EIO once the command exits
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	return string(out), 0
}

// TestLoadTruncated: a cut archive fails in Docker's words and leaves no
// image, tag, blob or layer; so do a non-image tar and a missing blob.
func TestLoadTruncated(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	full := filepath.Join(d.root, "full.tar")
	must(t, d.berth("save", "-o", full, "busybox"))
	b, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	must(t, d.berth("rmi", "busybox"))
	d.storeEmpty(t, "after rmi")
	cut := filepath.Join(d.root, "cut.tar")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	notImage := filepath.Join(imagesDir(), "busybox.tar")
	for _, tc := range []struct{ file, err string }{
		{cut, "unexpected EOF"},
		{notImage, "invalid archive: does not contain a manifest.json"},
	} {
		for _, cli := range []func(...string) result{d.berth, d.docker} {
			r := cli("load", "-i", tc.file)
			if r.code != 1 || strings.TrimSpace(r.stderr) != tc.err {
				t.Errorf("load %s: %s", filepath.Base(tc.file), r)
			}
			d.storeEmpty(t, "after a failed load of "+filepath.Base(tc.file))
		}
	}
}

// TestLoadOCILayout: an OCI image layout (as skopeo, podman or containerd
// write it: gzip layers, a ref name annotation) loads and runs.
func TestLoadOCILayout(t *testing.T) {
	d := startDaemon(t)
	rootfs, err := os.ReadFile(filepath.Join(imagesDir(), "busybox.tar"))
	if err != nil {
		t.Skipf("busybox test image missing: %v", err)
	}
	archive := filepath.Join(d.root, "oci.tar")
	if err := os.WriteFile(archive, ociArchive(t, rootfs, "oci/box:1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := d.berth("load", "-i", archive); r.code != 0 || r.stdout != "Loaded image: oci/box:1\n" {
		t.Fatalf("load: %s", r)
	}
	if out := must(t, d.berth("run", "--rm", "oci/box:1", "echo", "ok")); out != "ok" {
		t.Fatalf("run: %q", out)
	}
	// The docker CLI, and a save of it back out as a docker-archive.
	must(t, d.docker("rmi", "oci/box:1"))
	if r := d.docker("load", "-i", archive); r.code != 0 || r.stdout != "Loaded image: oci/box:1\n" {
		t.Fatalf("docker load: %s", r)
	}
}

// ociArchive builds an OCI image layout around a root filesystem tar.
func ociArchive(t *testing.T, rootfs []byte, ref string) []byte {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(rootfs)
	_ = zw.Close()
	blobs := map[string][]byte{}
	put := func(b []byte) (string, int) {
		sum := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(sum[:])
		blobs["blobs/sha256/"+d[7:]] = b
		return d, len(b)
	}
	diffSum := sha256.Sum256(rootfs)
	cfg, _ := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux", "created": "2024-01-01T00:00:00Z",
		"config": map[string]any{"Cmd": []string{"sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diffSum[:])}},
	})
	cfgD, cfgN := put(cfg)
	layerD, layerN := put(gz.Bytes())
	man, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfgD, "size": cfgN},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layerD, "size": layerN}},
	})
	manD, manN := put(man)
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manD, "size": manN,
			"annotations": map[string]string{"org.opencontainers.image.ref.name": ref}}},
	})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		_, _ = tw.Write(b)
	}
	add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	add("index.json", index)
	for name, b := range blobs {
		add(name, b)
	}
	_ = tw.Close()
	return buf.Bytes()
}

// TestSaveLoadDockerCLI: the docker CLI's save and load against berthd.
func TestSaveLoadDockerCLI(t *testing.T) {
	d, ids := saveLoadFixture(t)
	archive := filepath.Join(d.root, "docker.tar")
	if r := d.docker("save", "-o", archive, "busybox", "withfile:1"); r.code != 0 {
		t.Fatalf("docker save: %s", r)
	}
	must(t, d.docker("rmi", "busybox", "me/box:1", "withfile:1"))
	d.storeEmpty(t, "after docker rmi")
	if r := d.docker("load", "-i", archive); r.code != 0 || r.stdout != "Loaded image: busybox:latest\nLoaded image: withfile:1\n" {
		t.Fatalf("docker load: %s", r)
	}
	delete(ids, "me/box:1")
	checkIDs(t, d, ids)
	// docker save | docker load, and berth reading what docker wrote.
	r := d.cli("sh", "", "-c", "docker save withfile:1 | "+filepath.Join(binDir, "berth")+" load -q")
	if r.code != 0 || r.stdout != "Loaded image: withfile:1\n" {
		t.Fatalf("docker save | berth load: %s", r)
	}
	if r := d.docker("save", "nope:1"); r.code != 1 || !strings.Contains(r.stderr, "Error response from daemon: reference does not exist") {
		t.Fatalf("docker save of a missing image: %s", r)
	}
}

// TestSaveLoadDockerd: berth → dockerd → berth, when dockerd is installed:
// a real Docker reads berth's archive, and berth reads Docker's.
func TestSaveLoadDockerd(t *testing.T) {
	requireEnv(t)
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		t.Skip("dockerd not installed")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("docker CLI not installed")
	}
	d, ids := saveLoadFixture(t)
	ref := startDockerd(t, dockerd)
	archive := filepath.Join(d.root, "to-docker.tar")
	must(t, d.berth("save", "-o", archive, "busybox", "withfile:1"))
	dk := func(args ...string) result {
		return d.run("docker", "", []string{"DOCKER_HOST=unix://" + ref}, args...)
	}
	if r := dk("load", "-i", archive); r.code != 0 || !strings.Contains(r.stdout, "Loaded image: busybox:latest") || !strings.Contains(r.stdout, "Loaded image: withfile:1") {
		t.Fatalf("dockerd load: %s", r)
	}
	for _, ref := range []string{"busybox:latest", "withfile:1"} {
		if got := must(t, dk("image", "inspect", "-f", "{{.Id}}", ref)); got != ids[ref] {
			t.Fatalf("dockerd has %s as %s, berth %s", ref, got, ids[ref])
		}
	}
	if out := must(t, dk("run", "--rm", "--network", "none", "withfile:1", "cat", "/hi")); out != "hi" {
		t.Fatalf("dockerd runs the loaded image: %q", out)
	}
	back := filepath.Join(d.root, "from-docker.tar")
	must(t, dk("save", "-o", back, "busybox:latest", "withfile:1"))
	d.removeAll(t, "busybox", "me/box:1", "withfile:1")
	d.storeEmpty(t, "after rmi")
	r := d.berth("load", "-i", back)
	if r.code != 0 || !strings.Contains(r.stdout, "Loaded image: busybox:latest") || !strings.Contains(r.stdout, "Loaded image: withfile:1") {
		t.Fatalf("berth load of dockerd's archive: %s", r)
	}
	delete(ids, "me/box:1")
	checkIDs(t, d, ids)
	if out := must(t, d.berth("run", "--rm", "withfile:1", "cat", "/hi")); out != "hi" {
		t.Fatalf("run: %q", out)
	}
}

// startDockerd runs a private dockerd (own data root, exec root and socket,
// no bridge, no iptables) for the test and returns its socket path.
func startDockerd(t *testing.T, dockerd string) string {
	t.Helper()
	root, err := os.MkdirTemp("", "berth-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(root, "docker.sock")
	logf, err := os.Create(filepath.Join(root, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dockerd, "-H", "unix://"+sock, "--data-root", filepath.Join(root, "data"),
		"--exec-root", filepath.Join(root, "exec"), "--pidfile", filepath.Join(root, "dockerd.pid"),
		"--bridge", "none", "--iptables=false")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
		b, _ := os.ReadFile("/proc/self/mountinfo")
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], root) {
				_ = syscall.Unmount(f[4], syscall.MNT_DETACH)
			}
		}
		if !t.Failed() {
			os.RemoveAll(root)
		}
	})
	for i := 0; i < 300; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(root, "dockerd.log"))
	t.Fatalf("dockerd did not come up:\n%s", b)
	return ""
}
