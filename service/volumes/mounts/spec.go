package mounts

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// PrepareBindSource makes a bind's host path ready: a -v source that is
// missing is created as a directory (Docker's old behaviour), a --mount
// source must exist.
func (m Mount) PrepareBindSource() error {
	if _, err := os.Stat(m.Source); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if m.MustExist {
		return invalid(m.Type, "bind source path does not exist: %s", m.Source)
	}
	if err := os.MkdirAll(m.Source, 0o755); err != nil {
		return fmt.Errorf("error while creating mount source path '%s': %w", m.Source, err)
	}
	return nil
}

// Spec is m as the runtime's mount of src (a volume's or bind's host
// directory; ignored for tmpfs). Binds are recursive unless asked not to
// be, and read-only reaches the mounts below the source too (API 1.44's
// default) unless the user asked for the top one only.
func (m Mount) Spec(src string) specs.Mount {
	if m.Type == mount.TypeTmpfs {
		opts := []string{"nosuid", "nodev", "noexec"}
		if m.Data != "" {
			opts = append(opts, strings.Split(m.Data, ",")...)
		}
		return specs.Mount{Destination: m.Destination, Type: "tmpfs", Source: "tmpfs", Options: opts}
	}
	opts := []string{"rbind"}
	if m.NonRecursive {
		opts[0] = "bind"
	}
	if !m.RW {
		opts = append(opts, "ro")
		if !m.ReadOnlyNonRecursive && !m.NonRecursive {
			opts = append(opts, "rro")
		}
	}
	prop := string(m.Propagation)
	if prop == "" {
		prop = string(mount.PropagationRPrivate)
	}
	return specs.Mount{Destination: m.Destination, Type: "bind", Source: src, Options: append(opts, prop)}
}

// MountPoint is m in inspect's and ps's Mounts; a volume shows its
// mountpoint, given by the caller.
func (m Mount) MountPoint(volumeMountpoint string) container.MountPoint {
	mp := container.MountPoint{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation}
	if m.Type == mount.TypeVolume {
		mp.Source, mp.Driver = volumeMountpoint, "local"
	}
	return mp
}
