package oci

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// networkMounts returns the /etc/resolv.conf, /etc/hostname and /etc/hosts
// binds (Docker's NetworkMounts): rbind, rprivate, read-only with --read-only.
func networkMounts(o Options) []specs.Mount {
	var out []specs.Mount
	add := func(src, dst string) {
		if src == "" {
			return
		}
		opts := []string{"rbind"}
		if o.HostConfig.ReadonlyRootfs {
			opts = append(opts, "ro")
		}
		opts = append(opts, "rprivate")
		out = append(out, specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts})
	}
	add(o.ResolvConfPath, "/etc/resolv.conf")
	add(o.HostnamePath, "/etc/hostname")
	add(o.HostsPath, "/etc/hosts")
	return out
}

// sortMounts orders mounts so parents come before children (Docker sorts by
// the number of path components).
func sortMounts(ms []specs.Mount) {
	parts := func(p string) int { return len(strings.Split(strings.TrimSuffix(p, "/"), "/")) }
	sort.SliceStable(ms, func(i, j int) bool { return parts(ms[i].Destination) < parts(ms[j].Destination) })
}

func removeOption(opts []string, opt string) []string {
	return slices.DeleteFunc(slices.Clone(opts), func(o string) bool { return o == opt })
}

// applyMounts merges Docker's default mounts in s with the user mounts as
// Docker's withMounts: user mounts override defaults at the same place, a
// user /dev drops the default mounts below /dev, /dev/shm gets its size (or
// goes with --ipc none), --read-only makes the remaining defaults read-only,
// and privileged containers get /sys and cgroups writable and no masked paths.
func applyMounts(s *specs.Spec, o Options, sec securityOptions) {
	hc := o.HostConfig
	user := append(networkMounts(o), o.ExtraMounts...)
	sortMounts(user)
	userDest := make(map[string]bool, len(user))
	for _, m := range user {
		userDest[m.Destination] = true
	}

	shmSize := hc.ShmSize
	if shmSize == 0 {
		shmSize = DefaultShmSize
	}
	var mounts []specs.Mount
	for _, m := range s.Mounts {
		if userDest[m.Destination] || (userDest["/dev"] && strings.HasPrefix(m.Destination, "/dev/")) {
			continue
		}
		if m.Destination == "/dev/shm" {
			switch {
			case hc.IpcMode.IsNone():
				continue
			case o.ShmSource != "":
				m = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: o.ShmSource, Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
			default:
				m.Options = append(slices.Clone(m.Options), "size="+strconv.FormatInt(shmSize, 10))
			}
		}
		mounts = append(mounts, m)
	}
	mounts = append(mounts, user...)

	if hc.ReadonlyRootfs {
		for i, m := range mounts {
			switch m.Destination {
			case "/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev":
				continue
			}
			if !userDest[m.Destination] && !slices.Contains(m.Options, "ro") {
				mounts[i].Options = append(slices.Clone(m.Options), "ro")
			}
		}
	}
	if hc.Privileged {
		for i, m := range mounts {
			if m.Destination == "/sys" {
				mounts[i].Options = removeOption(m.Options, "ro")
			}
		}
		s.Linux.MaskedPaths = nil
		s.Linux.ReadonlyPaths = nil
	}
	writableCgroups := hc.Privileged
	if sec.writableCgroups != nil {
		writableCgroups = *sec.writableCgroups
	}
	if writableCgroups {
		for i, m := range mounts {
			if m.Type == "cgroup" {
				mounts[i].Options = removeOption(m.Options, "ro")
			}
		}
	}
	s.Mounts = mounts
	if hc.MaskedPaths != nil {
		s.Linux.MaskedPaths = slices.Clone(hc.MaskedPaths)
	}
	if hc.ReadonlyPaths != nil {
		s.Linux.ReadonlyPaths = slices.Clone(hc.ReadonlyPaths)
	}
}
