package containers

import (
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

func TestDecideRestart(t *testing.T) {
	always := container.RestartPolicy{Name: container.RestartPolicyAlways}
	unless := container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}
	onFail := func(n int) container.RestartPolicy {
		return container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: n}
	}
	ms := time.Millisecond
	for _, tc := range []struct {
		name        string
		p           container.RestartPolicy
		code        int
		stopped     bool
		count       int
		prev, ran   time.Duration
		restart     bool
		delay, next time.Duration
	}{
		{"no policy", container.RestartPolicy{}, 1, false, 0, 0, 0, false, 0, 0},
		{"no", container.RestartPolicy{Name: container.RestartPolicyDisabled}, 1, false, 0, 0, 0, false, 0, 0},
		{"always first", always, 0, false, 0, 0, time.Second, true, 100 * ms, 100 * ms},
		{"always doubles", always, 0, false, 1, 100 * ms, time.Second, true, 200 * ms, 200 * ms},
		{"always doubles again", always, 0, false, 2, 200 * ms, time.Second, true, 400 * ms, 400 * ms},
		{"long run resets", always, 0, false, 5, 3200 * ms, 10 * time.Second, true, 100 * ms, 100 * ms},
		{"capped at a minute", always, 0, false, 20, 40 * time.Second, time.Second, true, time.Minute, time.Minute},
		{"stays at a minute", always, 0, false, 21, time.Minute, time.Second, true, time.Minute, time.Minute},
		{"stop wins over always", always, 0, true, 0, 0, time.Second, false, 0, 100 * ms},
		{"unless-stopped", unless, 3, false, 0, 0, time.Second, true, 100 * ms, 100 * ms},
		{"unless-stopped stopped", unless, 3, true, 0, 0, time.Second, false, 0, 100 * ms},
		{"on-failure success", onFail(0), 0, false, 0, 0, time.Second, false, 0, 100 * ms},
		{"on-failure failure", onFail(0), 2, false, 7, 0, time.Second, true, 100 * ms, 100 * ms},
		{"on-failure:3 third", onFail(3), 1, false, 2, 0, time.Second, true, 100 * ms, 100 * ms},
		{"on-failure:3 exhausted", onFail(3), 1, false, 3, 0, time.Second, false, 0, 100 * ms},
		{"on-failure killed by user", onFail(0), 137, true, 0, 0, time.Second, false, 0, 100 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decideRestart(tc.p, tc.code, tc.stopped, tc.count, tc.prev, tc.ran)
			if d.restart != tc.restart || d.delay != tc.delay || d.backoff != tc.next {
				t.Fatalf("got %+v, want restart=%v delay=%v backoff=%v", d, tc.restart, tc.delay, tc.next)
			}
		})
	}
}

func TestRestartAtBoot(t *testing.T) {
	for _, tc := range []struct {
		p     container.RestartPolicyMode
		max   int
		st    State
		count int
		want  bool
	}{
		{container.RestartPolicyAlways, 0, State{StoppedByUser: true}, 0, true},
		{container.RestartPolicyUnlessStopped, 0, State{StoppedByUser: true}, 0, false},
		{container.RestartPolicyUnlessStopped, 0, State{ExitCode: 0}, 0, true},
		{container.RestartPolicyOnFailure, 0, State{ExitCode: 0}, 0, false},
		{container.RestartPolicyOnFailure, 2, State{ExitCode: 1}, 1, true},
		{container.RestartPolicyOnFailure, 2, State{ExitCode: 1}, 2, false},
		{container.RestartPolicyDisabled, 0, State{ExitCode: 1}, 0, false},
	} {
		if got := restartAtBoot(container.RestartPolicy{Name: tc.p, MaximumRetryCount: tc.max}, tc.st, tc.count); got != tc.want {
			t.Errorf("%s:%d %+v count %d: got %v, want %v", tc.p, tc.max, tc.st, tc.count, got, tc.want)
		}
	}
}

func TestHealthStep(t *testing.T) {
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
				healthStep(h, r, 3, tc.inStartPeriod)
			}
			if h.Status != tc.want || h.FailingStreak != tc.streak {
				t.Fatalf("status %s streak %d, want %s %d", h.Status, h.FailingStreak, tc.want, tc.streak)
			}
		})
	}
	h := &container.Health{Status: container.Starting}
	for i := 0; i < 8; i++ {
		healthStep(h, container.HealthcheckResult{ExitCode: 0, Output: string(rune('a' + i))}, 3, false)
	}
	if len(h.Log) != maxHealthLog || h.Log[0].Output != "d" || h.Log[4].Output != "h" {
		t.Fatalf("log keeps the last %d: got %d entries starting %q", maxHealthLog, len(h.Log), h.Log[0].Output)
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
			p := probeFor(&tc.cfg)
			if (p == nil) != (tc.want == nil) {
				t.Fatalf("probe %v, want %v", p, tc.want)
			}
			if p == nil {
				return
			}
			if len(p.cmd) != len(tc.want) {
				t.Fatalf("cmd %q, want %q", p.cmd, tc.want)
			}
			for i := range p.cmd {
				if p.cmd[i] != tc.want[i] {
					t.Fatalf("cmd %q, want %q", p.cmd, tc.want)
				}
			}
			if p.interval != defaultProbeInterval || p.timeout != defaultProbeTimeout || p.retries != defaultProbeRetries {
				t.Fatalf("defaults not applied: %+v", p)
			}
		})
	}
}

