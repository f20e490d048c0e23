package view

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-project/berth/service/containers/health"
	"github.com/berth-project/berth/service/networks"
	"github.com/berth-project/berth/service/networks/sandbox"
	"github.com/berth-project/berth/service/volumes/mounts"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/storage"
	"github.com/opencontainers/go-digest"
)

// Container is one container as its views read it: a copy, taken under
// its lock, of its record and of what the containers service knows of it
// beside the record.
type Container struct {
	ID, Name     string // Name with its leading "/"
	Created      time.Time
	Path         string
	Args         []string
	Config       *container.Config
	HostConfig   *container.HostConfig
	Image        digest.Digest
	RestartCount int

	// the run state
	Status                container.ContainerState
	Pid, ExitCode         int
	OOMKilled             bool
	Error                 string
	StartedAt, FinishedAt time.Time
	Health                *container.Health

	Mounts      []mounts.Mount
	MountPoints []container.MountPoint // Mounts as shown, volumes' mountpoints filled in
	Ports       []networks.Port        // published, its frontends' included
	// NetworkSettings are inspect's, which ps and the network filter read too.
	NetworkSettings *container.NetworkSettings
	Dir             string // the container's directory: its files and writable layer
	Rootfs          string // where its rootfs is mounted
	LogPath         string // where its log driver writes
}

func (c Container) running() bool {
	return c.Status == container.StateRunning || c.Status == container.StatePaused
}

// ListOptions are the parameters of GET /containers/json.
type ListOptions struct {
	All     bool
	Limit   int
	Size    bool
	Filters map[string][]string
}

// Summary is ps's line for c, false if the options leave c out. The
// sizes are the caller's to fill in.
func Summary(c Container, o ListOptions, f *Filters) (container.Summary, bool) {
	explicitStatus := len(o.Filters["status"]) > 0 || len(o.Filters["exited"]) > 0
	if !o.All && o.Limit <= 0 && !explicitStatus && !c.running() && c.Status != container.StateRestarting {
		return container.Summary{}, false
	}
	if !f.matches(c) || !f.matchResolved(c) {
		return container.Summary{}, false
	}
	sum := container.Summary{
		ID:              c.ID,
		Names:           []string{c.Name},
		Image:           c.Config.Image,
		ImageID:         c.Image.String(),
		Command:         strings.Join(append([]string{c.Path}, c.Args...), " "),
		Created:         c.Created.Unix(),
		Ports:           sandbox.PortSummaries(c.Ports, c.Config.ExposedPorts),
		Labels:          c.Config.Labels,
		State:           c.Status,
		Status:          statusString(c),
		Mounts:          c.MountPoints,
		NetworkSettings: &container.NetworkSettingsSummary{Networks: c.NetworkSettings.Networks},
	}
	if sum.Labels == nil {
		sum.Labels = map[string]string{}
	}
	if h := c.Health; h != nil {
		sum.Health = &container.HealthSummary{Status: h.Status, FailingStreak: h.FailingStreak}
	}
	sum.HostConfig.NetworkMode = string(c.HostConfig.NetworkMode)
	return sum, true
}

// statusString is Docker's human status ("Up 3 seconds", "Exited (0) 2 minutes ago").
func statusString(c Container) string {
	switch c.Status {
	case container.StateRunning:
		return "Up " + units.HumanDuration(time.Since(c.StartedAt)) + health.Suffix(c.Health)
	case container.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", c.ExitCode, units.HumanDuration(time.Since(c.FinishedAt)))
	case container.StatePaused:
		return "Up " + units.HumanDuration(time.Since(c.StartedAt)) + " (Paused)"
	case container.StateRemoving:
		return "Removal In Progress"
	case container.StateDead:
		return "Dead"
	case container.StateCreated:
		return "Created"
	}
	if c.FinishedAt.IsZero() {
		return ""
	}
	return fmt.Sprintf("Exited (%d) %s ago", c.ExitCode, units.HumanDuration(time.Since(c.FinishedAt)))
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.Format(time.RFC3339Nano)
}

// Inspect is Docker's container inspect document of c, with hc its
// HostConfig as inspect shows it (legacy links as dockerd lists them)
// and its execs. The sizes are the caller's to fill in.
func Inspect(c Container, hc *container.HostConfig, execIDs []string) *container.InspectResponse {
	resp := &container.InspectResponse{
		ID:      c.ID,
		Created: formatTime(c.Created),
		Path:    c.Path,
		Args:    c.Args,
		State: &container.State{
			Status: c.Status, Running: c.running() || c.Status == container.StateRestarting,
			Paused: c.Status == container.StatePaused, Restarting: c.Status == container.StateRestarting,
			Health:    health.Copy(c.Health),
			OOMKilled: c.OOMKilled, Dead: c.Status == container.StateDead, Pid: c.Pid, ExitCode: c.ExitCode,
			Error: c.Error, StartedAt: formatTime(c.StartedAt), FinishedAt: formatTime(c.FinishedAt),
		},
		Image:          c.Image.String(),
		ResolvConfPath: filepath.Join(c.Dir, "resolv.conf"),
		HostnamePath:   filepath.Join(c.Dir, "hostname"),
		HostsPath:      filepath.Join(c.Dir, "hosts"),
		LogPath:        jsonLogPath(c),
		Name:           c.Name,
		RestartCount:   c.RestartCount,
		Driver:         "overlay2",
		Platform:       "linux",
		ExecIDs:        execIDs,
		HostConfig:     hc,
		GraphDriver: &storage.DriverData{Name: "overlay2", Data: map[string]string{
			"MergedDir": c.Rootfs, "UpperDir": filepath.Join(c.Dir, "upper"), "WorkDir": filepath.Join(c.Dir, "work"),
		}},
		Mounts:          c.MountPoints,
		Config:          c.Config,
		NetworkSettings: c.NetworkSettings,
	}
	if args := resp.Args; args == nil {
		resp.Args = []string{}
	}
	return resp
}

// MountPoints is the Mounts list of inspect and ps: ms with their volumes'
// mountpoints.
func MountPoints(ms []mounts.Mount, mountpoint func(volume string) string) []container.MountPoint {
	out := make([]container.MountPoint, 0, len(ms))
	for _, m := range ms {
		var mp string
		if m.Type == mount.TypeVolume {
			mp = mountpoint(m.Name)
		}
		out = append(out, m.MountPoint(mp))
	}
	return out
}

// jsonLogPath is inspect's LogPath: set for the json-file driver only.
func jsonLogPath(c Container) string {
	if c.HostConfig.LogConfig.Type != "json-file" {
		return ""
	}
	return c.LogPath
}
