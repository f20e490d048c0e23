package view

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/labels"
	"github.com/berth-project/berth/service/containers/health"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/opencontainers/go-digest"
)

// Filters are a list's filters. Those that name something are resolved
// once, before the containers are walked (as dockerd's foldFilter):
// before and since name containers, publish and expose are port ranges,
// is-task a boolean.
type Filters struct {
	f                map[string][]string
	imageID          func(ref string) (digest.Digest, error)
	before, since    time.Time // created strictly before / after; zero: no filter
	publish, expose  []network.PortRange
	network          []string
	taskOnly, noTask bool
}

// ParseFilters checks a list's filters and resolves them: created finds
// a container's creation time (before, since), imageID an image's ID
// (ancestor, when a container matches by ID rather than by name).
func ParseFilters(f map[string][]string, created func(ref string) (time.Time, error), imageID func(ref string) (digest.Digest, error)) (*Filters, error) {
	for k := range f {
		switch k {
		case "status", "name", "label", "ancestor", "id", "exited", "before", "since", "network", "volume", "health", "is-task", "publish", "expose":
		default:
			return nil, fmt.Errorf("invalid filter '%s': %w", k, errdefs.ErrInvalidArgument)
		}
	}
	lf := &Filters{f: f, imageID: imageID, network: f["network"]}
	for key, dst := range map[string]*time.Time{"before": &lf.before, "since": &lf.since} {
		for _, v := range f[key] { // the last one counts, as dockerd's
			t, err := created(v)
			if err != nil {
				return nil, err
			}
			*dst = t
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

// matches applies the filters that compare c's own fields.
func (lf *Filters) matches(c Container) bool {
	f := lf.f
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
	return any("status", func(v string) bool { return string(c.Status) == v }) &&
		any("id", func(v string) bool { return strings.HasPrefix(c.ID, v) }) &&
		any("name", func(v string) bool {
			if re, err := regexp.Compile(v); err == nil {
				return re.MatchString(strings.TrimPrefix(c.Name, "/")) || re.MatchString(c.Name)
			}
			return strings.Contains(c.Name, v)
		}) &&
		any("exited", func(v string) bool {
			n, err := strconv.Atoi(v)
			return err == nil && c.Status == container.StateExited && c.ExitCode == n
		}) &&
		any("ancestor", func(v string) bool {
			if v == c.Config.Image {
				return true
			}
			id, err := lf.imageID(v)
			return err == nil && id == c.Image
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
			if c.Health == nil || health.ProbeFor(c.Config) == nil {
				return v == string(container.NoHealthcheck)
			}
			return c.running() && string(c.Health.Status) == v
		}) &&
		labels.Match(c.Config.Labels, labels.Parse(f["label"]))
}

// matchResolved applies the resolved filters to c.
func (lf *Filters) matchResolved(c Container) bool {
	if !lf.before.IsZero() && !c.Created.Before(lf.before) {
		return false
	}
	if !lf.since.IsZero() && !c.Created.After(lf.since) {
		return false
	}
	if lf.taskOnly { // swarm tasks: berth runs none
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
	if !anyPort(lf.publish, func(p network.Port) bool { _, ok := c.HostConfig.PortBindings[p]; return ok }) ||
		!anyPort(lf.expose, func(p network.Port) bool { _, ok := c.Config.ExposedPorts[p]; return ok }) {
		return false
	}
	if len(lf.network) > 0 {
		nets := c.NetworkSettings.Networks
		on := false
		for _, v := range lf.network { // a network's name, or its ID or a prefix of it
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
