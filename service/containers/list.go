package containers

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/labels"
	"github.com/berth-project/berth/service/containers/health"
	"github.com/berth-project/berth/service/networks/sandbox"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/storage"
)

// ListOptions are the parameters of GET /containers/json.
type ListOptions struct {
	All     bool
	Limit   int
	Size    bool
	Filters map[string][]string
}

// List returns container summaries, newest first.
func (s *Service) List(o ListOptions) ([]container.Summary, error) {
	for k := range o.Filters {
		switch k {
		case "status", "name", "label", "ancestor", "id", "exited", "before", "since", "network", "volume", "health", "is-task", "publish", "expose":
		default:
			return nil, fmt.Errorf("invalid filter '%s': %w", k, errdefs.ErrInvalidArgument)
		}
	}
	f, err := s.parseFilters(o.Filters)
	if err != nil {
		return nil, err
	}
	cs := s.all()
	sort.Slice(cs, func(i, j int) bool { return cs[i].Created.After(cs[j].Created) })
	out := []container.Summary{}
	for _, c := range cs {
		c.mu.Lock()
		sum, ok := s.summary(c, o, f)
		c.mu.Unlock()
		if !ok {
			continue
		}
		out = append(out, sum)
		if o.Limit > 0 && len(out) >= o.Limit {
			break
		}
	}
	return out, nil
}

func (s *Service) summary(c *Container, o ListOptions, f *listFilters) (container.Summary, bool) {
	if c.removed {
		return container.Summary{}, false
	}
	explicitStatus := len(o.Filters["status"]) > 0 || len(o.Filters["exited"]) > 0
	if !o.All && o.Limit <= 0 && !explicitStatus && !c.running() && c.State.Status != container.StateRestarting {
		return container.Summary{}, false
	}
	if !s.matches(c, o.Filters) || !f.match(s, c) {
		return container.Summary{}, false
	}
	sum := container.Summary{
		ID:              c.ID,
		Names:           []string{c.Name},
		Image:           c.Config.Image,
		ImageID:         c.Image.String(),
		Command:         strings.Join(append([]string{c.Path}, c.Args...), " "),
		Created:         c.Created.Unix(),
		Ports:           sandbox.PortSummaries(s.shownPorts(c), c.Config.ExposedPorts),
		Labels:          c.Config.Labels,
		State:           c.State.Status,
		Status:          statusString(c.State),
		Mounts:          s.mountPoints(c),
		NetworkSettings: &container.NetworkSettingsSummary{Networks: s.networkSettings(c).Networks},
	}
	if sum.Labels == nil {
		sum.Labels = map[string]string{}
	}
	if h := c.State.Health; h != nil {
		sum.Health = &container.HealthSummary{Status: h.Status, FailingStreak: h.FailingStreak}
	}
	sum.HostConfig.NetworkMode = string(c.HostConfig.NetworkMode)
	if o.Size {
		sum.SizeRw, _ = overlay.DirSize(filepath.Join(c.dir, "upper"))
		sum.SizeRootFs = sum.SizeRw
		if img, ok := s.images.Get(c.Image); ok {
			sum.SizeRootFs += img.Size
		}
	}
	return sum, true
}

func (s *Service) matches(c *Container, f map[string][]string) bool {
	any := func(key string, ok func(string) bool) bool {
		vals := f[key]
		if len(vals) == 0 {
			return true
		}
		for _, v := range vals {
			if ok(v) {
				return true
			}
		}
		return false
	}
	return any("status", func(v string) bool { return string(c.State.Status) == v }) &&
		any("id", func(v string) bool { return strings.HasPrefix(c.ID, v) }) &&
		any("name", func(v string) bool {
			if re, err := regexp.Compile(v); err == nil {
				return re.MatchString(strings.TrimPrefix(c.Name, "/")) || re.MatchString(c.Name)
			}
			return strings.Contains(c.Name, v)
		}) &&
		any("exited", func(v string) bool {
			n, err := strconv.Atoi(v)
			return err == nil && c.State.Status == container.StateExited && c.State.ExitCode == n
		}) &&
		any("ancestor", func(v string) bool {
			if v == c.Config.Image {
				return true
			}
			img, err := s.images.Resolve(v)
			return err == nil && img.ID == c.Image
		}) &&
		any("volume", func(v string) bool {
			for _, m := range c.Mounts {
				if m.Name == v || m.Destination == v || (m.Type == mount.TypeBind && m.Source == v) {
					return true
				}
			}
			return false
		}) &&
		any("health", func(v string) bool {
			if c.State.Health == nil || health.ProbeFor(c.Config) == nil {
				return v == string(container.NoHealthcheck)
			}
			return c.running() && string(c.State.Health.Status) == v
		}) &&
		labels.Match(c.Config.Labels, labels.Parse(f["label"]))
}

// listFilters are the filters of a list that are resolved once, before
// the containers are walked (as dockerd's foldFilter): before and since
// name containers, publish and expose are port ranges, is-task a boolean.
type listFilters struct {
	before, since    time.Time // created strictly before / after; zero: no filter
	publish, expose  []network.PortRange
	network          []string
	taskOnly, noTask bool
}

