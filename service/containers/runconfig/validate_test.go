package runconfig

import (
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

func TestValidate(t *testing.T) {
	ok := func() *container.HostConfig {
		hc := &container.HostConfig{}
		SetDefaults(hc)
		return hc
	}
	for _, tc := range []struct {
		name string
		cfg  container.Config
		hc   func(*container.HostConfig)
		want string
	}{
		{name: "defaults", hc: func(*container.HostConfig) {}},
		{name: "unknown log driver", hc: func(hc *container.HostConfig) { hc.LogConfig.Type = "syslog2" }, want: "no log driver named 'syslog2'"},
		{name: "bad IPC mode", hc: func(hc *container.HostConfig) { hc.IpcMode = "bogus" }, want: "invalid IPC mode: bogus"},
		{name: "bad PID mode", hc: func(hc *container.HostConfig) { hc.PidMode = "bogus" }, want: "invalid PID mode: bogus"},
		{name: "--rm with a restart policy", hc: func(hc *container.HostConfig) {
			hc.AutoRemove, hc.RestartPolicy = true, container.RestartPolicy{Name: container.RestartPolicyAlways}
		}, want: "can't create 'AutoRemove' container with restart policy"},
		{name: "health interval below 1ms", cfg: container.Config{Healthcheck: &container.HealthConfig{Interval: time.Microsecond}},
			hc: func(*container.HostConfig) {}, want: "Interval in Healthcheck cannot be less than 1ms"},
		{name: "negative retries", cfg: container.Config{Healthcheck: &container.HealthConfig{Retries: -1}},
			hc: func(*container.HostConfig) {}, want: "Retries in Healthcheck cannot be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc := ok()
			tc.hc(hc)
			err := Validate(&tc.cfg, hc)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errdefs.IsInvalidArgument(err) {
				t.Fatalf("got %v, want an invalid-argument error with %q", err, tc.want)
			}
		})
	}
}

func TestSetDefaults(t *testing.T) {
	hc := &container.HostConfig{Resources: container.Resources{Memory: 64 << 20}}
	SetDefaults(hc)
	if hc.NetworkMode != "bridge" || hc.LogConfig.Type != "json-file" || hc.ShmSize != 64<<20 || hc.IpcMode != container.IPCModePrivate ||
		hc.MemorySwap != 128<<20 || len(hc.MaskedPaths) == 0 || len(hc.ReadonlyPaths) == 0 {
		t.Fatalf("defaults: %+v", hc)
	}
	priv := &container.HostConfig{Privileged: true}
	SetDefaults(priv)
	if priv.MaskedPaths != nil || priv.ReadonlyPaths != nil {
		t.Fatalf("privileged containers have no masked paths: %v %v", priv.MaskedPaths, priv.ReadonlyPaths)
	}
}
