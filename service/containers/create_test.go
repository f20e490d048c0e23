package containers

import (
	"reflect"
	"syscall"
	"testing"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestMergeImageConfig(t *testing.T) {
	img := &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{
		Entrypoint: []string{"/entry"}, Cmd: []string{"default"}, Env: []string{"PATH=/bin", "A=img"},
		WorkingDir: "/w", User: "app", Labels: map[string]string{"l": "img", "k": "img"}, StopSignal: "SIGQUIT",
	}}
	for _, tc := range []struct {
		name          string
		in            container.Config
		entry, cmd    []string
		env           []string
		user, workdir string
	}{
		{"inherit all", container.Config{}, []string{"/entry"}, []string{"default"}, []string{"PATH=/bin", "A=img"}, "app", "/w"},
		{"cmd override keeps entrypoint", container.Config{Cmd: []string{"x"}}, []string{"/entry"}, []string{"x"}, nil, "", ""},
		{"entrypoint override drops image cmd", container.Config{Entrypoint: []string{"/other"}}, []string{"/other"}, nil, nil, "", ""},
		{"empty entrypoint drops both", container.Config{Entrypoint: []string{}}, []string{}, []string{"default"}, nil, "", ""},
		{"env overrides by key", container.Config{Env: []string{"A=ctr", "B=2"}}, nil, nil, []string{"PATH=/bin", "A=ctr", "B=2"}, "", ""},
		{"user and workdir win", container.Config{User: "root", WorkingDir: "/x"}, nil, nil, nil, "root", "/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.in
			mergeImageConfig(&c, img)
			if tc.entry != nil && !reflect.DeepEqual([]string(c.Entrypoint), tc.entry) {
				t.Errorf("Entrypoint = %q, want %q", c.Entrypoint, tc.entry)
			}
			if (tc.cmd != nil || tc.name == "entrypoint override drops image cmd") && !reflect.DeepEqual([]string(c.Cmd), tc.cmd) {
				t.Errorf("Cmd = %q, want %q", c.Cmd, tc.cmd)
			}
			if tc.env != nil && !reflect.DeepEqual(c.Env, tc.env) {
				t.Errorf("Env = %q, want %q", c.Env, tc.env)
			}
			if tc.user != "" && c.User != tc.user {
				t.Errorf("User = %q", c.User)
			}
			if tc.workdir != "" && c.WorkingDir != tc.workdir {
				t.Errorf("WorkingDir = %q", c.WorkingDir)
			}
			if c.StopSignal != "SIGQUIT" || c.Labels["l"] != "img" {
				t.Errorf("StopSignal/Labels not inherited: %q %v", c.StopSignal, c.Labels)
			}
		})
	}
}

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
