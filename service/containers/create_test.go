package containers

import (
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "term": syscall.SIGTERM, "9": syscall.SIGKILL, "KILL": syscall.SIGKILL, "SIGUSR1": syscall.SIGUSR1} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"NOPE", "0", "99", ""} {
		if _, err := ParseSignal(bad); err == nil {
			t.Errorf("ParseSignal(%q) accepted", bad)
		}
	}
}

func TestStatusString(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		st   State
		want string
	}{
		{State{Status: container.StateCreated}, "Created"},
		{State{Status: container.StateRunning, StartedAt: now.Add(-3 * time.Second)}, "Up 3 seconds"},
		{State{Status: container.StateExited, ExitCode: 137, FinishedAt: now.Add(-2 * time.Minute)}, "Exited (137) 2 minutes ago"},
		{State{Status: container.StatePaused, StartedAt: now.Add(-time.Hour)}, "Up About an hour (Paused)"},
	} {
		if got := statusString(tc.st); got != tc.want {
			t.Errorf("statusString(%+v) = %q, want %q", tc.st, got, tc.want)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, ok := range map[string]bool{"web": true, "/web": true, "a.b-c_d": true, "w": false, "-x": false, "bad name": false} {
		if validName.MatchString(name) != ok {
			t.Errorf("validName(%q) = %v", name, !ok)
		}
	}
}
