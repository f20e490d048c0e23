package containers

import (
	"fmt"
	"sort"

	"github.com/berth-project/berth/service/volumes/mounts"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Mount is one of a container's mounts, resolved at create.
type Mount = mounts.Mount

// resolveMounts turns Config.Volumes, VolumesFrom, Binds, Mounts and Tmpfs
// into the container's mounts, creating the volumes they name (as Docker
// does at create).
func (s *Service) resolveMounts(cfg *container.Config, hc *container.HostConfig) ([]Mount, error) {
	src := mounts.Sources{Binds: hc.Binds, Mounts: hc.Mounts, Tmpfs: hc.Tmpfs, ImageVolumes: cfg.Volumes}
	for _, spec := range hc.VolumesFrom {
		ref, mode, err := mounts.ParseVolumesFrom(spec)
		if err != nil {
			return nil, err
		}
		other, err := s.Get(ref)
		if err != nil {
			return nil, err
		}
		other.mu.Lock()
		src.VolumesFrom = append(src.VolumesFrom, mounts.From{Mounts: append([]Mount(nil), other.Mounts...), Mode: mode})
		other.mu.Unlock()
	}
	ms, err := mounts.Plan(src)
	if err != nil {
		return nil, err
	}
	if err := mounts.CreateVolumes(s.volumes, ms, hc.Mounts); err != nil {
		return nil, err
	}
	return ms, nil
}

// setupMounts makes c's mounts ready for a start and returns them as OCI
// mounts: volumes mounted (and filled from the image when new and empty),
// missing -v bind sources created. release undoes the volume mounts.
func (s *Service) setupMounts(c *Container) (ms []specs.Mount, release func(), err error) {
	var mounted []string
	release = func() {
		for _, n := range mounted {
			s.volumes.Unmount(n)
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	for _, m := range c.Mounts {
		var src string
		switch m.Type {
		case mount.TypeVolume:
			if src, err = s.volumes.Mount(m.Name); err != nil {
				return nil, nil, err
			}
			mounted = append(mounted, m.Name)
			if m.Subpath != "" {
				// resolved inside the volume: no symlink in it leads out
				if src, err = mounts.SubpathSource(src, m.Subpath); err != nil {
					return nil, nil, err
				}
				break // a part of a volume is never populated from the image
			}
			if !m.NoCopy {
				if err := mounts.CopyUp(c.rootfs(), m.Destination, src); err != nil {
					return nil, nil, fmt.Errorf("populate volume %s from %s: %w", m.Name, m.Destination, err)
				}
			}
		case mount.TypeBind:
			if err := m.PrepareBindSource(); err != nil {
				return nil, nil, err
			}
			src = m.Source
		}
		ms = append(ms, m.Spec(src))
	}
	return ms, release, nil
}

// volumeUsers returns the IDs of the containers whose mounts name the volume.
func (s *Service) volumeUsers(name string) []string {
	var out []string
	for _, c := range s.all() {
		c.mu.Lock()
		for _, m := range c.Mounts {
			if m.Type == mount.TypeVolume && m.Name == name {
				out = append(out, c.ID)
				break
			}
		}
		c.mu.Unlock()
	}
	sort.Strings(out)
	return out
}
