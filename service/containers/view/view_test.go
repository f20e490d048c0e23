package view

import (
	"errors"
	"testing"
	"time"

	"github.com/berth-project/berth/service/volumes/mounts"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/opencontainers/go-digest"
)

func TestStatusString(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		c    Container
		want string
	}{
		{Container{Status: container.StateCreated}, "Created"},
		{Container{Status: container.StateRunning, StartedAt: now.Add(-3 * time.Second)}, "Up 3 seconds"},
		{Container{Status: container.StateRunning, StartedAt: now.Add(-3 * time.Second), Health: &container.Health{Status: container.Healthy}}, "Up 3 seconds (healthy)"},
		{Container{Status: container.StateExited, ExitCode: 137, FinishedAt: now.Add(-2 * time.Minute)}, "Exited (137) 2 minutes ago"},
		{Container{Status: container.StateExited}, ""},
		{Container{Status: container.StateRestarting, ExitCode: 1, FinishedAt: now.Add(-time.Second)}, "Restarting (1) 1 second ago"},
		{Container{Status: container.StatePaused, StartedAt: now.Add(-time.Hour)}, "Up About an hour (Paused)"},
		{Container{Status: container.StateRemoving}, "Removal In Progress"},
		{Container{Status: container.StateDead}, "Dead"},
	} {
		if got := statusString(tc.c); got != tc.want {
			t.Errorf("statusString(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

var (
	created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	imageID = digest.FromString("busybox")
)

// web is a running container on the default bridge publishing 80/tcp.
func web() Container {
	return Container{
		ID: "0123456789abcdef", Name: "/web", Created: created, Path: "httpd", Args: []string{"-f"},
		Config: &container.Config{Image: "busybox", Labels: map[string]string{"tier": "front"},
			ExposedPorts: network.PortSet{network.MustParsePort("80/tcp"): {}}},
		HostConfig: &container.HostConfig{NetworkMode: "bridge",
			PortBindings: network.PortMap{network.MustParsePort("80/tcp"): nil}},
		Image:  imageID,
		Status: container.StateRunning, Pid: 42, StartedAt: created,
		Mounts: []mounts.Mount{{Type: mount.TypeVolume, Name: "data", Destination: "/data"}},
		NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{
			"bridge": {NetworkID: "f00dbeef"}}},
		Dir: "/var/lib/berth/containers/0123456789abcdef", Rootfs: "/var/lib/berth/containers/0123456789abcdef/rootfs",
	}
}

func stopped() Container {
	c := web()
	c.ID, c.Name, c.Status, c.ExitCode, c.FinishedAt = "fedcba9876543210", "/old", container.StateExited, 3, created.Add(time.Minute)
	return c
}

func TestFilters(t *testing.T) {
	createdOf := func(ref string) (time.Time, error) {
		if ref == "first" {
			return created.Add(-time.Hour), nil
		}
		return time.Time{}, errdefs.ErrNotFound
	}
	resolve := func(ref string) (digest.Digest, error) {
		if ref == "busybox:latest" {
			return imageID, nil
		}
		return "", errdefs.ErrNotFound
	}
	for _, tc := range []struct {
		filters map[string][]string
		c       Container
		want    bool
	}{
		{nil, web(), true},
		{map[string][]string{"status": {"running"}}, web(), true},
		{map[string][]string{"status": {"exited"}}, web(), false},
		{map[string][]string{"id": {"0123"}}, web(), true},
		{map[string][]string{"name": {"^web$"}}, web(), true},
		{map[string][]string{"name": {"^/web"}}, web(), true},
		{map[string][]string{"name": {"db"}}, web(), false},
		{map[string][]string{"exited": {"3"}}, stopped(), true},
		{map[string][]string{"exited": {"0"}}, stopped(), false},
		{map[string][]string{"ancestor": {"busybox"}}, web(), true},
		{map[string][]string{"ancestor": {"busybox:latest"}}, web(), true},
		{map[string][]string{"ancestor": {"alpine"}}, web(), false},
		{map[string][]string{"volume": {"data"}}, web(), true},
		{map[string][]string{"volume": {"/data"}}, web(), true},
		{map[string][]string{"volume": {"other"}}, web(), false},
		{map[string][]string{"health": {"none"}}, web(), true},
		{map[string][]string{"label": {"tier=front"}}, web(), true},
		{map[string][]string{"label": {"tier=back"}}, web(), false},
		{map[string][]string{"since": {"first"}}, web(), true},
		{map[string][]string{"before": {"first"}}, web(), false},
		{map[string][]string{"publish": {"80"}}, web(), true},
		{map[string][]string{"publish": {"8080-8090/tcp"}}, web(), false},
		{map[string][]string{"expose": {"80/tcp"}}, web(), true},
		{map[string][]string{"network": {"bridge"}}, web(), true},
		{map[string][]string{"network": {"f00d"}}, web(), true},
		{map[string][]string{"network": {"other"}}, web(), false},
		{map[string][]string{"is-task": {"true"}}, web(), false},
		{map[string][]string{"is-task": {"false"}}, web(), true},
		{map[string][]string{"status": {"exited"}}, stopped(), true},
	} {
		f, err := ParseFilters(tc.filters, createdOf, resolve)
		if err != nil {
			t.Errorf("ParseFilters(%v): %v", tc.filters, err)
			continue
		}
		_, got := Summary(tc.c, ListOptions{All: true, Filters: tc.filters}, f)
		if got != tc.want {
			t.Errorf("filters %v on %s: %v, want %v", tc.filters, tc.c.Name, got, tc.want)
		}
	}
	for _, bad := range []map[string][]string{
		{"colour": {"red"}},
		{"is-task": {"maybe"}},
		{"publish": {"eighty"}},
		{"since": {"missing"}},
	} {
		if _, err := ParseFilters(bad, createdOf, resolve); !errdefs.IsInvalidArgument(err) && !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("ParseFilters(%v) = %v, want an invalid-argument or not-found error", bad, err)
		}
	}
}

func TestSummaryShown(t *testing.T) {
	for _, tc := range []struct {
		o    ListOptions
		c    Container
		want bool
	}{
		{ListOptions{}, web(), true},
		{ListOptions{}, stopped(), false},
		{ListOptions{All: true}, stopped(), true},
		{ListOptions{Limit: 1}, stopped(), true}, // -n implies -a, as dockerd
		{ListOptions{Filters: map[string][]string{"exited": {"3"}}}, stopped(), true},
	} {
		f, err := ParseFilters(tc.o.Filters, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		sum, ok := Summary(tc.c, tc.o, f)
		if ok != tc.want {
			t.Errorf("Summary(%s, %+v) shown %v, want %v", tc.c.Name, tc.o, ok, tc.want)
		}
		if ok && (sum.ID != tc.c.ID || sum.Command != tc.c.Path+" -f" || sum.Labels["tier"] != "front" || len(sum.Ports) != 1) {
			t.Errorf("Summary(%s) = %+v", tc.c.Name, sum)
		}
	}
}

func TestInspect(t *testing.T) {
	c := stopped()
	c.Args, c.LogPath = nil, c.Dir+"/x-json.log"
	c.HostConfig.LogConfig.Type = "json-file"
	r := Inspect(c, c.HostConfig, nil)
	if r.Args == nil || r.State.Running || r.State.ExitCode != 3 || r.State.StartedAt != "2026-01-02T03:04:05Z" {
		t.Errorf("Inspect: %+v, state %+v", r, r.State)
	}
	if r.LogPath != c.LogPath || r.HostsPath != c.Dir+"/hosts" || r.GraphDriver.Data["MergedDir"] != c.Rootfs {
		t.Errorf("Inspect paths: log %q hosts %q graph %v", r.LogPath, r.HostsPath, r.GraphDriver.Data)
	}
	c.HostConfig.LogConfig.Type = "local"
	if r := Inspect(c, c.HostConfig, nil); r.LogPath != "" {
		t.Errorf("LogPath of the local driver = %q, want none", r.LogPath)
	}
	if got := formatTime(time.Time{}); got != "0001-01-01T00:00:00Z" {
		t.Errorf("formatTime(zero) = %q", got)
	}
}
