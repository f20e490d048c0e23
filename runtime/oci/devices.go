package oci

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var errNotADevice = errors.New("not a device node")

// deviceFromPath describes the device node at path (containerd's DeviceFromPath).
func deviceFromPath(path string) (*specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return nil, err
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		typ = "b"
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFIFO:
		typ = "p"
	default:
		return nil, errNotADevice
	}
	fm := os.FileMode(st.Mode &^ unix.S_IFMT)
	uid, gid := st.Uid, st.Gid
	return &specs.LinuxDevice{
		Type:     typ,
		Path:     path,
		Major:    int64(unix.Major(st.Rdev)),
		Minor:    int64(unix.Minor(st.Rdev)),
		FileMode: &fm,
		UID:      &uid,
		GID:      &gid,
	}, nil
}

// hostDevices lists the device nodes under dir, as privileged containers get
// them (containerd's HostDevices: skips pts, shm, fd, mqueue, console, fifos).
func hostDevices(dir string) ([]specs.LinuxDevice, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list host devices: %w", err)
	}
	var out []specs.LinuxDevice
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			switch e.Name() {
			case "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev":
				continue
			}
			sub, err := hostDevices(p)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		if e.Name() == "console" {
			continue
		}
		d, err := deviceFromPath(p)
		if err != nil {
			if errors.Is(err, errNotADevice) || errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("host device %s: %w", p, err)
		}
		if d.Type == "p" {
			continue
		}
		out = append(out, *d)
	}
	return out, nil
}

func deviceRule(d specs.LinuxDevice, access string) specs.LinuxDeviceCgroup {
	return specs.LinuxDeviceCgroup{Allow: true, Type: d.Type, Major: i64(d.Major), Minor: i64(d.Minor), Access: access}
}

// devicesFromMapping resolves one --device mapping (a node, or a directory of
// nodes) as Docker's DevicesFromPath.
func devicesFromMapping(m container.DeviceMapping) ([]specs.LinuxDevice, []specs.LinuxDeviceCgroup, error) {
	host := m.PathOnHost
	if fi, err := os.Lstat(host); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if p, err := filepath.EvalSymlinks(host); err == nil {
			host = p
		}
	}
	d, err := deviceFromPath(host)
	if err == nil {
		d.Path = m.PathInContainer
		return []specs.LinuxDevice{*d}, []specs.LinuxDeviceCgroup{deviceRule(*d, m.CgroupPermissions)}, nil
	}
	var devs []specs.LinuxDevice
	var rules []specs.LinuxDeviceCgroup
	if errors.Is(err, errNotADevice) {
		if fi, e := os.Stat(host); e == nil && fi.IsDir() {
			_ = filepath.WalkDir(host, func(p string, _ os.DirEntry, _ error) error {
				cd, e := deviceFromPath(p)
				if e != nil {
					return nil
				}
				cd.Path = strings.Replace(p, host, m.PathInContainer, 1)
				devs = append(devs, *cd)
				rules = append(rules, deviceRule(*cd, m.CgroupPermissions))
				return nil
			})
		}
	}
	if len(devs) > 0 {
		return devs, rules, nil
	}
	return nil, nil, invalidf("error gathering device information while adding custom device %q: %s", m.PathOnHost, err)
}

var deviceCgroupRuleRe = regexp.MustCompile(`^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$`)

// parseDeviceCgroupRule parses a --device-cgroup-rule such as "c 1:3 rwm".
func parseDeviceCgroupRule(rule string) (specs.LinuxDeviceCgroup, error) {
	m := deviceCgroupRuleRe.FindStringSubmatch(rule)
	if m == nil {
		return specs.LinuxDeviceCgroup{}, invalidf("invalid device cgroup rule format: '%s'", rule)
	}
	num := func(s string) (*int64, error) {
		if s == "*" {
			return i64(-1), nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, invalidf("invalid device cgroup rule format: '%s'", rule)
		}
		return &n, nil
	}
	major, err := num(m[2])
	if err != nil {
		return specs.LinuxDeviceCgroup{}, err
	}
	minor, err := num(m[3])
	if err != nil {
		return specs.LinuxDeviceCgroup{}, err
	}
	return specs.LinuxDeviceCgroup{Allow: true, Type: m[1], Major: major, Minor: minor, Access: m[4]}, nil
}

// applyDevices sets the container's devices and device cgroup rules as
// Docker's WithDevices.
func applyDevices(s *specs.Spec, hc *container.HostConfig) error {
	if hc.Privileged {
		devs, err := hostDevices("/dev")
		if err != nil {
			return err
		}
		for _, m := range hc.Devices {
			if m.PathOnHost == m.PathInContainer {
				continue // already there through /dev
			}
			d, _, err := devicesFromMapping(m)
			if err != nil {
				return err
			}
			devs = append(devs, d...)
		}
		s.Linux.Devices = append(s.Linux.Devices, devs...)
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		return nil
	}
	for _, m := range hc.Devices {
		d, rules, err := devicesFromMapping(m)
		if err != nil {
			return err
		}
		s.Linux.Devices = append(s.Linux.Devices, d...)
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, rules...)
	}
	for _, r := range hc.DeviceCgroupRules {
		rule, err := parseDeviceCgroupRule(r)
		if err != nil {
			return err
		}
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, rule)
	}
	return nil
}