func TestParseLogOptions(t *testing.T) {
	for _, tc := range []struct {
		lc      container.LogConfig
		want    logOptions
		wantErr string
	}{
		{container.LogConfig{Type: "json-file"}, logOptions{maxFile: 1}, ""},
		{container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1k", "max-file": "3"}}, logOptions{maxSize: 1024, maxFile: 3}, ""},
		{container.LogConfig{Type: "local"}, logOptions{maxSize: 20 << 20, maxFile: 5, compress: true}, ""},
		{container.LogConfig{Type: "local", Config: map[string]string{"compress": "false", "max-size": "10m"}}, logOptions{maxSize: 10 << 20, maxFile: 5}, ""},
		{container.LogConfig{Type: "none"}, logOptions{}, ""},
		{container.LogConfig{Type: "syslog"}, logOptions{}, "no log driver named 'syslog'"},
		{container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "0"}}, logOptions{}, "max-size must be a positive number"},
		{container.LogConfig{Type: "json-file", Config: map[string]string{"max-file": "0"}}, logOptions{}, "max-file cannot be less than 1"},
		{container.LogConfig{Type: "json-file", Config: map[string]string{"bogus": "1"}}, logOptions{}, "unknown log opt 'bogus' for json-file log driver"},
		{container.LogConfig{Type: "json-file", Config: map[string]string{"compress": "true"}}, logOptions{}, "compress cannot be true"},
	} {
		got, err := parseLogOptions(tc.lc)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: error %v, want %q", tc.lc, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%+v: got %+v, %v; want %+v", tc.lc, got, err, tc.want)
		}
	}
}

func TestMergeUpdate(t *testing.T) {
	pids := int64(50)
	for _, tc := range []struct {
		name    string
		cur     container.HostConfig
		u       container.UpdateConfig
		check   func(hc container.HostConfig) bool
		wantErr string
	}{
		{"memory", container.HostConfig{}, container.UpdateConfig{Resources: container.Resources{Memory: 64 << 20}},
			func(hc container.HostConfig) bool { return hc.Memory == 64<<20 }, ""},
		{"memory above swap", container.HostConfig{Resources: container.Resources{Memory: 32 << 20, MemorySwap: 64 << 20}},
			container.UpdateConfig{Resources: container.Resources{Memory: 128 << 20}}, nil, "update the memoryswap at the same time"},
		{"memory and swap", container.HostConfig{Resources: container.Resources{Memory: 32 << 20, MemorySwap: 64 << 20}},
			container.UpdateConfig{Resources: container.Resources{Memory: 128 << 20, MemorySwap: 256 << 20}},
			func(hc container.HostConfig) bool { return hc.Memory == 128<<20 && hc.MemorySwap == 256<<20 }, ""},
		{"pids and restart", container.HostConfig{}, container.UpdateConfig{Resources: container.Resources{PidsLimit: &pids}, RestartPolicy: container.RestartPolicy{Name: "always"}},
			func(hc container.HostConfig) bool { return *hc.PidsLimit == 50 && hc.RestartPolicy.Name == "always" }, ""},
		{"untouched fields stay", container.HostConfig{Resources: container.Resources{CPUShares: 512}}, container.UpdateConfig{Resources: container.Resources{NanoCPUs: 1e9}},
			func(hc container.HostConfig) bool { return hc.CPUShares == 512 && hc.NanoCPUs == 1e9 }, ""},
		{"nano vs quota", container.HostConfig{Resources: container.Resources{CPUQuota: 50000}}, container.UpdateConfig{Resources: container.Resources{NanoCPUs: 1e9}},
			nil, "Nano CPUs cannot be updated as CPU Quota has already been set"},
		{"bad policy", container.HostConfig{}, container.UpdateConfig{RestartPolicy: container.RestartPolicy{Name: "sometimes"}}, nil, "invalid restart policy"},
		{"autoremove", container.HostConfig{AutoRemove: true}, container.UpdateConfig{RestartPolicy: container.RestartPolicy{Name: "always"}}, nil, "AutoRemove is enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc := tc.cur
			err := mergeUpdate(&hc, tc.u)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(hc) {
				t.Fatalf("got %+v, %v", hc.Resources, err)
			}
		})
	}
}
