package integration

import (
	"strings"
	"testing"
)

// TestSystemPrune: system prune removes what docker's removes, in its words,
// and leaves what is in use.
func TestSystemPrune(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	keep := must(t, d.berth("run", "-d", "--name", "keep", "--network", "none", "busybox", "sleep", "1000"))
	stopped := must(t, d.berth("create", "--network", "none", "-v", "/data", "busybox", "true"))
	anon := must(t, d.berth("inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", stopped))
	must(t, d.berth("network", "create", "unused"))
	must(t, d.berth("volume", "create", "named"))

	r := d.cli(binDir+"/berth", "n\n", "system", "prune", "--volumes")
	if r.code != 0 || !strings.Contains(r.stdout, "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue? [y/N] ") {
		t.Fatalf("prompt: %s", r)
	}
	if d.berth("inspect", stopped).code != 0 {
		t.Fatal("a refused prune removed the stopped container")
	}
	r = d.berth("system", "prune", "-f", "--volumes")
	if r.code != 0 {
		t.Fatalf("prune: %s", r)
	}
	for _, want := range []string{"Deleted Containers:\n" + stopped + "\n\n", "Deleted Networks:\nunused\n\n", "Deleted Volumes:\n" + anon + "\n\n", "Total reclaimed space: "} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("prune output lacks %q:\n%s", want, r.stdout)
		}
	}
	if d.berth("inspect", stopped).code == 0 || d.berth("network", "inspect", "unused").code == 0 || d.berth("volume", "inspect", anon).code == 0 {
		t.Fatal("prune left what it reported")
	}
	// in use, or named: kept
	must(t, d.berth("inspect", keep))
	must(t, d.berth("volume", "inspect", "named"))
	must(t, d.berth("image", "inspect", "busybox"))
	must(t, d.berth("network", "inspect", "bridge"))
}
