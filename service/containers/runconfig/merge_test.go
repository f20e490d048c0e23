package runconfig

import (
	"reflect"
	"testing"

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
			MergeImage(&c, img)
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
