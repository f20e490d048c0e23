package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImages(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	id := must(t, d.berth("images", "-q", "busybox"))
	if len(id) != 12 {
		t.Fatalf("images -q: %q", id)
	}
	// Reference rules: short name, full name, ID prefix and sha256: all resolve to one image.
	full := must(t, d.berth("image", "inspect", "-f", "{{.Id}}", "busybox"))
	for _, ref := range []string{"busybox:latest", "docker.io/library/busybox:latest", id, full, full[:15]} {
		if got := must(t, d.berth("image", "inspect", "-f", "{{.Id}}", ref)); got != full {
			t.Errorf("%s resolved to %s, want %s", ref, got, full)
		}
	}
	must(t, d.berth("tag", "busybox", "me/box:1"))
	out := must(t, d.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"))
	if !strings.Contains(out, "me/box:1 "+id) || !strings.Contains(out, "busybox:latest "+id) {
		t.Fatalf("docker images: %q", out)
	}
	// Layers are shared: a second tag adds no snapshot.
	snaps, _ := os.ReadDir(filepath.Join(d.dataRoot, "overlay"))
	if n := len(snaps); n > 2 { // one layer + the "empty" dir
		t.Errorf("overlay snapshots: %d", n)
	}
	// Import with changes and a message.
	tarball := filepath.Join(os.Getenv("BERTH_IMAGES"), "busybox.tar")
	if os.Getenv("BERTH_IMAGES") == "" {
		tarball = "/var/cache/berth/images/busybox.tar"
	}
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := d.cli(binDir+"/berth", "", "import", "-c", "ENV GREETING=hello", "-c", `CMD ["sh", "-c", "echo $GREETING"]`, "-m", "my import", tarball, "greeter")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "sha256:") {
		t.Fatalf("import: %s", r)
	}
	if out := must(t, d.berth("run", "--rm", "greeter")); out != "hello" {
		t.Fatalf("imported CMD/ENV: %q", out)
	}
	if out := must(t, d.berth("history", "--format", "{{.Comment}}", "greeter")); out != "my import" {
		t.Fatalf("history comment: %q", out)
	}
	// rmi refuses an image a container uses, by name and by ID.
	must(t, d.berth("create", "--name", "user", "greeter"))
	if r := d.berth("rmi", "greeter"); r.code == 0 || !strings.Contains(r.stderr, "conflict: unable to remove repository reference \"greeter\" (must force) - container") {
		t.Fatalf("rmi of a used image: %s", r)
	}
	must(t, d.berth("rm", "user"))
	if out := d.berth("rmi", "greeter"); out.code != 0 || !strings.Contains(out.stdout, "Untagged: greeter:latest") || !strings.Contains(out.stdout, "Deleted: sha256:") {
		t.Fatalf("rmi: %s", out)
	}
	if r := d.berth("image", "inspect", "greeter"); r.code == 0 {
		t.Fatal("greeter still exists")
	}
	if r := d.berth("rmi", id); r.code == 0 || !strings.Contains(r.stderr, "image is referenced in multiple repositories") {
		t.Fatalf("rmi by ID with two tags: %s", r)
	}
	must(t, d.berth("rmi", "me/box:1"))
	must(t, d.berth("run", "--rm", "busybox", "true"))
	// prune -a removes unused images.
	must(t, d.berth("image", "prune", "-a", "-f"))
	if out := must(t, d.berth("images", "-q")); out != "" {
		t.Fatalf("prune -a left %q", out)
	}
	blobs, _ := os.ReadDir(filepath.Join(d.dataRoot, "content", "blobs", "sha256"))
	if len(blobs) != 0 {
		t.Fatalf("blobs left after prune: %d", len(blobs))
	}
}
