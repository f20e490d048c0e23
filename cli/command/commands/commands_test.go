package commands

import (
	"io"
	"strings"
	"testing"

	"github.com/berth-project/berth/cli"
)

// TestAllNames: each constructor builds the command it is listed under,
// so a command line naming it gets that command alone.
func TestAllNames(t *testing.T) {
	c := cli.NewCli(io.NopCloser(strings.NewReader("")), io.Discard, io.Discard)
	all := All()
	if len(all) < 40 {
		t.Fatalf("only %d top-level commands", len(all))
	}
	for name, build := range all {
		if got := build(c).Name(); got != name {
			t.Errorf("All()[%q] builds %q", name, got)
		}
	}
}
