package procs

import "testing"

func TestParsePS(t *testing.T) {
	out := "UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 10:00 ? 00:00:00 sleep 1000\nroot 11 1 0 10:00 ? 00:00:00 other\n"
	resp, err := parsePS(out, map[int]bool{10: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Processes) != 1 || resp.Processes[0][7] != "sleep 1000" {
		t.Fatalf("processes = %q", resp.Processes)
	}
	if _, err := parsePS("UID CMD\n", nil); err == nil {
		t.Fatal("missing PID column accepted")
	}
}
