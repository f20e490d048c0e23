package containers

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/berth-project/berth/internal/securejoin"
	"github.com/berth-project/berth/service/volumes"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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

func invalidMount(typ mount.Type, format string, a ...any) error {
	return fmt.Errorf("invalid mount config for type %q: %s: %w", typ, fmt.Sprintf(format, a...), errdefs.ErrInvalidArgument)
}

func checkDestination(typ mount.Type, dst string) (string, error) {
	if dst == "" {
		return "", invalidMount(typ, "field Target must not be empty")
	}
	if !filepath.IsAbs(dst) {
		return "", invalidMount(typ, "invalid mount path: '%s' mount path must be absolute", dst)
	}
	dst = filepath.Clean(dst)
	if dst == "/" {
		return "", invalidMount(typ, "invalid specification: destination can't be '/'")
	}
	return dst, nil
}

var propagations = map[string]mount.Propagation{
	"private": mount.PropagationPrivate, "rprivate": mount.PropagationRPrivate, "shared": mount.PropagationShared,
	"rshared": mount.PropagationRShared, "slave": mount.PropagationSlave, "rslave": mount.PropagationRSlave,
}

// parseBind parses a -v/Binds entry: src:dst[:opts] with src a host path or a volume name.
func parseBind(spec string) (Mount, error) {
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
	dst, err := checkDestination(m.Type, m.Destination)
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

// fromAPIMount converts a --mount / HostConfig.Mounts entry.
func fromAPIMount(am mount.Mount) (Mount, error) {
	dst, err := checkDestination(am.Type, am.Target)
	if err != nil {
		return Mount{}, err
	}
	m := Mount{Type: am.Type, Destination: dst, RW: !am.ReadOnly}
	switch am.Type {
	case mount.TypeBind:
		if am.Source == "" {
			return Mount{}, invalidMount(am.Type, "field Source must not be empty")
		}
		if !filepath.IsAbs(am.Source) {
			return Mount{}, invalidMount(am.Type, "invalid mount path: '%s' mount path must be absolute", am.Source)
		}
		m.Source, m.MustExist = filepath.Clean(am.Source), true
		if am.BindOptions != nil && am.BindOptions.CreateMountpoint {
			m.MustExist = false
		}
		if _, err := os.Stat(m.Source); err != nil && m.MustExist {
			return Mount{}, invalidMount(am.Type, "bind source path does not exist: %s", m.Source)
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
				return Mount{}, invalidMount(am.Type, "option 'ReadOnlyNonRecursive' requires 'ReadOnly' to be set")
			case bo.ReadOnlyForceRecursive && !am.ReadOnly:
				return Mount{}, invalidMount(am.Type, "option 'ReadOnlyForceRecursive' requires 'ReadOnly' to be set")
			case bo.ReadOnlyForceRecursive && bo.ReadOnlyNonRecursive:
				return Mount{}, invalidMount(am.Type, "option 'ReadOnlyForceRecursive' conflicts with 'ReadOnlyNonRecursive'")
			case bo.ReadOnlyForceRecursive && bo.NonRecursive:
				return Mount{}, invalidMount(am.Type, "option 'ReadOnlyForceRecursive' conflicts with 'NonRecursive'")
			case bo.ReadOnlyForceRecursive && m.Propagation != mount.PropagationRPrivate:
				return Mount{}, invalidMount(am.Type, "option 'ReadOnlyForceRecursive' requires propagation to be 'rprivate'")
			}
		}
	case mount.TypeVolume:
		m.Name = am.Source
		m.NoCopy = am.VolumeOptions != nil && am.VolumeOptions.NoCopy
		if am.VolumeOptions != nil && am.VolumeOptions.Subpath != "" {
			if am.Source == "" {
				return Mount{}, invalidMount(am.Type, "must not set Subpath when using anonymous volumes")
			}
			if !filepath.IsLocal(am.VolumeOptions.Subpath) {
				return Mount{}, invalidMount(am.Type, "subpath must be a relative path within the volume")
			}
			m.Subpath = filepath.Clean(am.VolumeOptions.Subpath)
		}
	case mount.TypeTmpfs:
		if am.Source != "" {
			return Mount{}, invalidMount(am.Type, "field Source must not be specified")
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

// resolveMounts turns Config.Volumes, VolumesFrom, Binds, Mounts and Tmpfs
// into the container's mounts, creating the volumes they name (as Docker
// does at create). Later sources override image volumes at the same place;
// two explicit mounts at one place are an error.
func (s *Service) resolveMounts(cfg *container.Config, hc *container.HostConfig) (_ []Mount, retErr error) {
	byDst := map[string]Mount{}
	explicit := map[string]bool{}
	add := func(m Mount, isExplicit bool) error {
		if isExplicit && explicit[m.Destination] {
			return fmt.Errorf("Duplicate mount point: %s: %w", m.Destination, errdefs.ErrInvalidArgument)
		}
		explicit[m.Destination] = explicit[m.Destination] || isExplicit
		byDst[m.Destination] = m
		return nil
	}
	for _, from := range hc.VolumesFrom {
		ref, mode, _ := strings.Cut(from, ":")
		if mode != "" && mode != "ro" && mode != "rw" {
			return nil, fmt.Errorf("invalid mode for volumes-from: %s: %w", mode, errdefs.ErrInvalidArgument)
		}
		other, err := s.Get(ref)
		if err != nil {
			return nil, err
		}
		other.mu.Lock()
		ms := append([]Mount(nil), other.Mounts...)
		other.mu.Unlock()
		for _, m := range ms {
			if m.Type == mount.TypeTmpfs {
				continue
			}
			m.Anonymous = false // it belongs to the other container
			if mode != "" {
				m.RW = mode == "rw"
			}
			byDst[m.Destination] = m
		}
	}
	for _, b := range hc.Binds {
		m, err := parseBind(b)
		if err != nil {
			return nil, err
		}
		if err := add(m, true); err != nil {
			return nil, err
		}
	}
	for _, am := range hc.Mounts {
		m, err := fromAPIMount(am)
		if err != nil {
			return nil, err
		}
		if err := add(m, true); err != nil {
			return nil, err
		}
	}
	for dst, opts := range hc.Tmpfs {
		d, err := checkDestination(mount.TypeTmpfs, dst)
		if err != nil {
			return nil, err
		}
		if err := add(Mount{Type: mount.TypeTmpfs, Destination: d, RW: !strings.Contains(","+opts+",", ",ro,"), Data: opts}, true); err != nil {
			return nil, err
		}
	}
	vols := make([]string, 0, len(cfg.Volumes))
	for v := range cfg.Volumes {
		vols = append(vols, v)
	}
	sort.Strings(vols)
	for _, v := range vols {
		d, err := checkDestination(mount.TypeVolume, v)
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
	// create the volumes; undo the anonymous ones if a later one fails
	defer func() {
		if retErr != nil {
			for _, m := range out {
				if m.Anonymous {
					_ = s.volumes.Remove(m.Name, true)
				}
			}
		}
	}()
	for i := range out {
		m := &out[i]
		if m.Type != mount.TypeVolume {
			continue
		}
		opts := volumes.CreateOptions{Name: m.Name}
		if m.Name == "" {
			opts.Labels = map[string]string{volumes.AnonymousLabel: ""}
		} else if _, err := s.volumes.Get(m.Name); err == nil {
			continue
		}
		for _, am := range hc.Mounts {
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
		v, err := s.volumes.Create(opts)
		if err != nil {
			return nil, err
		}
		if m.Name == "" {
			m.Name, m.Anonymous = v.Name, true
		}
	}
	return out, nil
}

// mountPoints is the Mounts list of inspect and ps.
func (s *Service) mountPoints(c *Container) []container.MountPoint {
	out := make([]container.MountPoint, 0, len(c.Mounts))
	for _, m := range c.Mounts {
		mp := container.MountPoint{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation}
		if m.Type == mount.TypeVolume {
			mp.Source, mp.Driver = s.volumes.Mountpoint(m.Name), "local"
		}
		out = append(out, mp)
	}
	return out
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
				if src, err = subpathSource(src, m.Subpath); err != nil {
					return nil, nil, err
				}
				break // a part of a volume is never populated from the image
			}
			if !m.NoCopy {
				if err := copyUp(c.rootfs(), m.Destination, src); err != nil {
					return nil, nil, fmt.Errorf("populate volume %s from %s: %w", m.Name, m.Destination, err)
				}
			}
		case mount.TypeBind:
			src = m.Source
			if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
				if m.MustExist {
					return nil, nil, invalidMount(m.Type, "bind source path does not exist: %s", src)
				}
				if err := os.MkdirAll(src, 0o755); err != nil {
					return nil, nil, fmt.Errorf("error while creating mount source path '%s': %w", src, err)
				}
			}
		case mount.TypeTmpfs:
			opts := []string{"nosuid", "nodev", "noexec"}
			if m.Data != "" {
				opts = append(opts, strings.Split(m.Data, ",")...)
			}
			ms = append(ms, specs.Mount{Destination: m.Destination, Type: "tmpfs", Source: "tmpfs", Options: opts})
			continue
		}
		opts := []string{"rbind"}
		if m.NonRecursive {
			opts[0] = "bind"
		}
		if !m.RW {
			opts = append(opts, "ro")
			// read-only reaches the mounts below the source too (API 1.44's
			// default), unless the user asked for the top one only
			if !m.ReadOnlyNonRecursive && !m.NonRecursive {
				opts = append(opts, "rro")
			}
		}
		prop := string(m.Propagation)
		if prop == "" {
			prop = string(mount.PropagationRPrivate)
		}
		opts = append(opts, prop)
		ms = append(ms, specs.Mount{Destination: m.Destination, Type: "bind", Source: src, Options: opts})
	}
	return ms, release, nil
}

// copyUp copies what the image has at dst into an empty volume dir, as
// Docker does for a new volume over a non-empty image directory. The path
// is resolved inside the rootfs, so image symlinks cannot point it outside.
func copyUp(rootfs, dst, vol string) error {
	ents, err := os.ReadDir(vol)
	if err != nil || len(ents) > 0 {
		return err
	}
	src, err := securejoin.Resolve(rootfs, dst)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(src)
	if err != nil || !fi.IsDir() {
		return nil // nothing to copy
	}
	if err := copyMeta(src, vol, fi); err != nil {
		return err
	}
	return copyTree(src, vol)
}

func copyTree(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		sp, dp := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		fi, err := os.Lstat(sp)
		if err != nil {
			return err
		}
		switch mode := fi.Mode(); {
		case mode.IsDir():
			if err := os.Mkdir(dp, 0o700); err != nil {
				return err
			}
			if err := copyTree(sp, dp); err != nil {
				return err
			}
		case mode&os.ModeSymlink != 0:
			target, err := os.Readlink(sp)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, dp); err != nil {
				return err
			}
		case mode.IsRegular():
			if err := copyFile(sp, dp); err != nil {
				return err
			}
		default:
			st := fi.Sys().(*syscall.Stat_t)
			if err := unix.Mknod(dp, st.Mode, int(st.Rdev)); err != nil {
				return err
			}
		}
		if err := copyMeta(sp, dp, fi); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyMeta gives dst src's owner, mode and times.
func copyMeta(src, dst string, fi os.FileInfo) error {
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(st.Atim.Nano()), unix.NsecToTimespec(st.Mtim.Nano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW)
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

// subpathSource is the directory subpath names inside a volume's root,
// symlinks resolved as if the root were "/". It must exist (dockerd's
// "cannot access path").
func subpathSource(root, subpath string) (string, error) {
	src, err := securejoin.Resolve(root, subpath)
	if err == nil {
		_, err = os.Stat(src)
	}
	if err != nil {
		return "", fmt.Errorf("cannot access path %s: %v: %w", filepath.Join(root, subpath), err, errdefs.ErrNotFound)
	}
	return src, nil
}
