package compose

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

func load(t *testing.T, yaml string) *types.Project {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(context.Background(), LoadOptions{WorkingDir: dir, Name: "proj"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServiceHash(t *testing.T) {
	base := types.ServiceConfig{Name: "web"}
	base.Image = "busybox"
	h0, _ := ServiceHash(base)
	for _, tc := range []struct {
		name    string
		change  func(*types.ServiceConfig)
		changes bool
	}{
		{"scale", func(s *types.ServiceConfig) { n := 3; s.Scale = &n }, false},
		{"build", func(s *types.ServiceConfig) { s.Build = &types.BuildConfig{Context: "."} }, false},
		{"depends_on", func(s *types.ServiceConfig) { s.DependsOn = types.DependsOnConfig{"db": {}} }, false},
		{"profiles", func(s *types.ServiceConfig) { s.Profiles = []string{"x"} }, false},
		{"image", func(s *types.ServiceConfig) { s.Image = "busybox:2" }, true},
		{"environment", func(s *types.ServiceConfig) { v := "1"; s.Environment = types.MappingWithEquals{"A": &v} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.change(&s)
			h, err := ServiceHash(s)
			if err != nil {
				t.Fatal(err)
			}
			if (h != h0) != tc.changes {
				t.Fatalf("hash changed: %v, want %v", h != h0, tc.changes)
			}
		})
	}
}

func TestContainerConfig(t *testing.T) {
	p := load(t, `
services:
  web:
    image: busybox
    ports: ["127.0.0.1:8080:80", "9000-9001:9000-9001/udp"]
    expose: ["7000"]
    volumes:
      - data:/data:ro
      - /tmp:/host
      - type: tmpfs
        target: /scratch
    networks:
      front:
        aliases: [www]
    environment: [A=1]
  named:
    image: busybox
    container_name: custom
volumes:
  data:
networks:
  front:
`)
	web, _ := p.GetService("web")
	cc, err := containerConfig(p, web, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Name != "proj-web-2" || cc.Config.Labels[ServiceLabel] != "web" || cc.Config.Labels[ContainerNumberLabel] != "2" || cc.Config.Labels[OneoffLabel] != "False" {
		t.Fatalf("name %q labels %v", cc.Name, cc.Config.Labels)
	}
	if !reflect.DeepEqual(cc.Config.Env, []string{"A=1"}) {
		t.Fatalf("env %v", cc.Config.Env)
	}
	for _, p := range []string{"80/tcp", "9000/udp", "9001/udp", "7000/tcp"} {
		if _, ok := cc.Config.ExposedPorts[network.MustParsePort(p)]; !ok {
			t.Fatalf("%s not exposed: %v", p, cc.Config.ExposedPorts)
		}
	}
	if b := cc.HostConfig.PortBindings[network.MustParsePort("80/tcp")]; len(b) != 1 || b[0].HostPort != "8080" || b[0].HostIP.String() != "127.0.0.1" {
		t.Fatalf("bindings %v", cc.HostConfig.PortBindings)
	}
	if !reflect.DeepEqual(cc.HostConfig.Binds, []string{"/tmp:/host"}) {
		t.Fatalf("binds %v", cc.HostConfig.Binds)
	}
	want := []mount.Mount{{Type: mount.TypeVolume, Source: "proj_data", Target: "/data", ReadOnly: true, VolumeOptions: &mount.VolumeOptions{}}, {Type: mount.TypeTmpfs, Target: "/scratch"}}
	if len(cc.HostConfig.Mounts) != 2 || cc.HostConfig.Mounts[0].Source != want[0].Source || !cc.HostConfig.Mounts[0].ReadOnly || cc.HostConfig.Mounts[1].Type != mount.TypeTmpfs {
		t.Fatalf("mounts %+v", cc.HostConfig.Mounts)
	}
	ep := cc.Networking.EndpointsConfig["proj_front"]
	if cc.HostConfig.NetworkMode != "proj_front" || ep == nil || !reflect.DeepEqual(ep.Aliases, []string{"proj-web-2", "web", "www"}) {
		t.Fatalf("network mode %q endpoints %+v", cc.HostConfig.NetworkMode, cc.Networking.EndpointsConfig)
	}
	named, _ := p.GetService("named")
	if ContainerName(p.Name, named, 1) != "custom" {
		t.Fatal("container_name not used")
	}
}

func TestWithRestartDependents(t *testing.T) {
	p := load(t, `
services:
  db:
    image: busybox
  api:
    image: busybox
    depends_on:
      db:
        condition: service_started
        restart: true
  web:
    image: busybox
    depends_on:
      api:
        condition: service_started
        restart: true
  batch:
    image: busybox
    depends_on: [db]
`)
	got := withRestartDependents(p, []string{"db"})
	sort.Strings(got)
	if !reflect.DeepEqual(got, []string{"api", "db", "web"}) {
		t.Fatalf("restart db restarts %v", got)
	}
}
