package runopts

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/moby/moby/api/types/network"
	"github.com/spf13/pflag"
)

func parseArgs(t *testing.T, args ...string) (*Configs, error) {
	t.Helper()
	o := &Options{}
	fl := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fl.SetInterspersed(false)
	o.AddFlags(fl)
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	return o.Parse(fl, fl.Args())
}

func TestParseBasics(t *testing.T) {
	cfg, err := parseArgs(t, "-e", "A=1", "-u", "1000:1000", "-w", "/tmp", "-h", "box", "-l", "k=v", "-l", "bare", "busybox", "echo", "hi")
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if c.Image != "busybox" || !reflect.DeepEqual(c.Cmd, []string{"echo", "hi"}) {
		t.Errorf("image/cmd: %q %q", c.Image, c.Cmd)
	}
	if c.User != "1000:1000" || c.WorkingDir != "/tmp" || c.Hostname != "box" {
		t.Errorf("user/workdir/hostname: %q %q %q", c.User, c.WorkingDir, c.Hostname)
	}
	if !reflect.DeepEqual(c.Labels, map[string]string{"k": "v", "bare": ""}) {
		t.Errorf("labels: %v", c.Labels)
	}
	if !c.AttachStdout || !c.AttachStderr || c.AttachStdin || c.OpenStdin {
		t.Errorf("attach flags: %+v", c)
	}
	if cfg.HostConfig.NetworkMode != "default" || cfg.Networking.EndpointsConfig["default"] == nil {
		t.Errorf("network: %q %v", cfg.HostConfig.NetworkMode, cfg.Networking.EndpointsConfig)
	}
	if cfg.HostConfig.Init != nil || cfg.HostConfig.PidsLimit != nil || c.StopTimeout != nil {
		t.Errorf("unset pointers should stay nil")
	}
}

func TestParseEntrypoint(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"img"}, nil},
		{[]string{"--entrypoint", "/bin/sh", "img"}, []string{"/bin/sh"}},
		{[]string{"--entrypoint=", "img"}, []string{""}},
	}
	for _, tt := range tests {
		cfg, err := parseArgs(t, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cfg.Config.Entrypoint, tt.want) {
			t.Errorf("%v: entrypoint %q, want %q", tt.args, cfg.Config.Entrypoint, tt.want)
		}
	}
}

func TestParseResources(t *testing.T) {
	tests := []struct {
		args                    []string
		memory, swap, nano, cpu int64
		wantErr                 bool
	}{
		{args: []string{"-m", "512m"}, memory: 512 << 20},
		{args: []string{"-m", "1g", "--memory-swap", "-1"}, memory: 1 << 30, swap: -1},
		{args: []string{"--cpus", "1.5"}, nano: 1500000000},
		{args: []string{"--cpus", "0.000000001"}, nano: 1},
		{args: []string{"--cpus", "0.0000000001"}, wantErr: true},
		{args: []string{"-c", "512"}, cpu: 512},
		{args: []string{"-m", "1g", "--memory-swap", "512m"}, wantErr: true},
	}
	for _, tt := range tests {
		cfg, err := parseArgs(t, append(tt.args, "img")...)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%v: expected error", tt.args)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		r := cfg.HostConfig.Resources
		if r.Memory != tt.memory || r.MemorySwap != tt.swap || r.NanoCPUs != tt.nano || r.CPUShares != tt.cpu {
			t.Errorf("%v: got mem %d swap %d nano %d shares %d", tt.args, r.Memory, r.MemorySwap, r.NanoCPUs, r.CPUShares)
		}
	}
}

func TestParseUlimitsAndPointers(t *testing.T) {
	cfg, err := parseArgs(t, "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=10", "--pids-limit", "-1", "--init", "--stop-timeout", "0", "img")
	if err != nil {
		t.Fatal(err)
	}
	u := cfg.HostConfig.Ulimits
	if len(u) != 2 || u[0].Name != "nofile" || u[0].Soft != 1024 || u[0].Hard != 2048 || u[1].Soft != 10 || u[1].Hard != 10 {
		t.Errorf("ulimits: %+v", u)
	}
	if cfg.HostConfig.PidsLimit == nil || *cfg.HostConfig.PidsLimit != -1 {
		t.Errorf("pids-limit not set")
	}
	if cfg.HostConfig.Init == nil || !*cfg.HostConfig.Init {
		t.Errorf("init not set")
	}
	if cfg.Config.StopTimeout == nil || *cfg.Config.StopTimeout != 0 {
		t.Errorf("stop-timeout 0 must be sent")
	}
	if _, err := parseArgs(t, "--ulimit", "bogus", "img"); err == nil {
		t.Errorf("bad ulimit accepted")
	}
}

func TestParseEnvFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "env")
	content := "\xEF\xBB\xBF# comment\n\nA=1\n  B=two words \nFROM_HOST\nMISSING_VAR\nEMPTY=\n"
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FROM_HOST", "h")
	t.Setenv("C", "from-env")
	cfg, err := parseArgs(t, "--env-file", f, "-e", "C", "-e", "A=override", "img")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", "B=two words ", "FROM_HOST=h", "EMPTY=", "C=from-env", "A=override"}
	if !reflect.DeepEqual(cfg.Config.Env, want) {
		t.Errorf("env = %q, want %q", cfg.Config.Env, want)
	}
	bad := filepath.Join(dir, "bad")
	_ = os.WriteFile(bad, []byte("A B=1\n"), 0o644)
	if _, err := parseArgs(t, "--env-file", bad, "img"); err == nil {
		t.Errorf("whitespace in name accepted")
	}
}

func TestParseInteractive(t *testing.T) {
	cfg, err := parseArgs(t, "-i", "-t", "img")
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if !c.AttachStdin || !c.OpenStdin || !c.StdinOnce || !c.Tty {
		t.Errorf("interactive: %+v", c)
	}
}

func TestParsePublishAndVolumes(t *testing.T) {
	cfg, err := parseArgs(t, "-p", "8080:80", "-p", "127.0.0.1::53/udp", "-v", "/host:/ctr:ro", "-v", "/anon", "--tmpfs", "/run:size=1m", "--mount", "type=bind,src=/a,dst=/b,readonly", "img")
	if err != nil {
		t.Fatal(err)
	}
	p80 := network.MustParsePort("80/tcp")
	p53 := network.MustParsePort("53/udp")
	if _, ok := cfg.Config.ExposedPorts[p80]; !ok {
		t.Errorf("80/tcp not exposed")
	}
	if b := cfg.HostConfig.PortBindings[p80]; len(b) != 1 || b[0].HostPort != "8080" {
		t.Errorf("80 binding: %+v", b)
	}
	if b := cfg.HostConfig.PortBindings[p53]; len(b) != 1 || b[0].HostIP.String() != "127.0.0.1" || b[0].HostPort != "" {
		t.Errorf("53 binding: %+v", b)
	}
	if !reflect.DeepEqual(cfg.HostConfig.Binds, []string{"/host:/ctr:ro"}) {
		t.Errorf("binds: %q", cfg.HostConfig.Binds)
	}
	if _, ok := cfg.Config.Volumes["/anon"]; !ok {
		t.Errorf("anonymous volume missing: %v", cfg.Config.Volumes)
	}
	if cfg.HostConfig.Tmpfs["/run"] != "size=1m" {
		t.Errorf("tmpfs: %v", cfg.HostConfig.Tmpfs)
	}
	m := cfg.HostConfig.Mounts
	if len(m) != 1 || m[0].Type != "bind" || m[0].Source != "/a" || m[0].Target != "/b" || !m[0].ReadOnly {
		t.Errorf("mounts: %+v", m)
	}
}

func TestParseExpose(t *testing.T) {
	cfg, err := parseArgs(t, "--expose", "9000/udp", "--expose", "7000-7002", "-p", "80", "img")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"9000/udp", "7000/tcp", "7001/tcp", "7002/tcp", "80/tcp"} {
		if _, ok := cfg.Config.ExposedPorts[network.MustParsePort(p)]; !ok {
			t.Errorf("%s not exposed: %v", p, cfg.Config.ExposedPorts)
		}
	}
	if len(cfg.Config.ExposedPorts) != 5 {
		t.Errorf("exposed: %v", cfg.Config.ExposedPorts)
	}
	if len(cfg.HostConfig.PortBindings) != 1 {
		t.Errorf("--expose published a port: %v", cfg.HostConfig.PortBindings)
	}
	if _, err := parseArgs(t, "--expose", "x", "img"); err == nil {
		t.Error("--expose x accepted")
	}
}

func TestParsePublishRanges(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want map[string]string // container port → host port
		err  string
	}{
		{"8000-8001:80-81", map[string]string{"80/tcp": "8000", "81/tcp": "8001"}, ""},
		{"8000-8010:80", map[string]string{"80/tcp": "8000-8010"}, ""}, // the daemon picks a free one
		{"80-81", map[string]string{"80/tcp": "", "81/tcp": ""}, ""},
		{"8080:80-81", nil, "invalid ranges specified for container and host Ports: 80-81 and 8080"},
		{"8000-8002:80-81", nil, "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"},
	} {
		cfg, err := parseArgs(t, "-p", tc.spec, "img")
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("-p %s: %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("-p %s: %v", tc.spec, err)
			continue
		}
		got := map[string]string{}
		for p, b := range cfg.HostConfig.PortBindings {
			got[p.String()] = b[0].HostPort
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("-p %s: %v, want %v", tc.spec, got, tc.want)
		}
	}
}
