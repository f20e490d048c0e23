package trace

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMark runs this test binary again with BERTH_TRACE set (the file is
// opened once per process) and reads back what its marks wrote.
func TestMark(t *testing.T) {
	if os.Getenv("TRACE_CHILD") != "" {
		Mark("first step")
		Mark("second")
		return
	}
	path := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(os.Args[0], "-test.run=^TestMark$")
	cmd.Env = append(os.Environ(), "TRACE_CHILD=1", Env+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), b)
	}
	var prevWall int64
	for i, want := range []string{"first step", "second"} {
		f := strings.SplitN(lines[i], " ", 5)
		wall, err1 := strconv.ParseInt(f[0], 10, 64)
		cpu, err2 := strconv.ParseInt(f[1], 10, 64)
		if len(f) != 5 || err1 != nil || err2 != nil || cpu <= 0 || wall < prevWall || f[2] != strconv.Itoa(cmd.Process.Pid) || f[4] != want {
			t.Fatalf("line %d: %q", i, lines[i])
		}
		prevWall = wall
	}
	if Enabled() { // this process has no BERTH_TRACE
		t.Fatal("enabled without BERTH_TRACE")
	}
}
