// Package mounts is a container's side of volumes: its mounts as -v,
// --mount, --tmpfs, --volumes-from and the image's VOLUMEs ask for them
// (parsed and checked in dockerd's words), the volumes they need
// created, and each mount as the runtime's OCI mount. service/volumes
// owns the volumes themselves; the containers service keeps the mounts
// in its records and drives this package.
package mounts

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
)

// Mount is one of a container's mounts, resolved at create.
type Mount struct {
	Type        mount.Type        `json:"type"`             // bind, volume or tmpfs
	Name        string            `json:"name,omitempty"`   // volume name
	Source      string            `json:"source,omitempty"` // bind: host path
	Destination string            `json:"destination"`
	RW          bool              `json:"rw"`
	Mode        string            `json:"mode,omitempty"` // the mode as given ("ro", "z", …)
	Propagation mount.Propagation `json:"propagation,omitempty"`
	NoCopy      bool              `json:"noCopy,omitempty"`    // do not copy the image's content into a new volume
	Anonymous   bool              `json:"anonymous,omitempty"` // the volume was created for this container
	MustExist   bool              `json:"mustExist,omitempty"` // --mount bind: the source is not created
	Data        string            `json:"data,omitempty"`      // tmpfs options
	Subpath     string            `json:"subpath,omitempty"`   // volume: mount this directory of it (API 1.45)
	// bind options (API 1.44): the mounts below the source are not bound
	// (NonRecursive); read-only applies to the top mount only, or must
	// apply to all of them (by default it applies to all when it can).
	NonRecursive           bool `json:"nonRecursive,omitempty"`
	ReadOnlyNonRecursive   bool `json:"readOnlyNonRecursive,omitempty"`
	ReadOnlyForceRecursive bool `json:"readOnlyForceRecursive,omitempty"`
}

func invalid(typ mount.Type, format string, a ...any) error {
	return fmt.Errorf("invalid mount config for type %q: %s: %w", typ, fmt.Sprintf(format, a...), errdefs.ErrInvalidArgument)
}

// CheckDestination is a mount target, cleaned, or dockerd's error.
func CheckDestination(typ mount.Type, dst string) (string, error) {
	if dst == "" {
		return "", invalid(typ, "field Target must not be empty")
	}
	if !filepath.IsAbs(dst) {
		return "", invalid(typ, "invalid mount path: '%s' mount path must be absolute", dst)
	}
	dst = filepath.Clean(dst)
	if dst == "/" {
		return "", invalid(typ, "invalid specification: destination can't be '/'")
	}
	return dst, nil
}

var propagations = map[string]mount.Propagation{
	"private": mount.PropagationPrivate, "rprivate": mount.PropagationRPrivate, "shared": mount.PropagationShared,
	"rshared": mount.PropagationRShared, "slave": mount.PropagationSlave, "rslave": mount.PropagationRSlave,
}

// ParseBind parses a -v/Binds entry: src:dst[:opts] with src a host path or a volume name.
func ParseBind(spec string) (Mount, error) {
	bad := func(why string) error {
		return fmt.Errorf("invalid volume specification: '%s'%s: %w", spec, why, errdefs.ErrInvalidArgument)
	}
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return Mount{}, bad("")
	}
	m := Mount{Type: mount.TypeVolume, Destination: parts[1], RW: true}
	if filepath.IsAbs(parts[0]) {
		m.Type, m.Source = mount.TypeBind, filepath.Clean(parts[0])
	} else {
		m.Name = parts[0]
	}
	dst, err := CheckDestination(m.Type, m.Destination)
	if err != nil {
		return Mount{}, bad(": " + strings.TrimSuffix(err.Error(), ": "+errdefs.ErrInvalidArgument.Error()))
	}
	m.Destination = dst
	if len(parts) == 3 {
		m.Mode = parts[2]
		rw := 0
		for _, o := range strings.Split(parts[2], ",") {
			switch {
			case o == "ro":
				m.RW = false
				rw++
			case o == "rw":
				rw++
			case o == "z" || o == "Z":
			case o == "nocopy" && m.Type == mount.TypeVolume:
				m.NoCopy = true
			case propagations[o] != "" && m.Type == mount.TypeBind:
				m.Propagation = propagations[o]
			default:
				return Mount{}, bad(": invalid mode: " + parts[2])
			}
		}
		if rw > 1 {
			return Mount{}, bad(": invalid mode: " + parts[2])
		}
	}
	if m.Type == mount.TypeBind && m.Propagation == "" {
		m.Propagation = mount.PropagationRPrivate
	}
	return m, nil
}

