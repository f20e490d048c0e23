package restartmanager

import (
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

func TestDecide(t *testing.T) {
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
			d := Decide(tc.p, Exit{Code: tc.code, StoppedByUser: tc.stopped, Count: tc.count, Backoff: tc.prev, Ran: tc.ran})
			if d.Restart != tc.restart || d.Delay != tc.delay || d.Backoff != tc.next {
				t.Fatalf("got %+v, want restart=%v delay=%v backoff=%v", d, tc.restart, tc.delay, tc.next)
			}
		})
	}
}

func TestAtBoot(t *testing.T) {
	for _, tc := range []struct {
		p       container.RestartPolicyMode
		max     int
		code    int
		stopped bool
		count   int
		want    bool
	}{
		{container.RestartPolicyAlways, 0, 0, true, 0, true},
		{container.RestartPolicyUnlessStopped, 0, 0, true, 0, false},
		{container.RestartPolicyUnlessStopped, 0, 0, false, 0, true},
		{container.RestartPolicyOnFailure, 0, 0, false, 0, false},
		{container.RestartPolicyOnFailure, 2, 1, false, 1, true},
		{container.RestartPolicyOnFailure, 2, 1, false, 2, false},
		{container.RestartPolicyDisabled, 0, 1, false, 0, false},
	} {
		if got := AtBoot(container.RestartPolicy{Name: tc.p, MaximumRetryCount: tc.max}, tc.code, tc.stopped, tc.count); got != tc.want {
			t.Errorf("%s:%d exit %d stopped %v count %d: got %v, want %v", tc.p, tc.max, tc.code, tc.stopped, tc.count, got, tc.want)
		}
	}
}
