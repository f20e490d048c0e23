package health

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

func TestRecord(t *testing.T) {
	ok := container.HealthcheckResult{ExitCode: 0}
	bad := container.HealthcheckResult{ExitCode: 1}
	for _, tc := range []struct {
		name          string
		results       []container.HealthcheckResult
		inStartPeriod bool
		want          container.HealthStatus
		streak        int
	}{
		{"healthy at once", []container.HealthcheckResult{ok}, false, container.Healthy, 0},
		{"two failures of three", []container.HealthcheckResult{bad, bad}, false, container.Starting, 2},
		{"three failures", []container.HealthcheckResult{bad, bad, bad}, false, container.Unhealthy, 3},
		{"success resets", []container.HealthcheckResult{bad, bad, ok, bad}, false, container.Healthy, 1},
		{"start period forgives", []container.HealthcheckResult{bad, bad, bad, bad}, true, container.Starting, 0},
		{"timeout counts", []container.HealthcheckResult{{ExitCode: -1}, {ExitCode: -1}, {ExitCode: -1}}, false, container.Unhealthy, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &container.Health{Status: container.Starting}
			for _, r := range tc.results {
				Record(h, r, 3, tc.inStartPeriod)
			}
			if h.Status != tc.want || h.FailingStreak != tc.streak {
				t.Fatalf("status %s streak %d, want %s %d", h.Status, h.FailingStreak, tc.want, tc.streak)
			}
		})
	}
	h := &container.Health{Status: container.Starting}
	for i := 0; i < 8; i++ {
		Record(h, container.HealthcheckResult{ExitCode: 0, Output: string(rune('a' + i))}, 3, false)
	}
	if len(h.Log) != MaxLog || h.Log[0].Output != "d" || h.Log[4].Output != "h" {
		t.Fatalf("log keeps the last %d: got %d entries starting %q", MaxLog, len(h.Log), h.Log[0].Output)
	}
}

func TestProbeFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  container.Config
		want []string
	}{
		{"none", container.Config{}, nil},
		{"disabled", container.Config{Healthcheck: &container.HealthConfig{Test: []string{"NONE"}}}, nil},
		{"cmd", container.Config{Healthcheck: &container.HealthConfig{Test: []string{"CMD", "true", "x"}}}, []string{"true", "x"}},
		{"shell", container.Config{Healthcheck: &container.HealthConfig{Test: []string{"CMD-SHELL", "exit 0"}}}, []string{"/bin/sh", "-c", "exit 0"}},
		{"custom shell", container.Config{Shell: []string{"/bin/ash", "-ec"}, Healthcheck: &container.HealthConfig{Test: []string{"CMD-SHELL", "x"}}}, []string{"/bin/ash", "-ec", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ProbeFor(&tc.cfg)
			if (p == nil) != (tc.want == nil) {
				t.Fatalf("probe %v, want %v", p, tc.want)
			}
			if p == nil {
				return
			}
			if len(p.Cmd) != len(tc.want) {
				t.Fatalf("cmd %q, want %q", p.Cmd, tc.want)
			}
			for i := range p.Cmd {
				if p.Cmd[i] != tc.want[i] {
					t.Fatalf("cmd %q, want %q", p.Cmd, tc.want)
				}
			}
			if p.Interval != DefaultInterval || p.Timeout != DefaultTimeout || p.Retries != DefaultRetries {
				t.Fatalf("defaults not applied: %+v", p)
			}
		})
	}
}

// fakeTarget answers probes from a script of exit codes (-2: hang until
// killed) and stops running when the script ends.
type fakeTarget struct {
	codes   []int
	h       container.Health
	started time.Time
}

func (f *fakeTarget) Started() time.Time { return f.started }
func (f *fakeTarget) Status() (container.ContainerState, container.HealthStatus) {
	if len(f.codes) == 0 {
		return container.StateExited, f.h.Status // the script is done: the container "stops"
	}
	return container.StateRunning, f.h.Status
}
func (f *fakeTarget) Exec(_ []string, out io.Writer, kill <-chan struct{}) (int, error) {
	code := f.codes[0]
	f.codes = f.codes[1:]
	if code == -2 {
		<-kill
		return 137, nil
	}
	fmt.Fprintf(out, "exit %d", code)
	return code, nil
}
func (f *fakeTarget) Store(r container.HealthcheckResult, retries int, inStart bool) (container.HealthStatus, container.HealthStatus, bool) {
	before := f.h.Status
	Record(&f.h, r, retries, inStart)
	return before, f.h.Status, true
}

func TestRun(t *testing.T) {
	f := &fakeTarget{codes: []int{0, 1, -2, 1, 0}, h: container.Health{Status: container.Starting}, started: time.Now()}
	var changes []container.HealthStatus
	p := &Probe{Cmd: []string{"x"}, Interval: time.Millisecond, Timeout: 20 * time.Millisecond, Retries: 3}
	Run(p, f, make(chan struct{}), func(s container.HealthStatus) { changes = append(changes, s) })
	if fmt.Sprint(changes) != "[healthy unhealthy healthy]" {
		t.Fatalf("changes %v", changes)
	}
	var outs []string
	for _, r := range f.h.Log {
		outs = append(outs, r.Output)
	}
	if len(outs) != 5 || outs[2] != "Health check exceeded timeout (20ms)" || outs[3] != "exit 1" {
		t.Fatalf("log %q", outs)
	}
}
