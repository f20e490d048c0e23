package mounts

import (
	"fmt"
	"sort"
	"strings"

	"github.com/berth-project/berth/service/volumes"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
)

// Sources are what a create asks to mount, lowest precedence first:
// another container's mounts (--volumes-from), then -v, --mount and
// --tmpfs, and the image's VOLUMEs where nothing else is mounted.
type Sources struct {
	VolumesFrom  []From
	Binds        []string            // HostConfig.Binds
	Mounts       []mount.Mount       // HostConfig.Mounts
	Tmpfs        map[string]string   // HostConfig.Tmpfs
	ImageVolumes map[string]struct{} // Config.Volumes
}

// From is one --volumes-from: the other container's mounts and the mode
// asked ("" keeps each mount's own).
type From struct {
	Mounts []Mount
	Mode   string
}

// ParseVolumesFrom splits a --volumes-from entry into the container and
// the mode.
func ParseVolumesFrom(spec string) (ref, mode string, err error) {
	ref, mode, _ = strings.Cut(spec, ":")
	if mode != "" && mode != "ro" && mode != "rw" {
		return "", "", fmt.Errorf("invalid mode for volumes-from: %s: %w", mode, errdefs.ErrInvalidArgument)
	}
	return ref, mode, nil
}

// Plan merges the sources into the container's mounts, by destination.
// A later source overrides an earlier one at the same place; two
// explicit mounts (-v, --mount, --tmpfs) at one place are an error.
// Volumes are named as asked; anonymous ones have no name until Create.
func Plan(src Sources) ([]Mount, error) {
	byDst := map[string]Mount{}
	explicit := map[string]bool{}
	add := func(m Mount) error {
		if explicit[m.Destination] {
			return fmt.Errorf("Duplicate mount point: %s: %w", m.Destination, errdefs.ErrInvalidArgument)
		}
		explicit[m.Destination] = true
		byDst[m.Destination] = m
		return nil
	}
	for _, from := range src.VolumesFrom {
		for _, m := range from.Mounts {
			if m.Type == mount.TypeTmpfs {
				continue
			}
			m.Anonymous = false // it belongs to the other container
			if from.Mode != "" {
				m.RW = from.Mode == "rw"
			}
			byDst[m.Destination] = m
		}
	}
	for _, b := range src.Binds {
		m, err := ParseBind(b)
		if err != nil {
			return nil, err
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for _, am := range src.Mounts {
		m, err := FromAPI(am)
		if err != nil {
			return nil, err
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for dst, opts := range src.Tmpfs {
		d, err := CheckDestination(mount.TypeTmpfs, dst)
		if err != nil {
			return nil, err
		}
		if err := add(Mount{Type: mount.TypeTmpfs, Destination: d, RW: !strings.Contains(","+opts+",", ",ro,"), Data: opts}); err != nil {
			return nil, err
		}
	}
	vols := make([]string, 0, len(src.ImageVolumes))
	for v := range src.ImageVolumes {
		vols = append(vols, v)
	}
	sort.Strings(vols)
	for _, v := range vols {
		d, err := CheckDestination(mount.TypeVolume, v)
		if err != nil {
			return nil, err
		}
		if _, ok := byDst[d]; !ok {
			byDst[d] = Mount{Type: mount.TypeVolume, Destination: d, RW: true}
		}
	}
	out := make([]Mount, 0, len(byDst))
	for _, m := range byDst {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out, nil
}

// CreateVolumes creates the volumes ms name that do not exist yet (as
// Docker does at create), with the labels and driver --mount gives them,
// and names the anonymous ones. If one fails, the anonymous volumes made
// so far are removed.
func CreateVolumes(vols *volumes.Service, ms []Mount, asked []mount.Mount) (retErr error) {
	defer func() {
		if retErr != nil {
			for _, m := range ms {
				if m.Anonymous {
					_ = vols.Remove(m.Name, true)
				}
			}
		}
	}()
	for i := range ms {
		m := &ms[i]
		if m.Type != mount.TypeVolume {
			continue
		}
		opts := volumes.CreateOptions{Name: m.Name}
		if m.Name == "" {
			opts.Labels = map[string]string{volumes.AnonymousLabel: ""}
		} else if _, err := vols.Get(m.Name); err == nil {
			continue
		}
		for _, am := range asked {
			if am.Target == m.Destination && am.VolumeOptions != nil {
				if opts.Labels == nil && len(am.VolumeOptions.Labels) > 0 {
					opts.Labels = map[string]string{}
				}
				for k, v := range am.VolumeOptions.Labels {
					opts.Labels[k] = v
				}
				if dc := am.VolumeOptions.DriverConfig; dc != nil {
					opts.Driver, opts.Options = dc.Name, dc.Options
				}
			}
		}
		v, err := vols.Create(opts)
		if err != nil {
			return err
		}
		if m.Name == "" {
			m.Name, m.Anonymous = v.Name, true
		}
	}
	return nil
}
