package runconfig

import (
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestParseLogOptions(t *testing.T) {
	for _, tc := range []struct {
		lc      container.LogConfig
		want    LogOptions
		wantErr string
	}{
		{container.LogConfig{Type: "json-file"}, LogOptions{MaxFile: 1}, ""},
		{container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1k", "max-file": "3"}}, LogOptions{MaxSize: 1024, MaxFile: 3}, ""},
		{container.LogConfig{Type: "local"}, LogOptions{MaxSize: 20 << 20, MaxFile: 5, Compress: true}, ""},
		{container.LogConfig{Type: "local", Config: map[string]string{"compress": "false", "max-size": "10m"}}, LogOptions{MaxSize: 10 << 20, MaxFile: 5}, ""},
		{container.LogConfig{Type: "none"}, LogOptions{}, ""},
		{container.LogConfig{Type: "syslog"}, LogOptions{}, "no log driver named 'syslog'"},
		{container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "0"}}, LogOptions{}, "max-size must be a positive number"},
		{container.LogConfig{Type: "json-file", Config: map[string]string{"max-file": "0"}}, LogOptions{}, "max-file cannot be less than 1"},
		{container.LogConfig{Type: "json-file", Config: map[string]string{"bogus": "1"}}, LogOptions{}, "unknown log opt 'bogus' for json-file log driver"},
		{container.LogConfig{Type: "json-file", Config: map[string]string{"compress": "true"}}, LogOptions{}, "compress cannot be true"},
	} {
		got, err := ParseLogOptions(tc.lc)
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
			err := MergeUpdate(&hc, tc.u)
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