// FromAPI converts a --mount / HostConfig.Mounts entry.
func FromAPI(am mount.Mount) (Mount, error) {
	dst, err := CheckDestination(am.Type, am.Target)
	if err != nil {
		return Mount{}, err
	}
	m := Mount{Type: am.Type, Destination: dst, RW: !am.ReadOnly}
	switch am.Type {
	case mount.TypeBind:
		if am.Source == "" {
			return Mount{}, invalid(am.Type, "field Source must not be empty")
		}
		if !filepath.IsAbs(am.Source) {
			return Mount{}, invalid(am.Type, "invalid mount path: '%s' mount path must be absolute", am.Source)
		}
		m.Source, m.MustExist = filepath.Clean(am.Source), true
		if am.BindOptions != nil && am.BindOptions.CreateMountpoint {
			m.MustExist = false
		}
		if _, err := os.Stat(m.Source); err != nil && m.MustExist {
			return Mount{}, invalid(am.Type, "bind source path does not exist: %s", m.Source)
		}
		m.Propagation = mount.PropagationRPrivate
		if bo := am.BindOptions; bo != nil {
			if bo.Propagation != "" {
				m.Propagation = bo.Propagation
			}
			m.NonRecursive, m.ReadOnlyNonRecursive, m.ReadOnlyForceRecursive = bo.NonRecursive, bo.ReadOnlyNonRecursive, bo.ReadOnlyForceRecursive
			// dockerd's checks (volume/mounts/linux_parser.go)
			switch {
			case bo.ReadOnlyNonRecursive && !am.ReadOnly:
				return Mount{}, invalid(am.Type, "option 'ReadOnlyNonRecursive' requires 'ReadOnly' to be set")
			case bo.ReadOnlyForceRecursive && !am.ReadOnly:
				return Mount{}, invalid(am.Type, "option 'ReadOnlyForceRecursive' requires 'ReadOnly' to be set")
			case bo.ReadOnlyForceRecursive && bo.ReadOnlyNonRecursive:
				return Mount{}, invalid(am.Type, "option 'ReadOnlyForceRecursive' conflicts with 'ReadOnlyNonRecursive'")
			case bo.ReadOnlyForceRecursive && bo.NonRecursive:
				return Mount{}, invalid(am.Type, "option 'ReadOnlyForceRecursive' conflicts with 'NonRecursive'")
			case bo.ReadOnlyForceRecursive && m.Propagation != mount.PropagationRPrivate:
				return Mount{}, invalid(am.Type, "option 'ReadOnlyForceRecursive' requires propagation to be 'rprivate'")
			}
		}
	case mount.TypeVolume:
		m.Name = am.Source
		m.NoCopy = am.VolumeOptions != nil && am.VolumeOptions.NoCopy
		if am.VolumeOptions != nil && am.VolumeOptions.Subpath != "" {
			if am.Source == "" {
				return Mount{}, invalid(am.Type, "must not set Subpath when using anonymous volumes")
			}
			if !filepath.IsLocal(am.VolumeOptions.Subpath) {
				return Mount{}, invalid(am.Type, "subpath must be a relative path within the volume")
			}
			m.Subpath = filepath.Clean(am.VolumeOptions.Subpath)
		}
	case mount.TypeTmpfs:
		if am.Source != "" {
			return Mount{}, invalid(am.Type, "field Source must not be specified")
		}
		var opts []string
		if t := am.TmpfsOptions; t != nil {
			if t.SizeBytes > 0 {
				opts = append(opts, "size="+strconv.FormatInt(t.SizeBytes, 10))
			}
			if t.Mode != 0 {
				opts = append(opts, "mode="+strconv.FormatUint(uint64(t.Mode)&0o7777, 8)) // the number as sent: a unix mode
			}
		}
		m.Data = strings.Join(opts, ",")
	default:
		return Mount{}, fmt.Errorf("invalid mount config: mount type unknown: %q: %w", am.Type, errdefs.ErrInvalidArgument)
	}
	return m, nil
}