func (s *Service) parseFilters(f map[string][]string) (*listFilters, error) {
	lf := &listFilters{network: f["network"]}
	for key, dst := range map[string]*time.Time{"before": &lf.before, "since": &lf.since} {
		for _, v := range f[key] { // the last one counts, as dockerd's
			c, err := s.Get(v)
			if err != nil {
				return nil, err
			}
			*dst = c.Created
		}
	}
	for key, dst := range map[string]*[]network.PortRange{"publish": &lf.publish, "expose": &lf.expose} {
		for _, v := range f[key] {
			pr, err := network.ParsePortRange(v)
			if err != nil {
				return nil, fmt.Errorf("invalid %s filter %q: %v: %w", key, v, err, errdefs.ErrInvalidArgument)
			}
			*dst = append(*dst, pr)
		}
	}
	switch v := f["is-task"]; {
	case len(v) == 0:
	case len(v) == 1 && v[0] == "true":
		lf.taskOnly = true
	case len(v) == 1 && v[0] == "false":
		lf.noTask = true
	default:
		return nil, fmt.Errorf("Invalid filter 'is-task=%s': %w", strings.Join(v, ","), errdefs.ErrInvalidArgument)
	}
	return lf, nil
}

// match applies the resolved filters to c; callers hold c.mu.
func (f *listFilters) match(s *Service, c *Container) bool {
	if !f.before.IsZero() && !c.Created.Before(f.before) {
		return false
	}
	if !f.since.IsZero() && !c.Created.After(f.since) {
		return false
	}
	if f.taskOnly { // swarm tasks: berth runs none
		return false
	}
	anyPort := func(ranges []network.PortRange, has func(network.Port) bool) bool {
		if len(ranges) == 0 {
			return true
		}
		for _, pr := range ranges {
			for p := range pr.All() {
				if has(p) {
					return true
				}
			}
		}
		return false
	}
	if !anyPort(f.publish, func(p network.Port) bool { _, ok := c.HostConfig.PortBindings[p]; return ok }) ||
		!anyPort(f.expose, func(p network.Port) bool { _, ok := c.Config.ExposedPorts[p]; return ok }) {
		return false
	}
	if len(f.network) > 0 {
		nets := s.networkSettings(c).Networks
		on := false
		for _, v := range f.network { // a network's name, or its ID or a prefix of it
			if _, ok := nets[v]; ok {
				on = true
			}
			for _, es := range nets {
				if es != nil && es.NetworkID != "" && strings.HasPrefix(es.NetworkID, v) {
					on = true
				}
			}
		}
		if !on {
			return false
		}
	}
	return true
}

// statusString is Docker's human status ("Up 3 seconds", "Exited (0) 2 minutes ago").
func statusString(st State) string {
	switch st.Status {
	case container.StateRunning:
		return "Up " + units.HumanDuration(time.Since(st.StartedAt)) + health.Suffix(st.Health)
	case container.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, units.HumanDuration(time.Since(st.FinishedAt)))
	case container.StatePaused:
		return "Up " + units.HumanDuration(time.Since(st.StartedAt)) + " (Paused)"
	case container.StateRemoving:
		return "Removal In Progress"
	case container.StateDead:
		return "Dead"
	case container.StateCreated:
		return "Created"
	}
	if st.FinishedAt.IsZero() {
		return ""
	}
	return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, units.HumanDuration(time.Since(st.FinishedAt)))
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.Format(time.RFC3339Nano)
}

// Inspect returns Docker's container inspect document.
func (s *Service) Inspect(ref string, size bool) (*container.InspectResponse, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.State
	resp := &container.InspectResponse{
		ID:      c.ID,
		Created: formatTime(c.Created),
		Path:    c.Path,
		Args:    c.Args,
		State: &container.State{
			Status: st.Status, Running: c.running() || st.Status == container.StateRestarting,
			Paused: st.Status == container.StatePaused, Restarting: st.Status == container.StateRestarting,
			Health:    health.Copy(st.Health),
			OOMKilled: st.OOMKilled, Dead: st.Status == container.StateDead, Pid: st.Pid, ExitCode: st.ExitCode,
			Error: st.Error, StartedAt: formatTime(st.StartedAt), FinishedAt: formatTime(st.FinishedAt),
		},
		Image:          c.Image.String(),
		ResolvConfPath: filepath.Join(c.dir, "resolv.conf"),
		HostnamePath:   filepath.Join(c.dir, "hostname"),
		HostsPath:      filepath.Join(c.dir, "hosts"),
		LogPath:        jsonLogPath(c),
		Name:           c.Name,
		RestartCount:   c.RestartCount,
		Driver:         "overlay2",
		Platform:       "linux",
		ExecIDs:        s.execIDs(c),
		HostConfig:     s.inspectHostConfig(c), // links as dockerd lists them (links.go)
		GraphDriver: &storage.DriverData{Name: "overlay2", Data: map[string]string{
			"MergedDir": c.rootfs(), "UpperDir": filepath.Join(c.dir, "upper"), "WorkDir": filepath.Join(c.dir, "work"),
		}},
		Mounts:          s.mountPoints(c),
		Config:          c.Config,
		NetworkSettings: s.networkSettings(c),
	}
	if args := resp.Args; args == nil {
		resp.Args = []string{}
	}
	if size {
		rw, _ := overlay.DirSize(filepath.Join(c.dir, "upper"))
		resp.SizeRw = &rw
		var total int64
		if img, ok := s.images.Get(c.Image); ok {
			total = img.Size
		}
		total += rw
		resp.SizeRootFs = &total
	}
	return resp, nil
}
