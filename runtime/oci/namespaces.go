package oci

import (
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CgroupV2 reports whether /sys/fs/cgroup is the unified (v2) hierarchy.
var CgroupV2 = sync.OnceValue(func() bool {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return false
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC
})

// hostSupportsCgroupns reports whether the kernel has cgroup namespaces.
func hostSupportsCgroupns() bool {
	_, err := os.Stat("/proc/self/ns/cgroup")
	return err == nil
}

func setNamespace(s *specs.Spec, ns specs.LinuxNamespace) {
	for i, n := range s.Linux.Namespaces {
		if n.Type == ns.Type {
			s.Linux.Namespaces[i] = ns
			return
		}
	}
	s.Linux.Namespaces = append(s.Linux.Namespaces, ns)
}

func removeNamespace(s *specs.Spec, t specs.LinuxNamespaceType) {
	s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == t })
}

// notImplemented marks modes that need other containers (container:<id>).
func notImplemented(what string, mode any) error {
	return fmt.Errorf("%s %v: %w", what, mode, errdefs.ErrNotImplemented)
}

// cgroupnsMode returns the effective cgroup namespace mode: Docker's default
// is private on cgroup v2 and host on v1 (and for privileged containers on v1).
func cgroupnsMode(hc *container.HostConfig) container.CgroupnsMode {
	if !hc.CgroupnsMode.IsEmpty() {
		return hc.CgroupnsMode
	}
	if CgroupV2() {
		return container.CgroupnsModePrivate
	}
	return container.CgroupnsModeHost
}

// applyNamespaces sets the namespaces as Docker's WithNamespaces.
func applyNamespaces(s *specs.Spec, o Options) error {
	hc := o.HostConfig
	switch {
	case hc.NetworkMode.IsHost():
		removeNamespace(s, specs.NetworkNamespace)
	case o.NetNSPath != "":
		setNamespace(s, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: o.NetNSPath})
	case hc.NetworkMode.IsContainer():
		return notImplemented("network mode", hc.NetworkMode)
	}

	ipc := hc.IpcMode
	if !ipc.Valid() {
		return invalidf("invalid IPC mode: %v", ipc)
	}
	switch {
	case ipc.IsContainer():
		if o.IpcNSPath == "" {
			return notImplemented("IPC mode", ipc)
		}
		setNamespace(s, specs.LinuxNamespace{Type: specs.IPCNamespace, Path: o.IpcNSPath})
	case ipc.IsHost():
		removeNamespace(s, specs.IPCNamespace)
	}

	pid := hc.PidMode
	if !pid.Valid() {
		return invalidf("invalid PID mode: %v", pid)
	}
	switch {
	case pid.IsContainer():
		if o.PidNSPath == "" {
			return notImplemented("PID mode", pid)
		}
		setNamespace(s, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: o.PidNSPath})
	case pid.IsHost():
		removeNamespace(s, specs.PIDNamespace)
	}

	if !hc.UTSMode.Valid() {
		return invalidf("invalid UTS mode: %v", hc.UTSMode)
	}
	if hc.UTSMode.IsHost() {
		removeNamespace(s, specs.UTSNamespace)
		s.Hostname = ""
	}

	if !hc.CgroupnsMode.Valid() {
		return invalidf("invalid cgroup namespace mode: %v", hc.CgroupnsMode)
	}
	if cgroupnsMode(hc).IsPrivate() && hostSupportsCgroupns() {
		setNamespace(s, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	return nil
}
