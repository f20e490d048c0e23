package integration

import (
	"encoding/json"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestDockerCLI drives the everyday commands through the real docker CLI.
func TestDockerCLI(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	if out := must(t, d.docker("version", "--format", "{{.Server.APIVersion}}")); out != "1.50" {
		t.Fatalf("docker version: %q", out)
	}
	if out := must(t, d.docker("info", "--format", "{{.Driver}} {{.Images}}")); out != "overlay2 1" {
		t.Fatalf("docker info: %q", out)
	}
	// berthd always restores its containers: live restore, as docker info says it
	if out := must(t, d.docker("info", "--format", "{{.LiveRestoreEnabled}} {{.RegistryConfig.InsecureRegistryCIDRs}}")); out != "true [127.0.0.0/8]" {
		t.Fatalf("docker info: %q", out)
	}
	for _, cli := range []func(...string) result{d.docker, d.berth} {
		if out := cli("info"); out.code != 0 || !strings.Contains(out.stdout, " Insecure Registries:\n  127.0.0.0/8\n Live Restore Enabled: true\n") {
			t.Fatalf("info: %s", out)
		}
	}
	id := must(t, d.docker("run", "-d", "--name", "web", "-l", "app=x", "busybox", "sh", "-c", "echo ready; sleep 1000"))
	var ps map[string]any
	if err := json.Unmarshal([]byte(must(t, d.docker("ps", "--format", "json"))), &ps); err != nil {
		t.Fatal(err)
	}
	if ps["Names"] != "web" || ps["ID"] != id[:12] || ps["Image"] != "busybox" || !strings.HasPrefix(ps["Status"].(string), "Up") {
		t.Fatalf("docker ps json: %v", ps)
	}
	if out := must(t, d.docker("ps", "-q", "--filter", "label=app=x")); out != id[:12] {
		t.Fatalf("label filter: %q", out)
	}
	if out := must(t, d.docker("ps", "-q", "--filter", "label=app=y")); out != "" {
		t.Fatalf("label filter mismatch: %q", out)
	}
	waitFor(t, func() bool { return strings.Contains(d.docker("logs", "web").stdout, "ready") })
	if out := must(t, d.docker("inspect", "--format", "{{.Name}} {{.Config.Labels.app}} {{.HostConfig.LogConfig.Type}} {{.State.Running}}", "web")); out != "/web x json-file true" {
		t.Fatalf("docker inspect: %q", out)
	}
	if out := must(t, d.docker("top", "web")); !strings.Contains(out, "sleep 1000") {
		t.Fatalf("docker top: %q", out)
	}
	must(t, d.docker("restart", "-t", "0", "web"))
	if out := must(t, d.docker("inspect", "-f", "{{.State.Running}}", "web")); out != "true" {
		t.Fatalf("after restart: %q", out)
	}
	if r := d.docker("rmi", "busybox"); r.code == 0 || !strings.Contains(r.stderr, "must force") {
		t.Fatalf("docker rmi of a used image: %s", r)
	}
	must(t, d.docker("rm", "-f", "web"))
	if r := d.docker("rm", "web"); r.code == 0 || !strings.Contains(r.stderr, "No such container: web") {
		t.Fatalf("docker rm of a missing container: %s", r)
	}
}

// TestSocketPermissions: the API socket is 0660 root:berth, never world-writable.
func TestSocketPermissions(t *testing.T) {
	d := startDaemon(t)
	fi, err := os.Stat(d.sock)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o660 {
		t.Fatalf("socket mode %o", perm)
	}
	g, err := user.LookupGroup("berth")
	if err != nil {
		t.Fatal(err)
	}
	if gid := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Gid)); gid != g.Gid {
		t.Fatalf("socket group %s, want berth (%s)", gid, g.Gid)
	}
}
