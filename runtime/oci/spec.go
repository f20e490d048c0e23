package oci

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Options is what Spec needs to build a container's runtime spec.
type Options struct {
	ID     string
	Rootfs string // absolute host path of the mounted container rootfs (spec.Root.Path)
	// Config is already merged with the image config (Env, Cmd, Entrypoint,
	// WorkingDir, User, StopSignal).
	Config     *container.Config
	HostConfig *container.HostConfig
	Hostname   string // already decided by the caller
	// Host files bind-mounted at /etc/hostname, /etc/hosts and /etc/resolv.conf;
	// empty ones are skipped.
	HostnamePath, HostsPath, ResolvConfPath string
	CgroupsPath                             string // e.g. "/berth/<id>" (cgroupfs driver)
	// InitPath is the host path of berth-init, bind-mounted read-only at
	// /sbin/docker-init and run as PID 1 when HostConfig.Init is true.
	InitPath  string
	NetNSPath string // "" → new network namespace; else join this path
	// IpcNSPath and PidNSPath are the namespaces of the containers that
	// IpcMode and PidMode "container:<id>" name (/proc/<pid>/ns/…).
	IpcNSPath, PidNSPath string
	// ShmSource, if set, is bind-mounted at /dev/shm instead of a private
	// tmpfs: a shareable container's own, its donor's, or the host's.
	ShmSource   string
	ExtraMounts []specs.Mount // volumes etc., merged after the defaults
}

// Spec builds the OCI runtime spec for a container with Docker's defaults.
// Invalid settings yield errors that match errdefs.ErrInvalidArgument.
func Spec(o Options) (*specs.Spec, error) {
	if o.Config == nil {
		o.Config = &container.Config{}
	}
	if o.HostConfig == nil {
		o.HostConfig = &container.HostConfig{}
	}
	hc := o.HostConfig
	if o.Rootfs == "" || !filepath.IsAbs(o.Rootfs) {
		return nil, invalidf("rootfs path %q must be absolute", o.Rootfs)
	}
	args := append(append([]string(nil), o.Config.Entrypoint...), o.Config.Cmd...)
	if len(args) == 0 {
		return nil, invalidf("no command specified")
	}
	if err := validateResources(&hc.Resources); err != nil {
		return nil, err
	}
	if err := validateOOMScoreAdj(hc.OomScoreAdj); err != nil {
		return nil, err
	}
	if hc.ShmSize < 0 {
		return nil, invalidf("SHM size can not be less than 0")
	}
	sec, err := parseSecurityOpt(hc.SecurityOpt)
	if err != nil {
		return nil, err
	}

	s := defaultSpec()
	s.Root = &specs.Root{Path: o.Rootfs, Readonly: hc.ReadonlyRootfs}
	s.Hostname = o.Hostname
	s.Annotations = maps.Clone(hc.Annotations)
	s.Linux.CgroupsPath = o.CgroupsPath
	if s.Linux.CgroupsPath == "" && o.ID != "" {
		parent := hc.CgroupParent
		if parent == "" {
			parent = "/berth"
		}
		s.Linux.CgroupsPath = filepath.Join(parent, o.ID)
	}

	p := s.Process
	p.Args = args
	if hc.Init != nil && *hc.Init && !hc.PidMode.IsHost() && !hc.PidMode.IsContainer() {
		if o.InitPath == "" {
			return nil, fmt.Errorf("container %s: --init requested but no init binary is configured", o.ID)
		}
		p.Args = append([]string{inContainerInitPath, "--"}, args...)
		s.Mounts = append(s.Mounts, specs.Mount{
			Destination: inContainerInitPath, Type: "bind", Source: o.InitPath, Options: []string{"bind", "ro"},
		})
	}
	p.Cwd = o.Config.WorkingDir
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	p.Env = containerEnv(o.Hostname, o.Config.Tty, o.Config.Env)
	p.Terminal = o.Config.Tty
	if p.Terminal && hc.ConsoleSize != [2]uint{} {
		p.ConsoleSize = &specs.Box{Height: hc.ConsoleSize[0], Width: hc.ConsoleSize[1]}
	}

	if o.Config.Domainname != "" {
		s.Linux.Sysctl["kernel.domainname"] = o.Config.Domainname
	}
	if !hc.NetworkMode.IsHost() && !hc.NetworkMode.IsContainer() {
		// Docker's defaults for a private network namespace: unprivileged
		// ping and low ports, as the default capabilities allow them anyway.
		if sysctlExists("net.ipv4.ping_group_range") {
			s.Linux.Sysctl["net.ipv4.ping_group_range"] = "0 2147483647"
		}
		if sysctlExists("net.ipv4.ip_unprivileged_port_start") {
			s.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"] = "0"
		}
	}
	linuxResources(hc.Resources, s.Linux.Resources)
	maps.Copy(s.Linux.Sysctl, hc.Sysctls)
	if err := applyDevices(s, hc); err != nil {
		return nil, err
	}
	if p.Rlimits, err = rlimits(hc.Ulimits); err != nil {
		return nil, err
	}
	if err := applyNamespaces(s, o); err != nil {
		return nil, err
	}
	caps, err := TweakCapabilities(DefaultCapabilities(), hc.CapAdd, hc.CapDrop, hc.Privileged)
	if err != nil {
		return nil, err
	}
	setCapabilities(p, caps)
	if s.Linux.Seccomp, err = seccompFor(s, sec.seccompProfile, hc.Privileged); err != nil {
		return nil, err
	}
	applyMounts(s, o, sec)

	oom := hc.OomScoreAdj
	p.OOMScoreAdj = &oom
	p.NoNewPrivileges = sec.noNewPrivileges
	var home string
	if p.User, home, err = resolveUser(o.Rootfs, o.Config.User, hc.GroupAdd); err != nil {
		return nil, err
	}
	if _, ok := lookupEnv(p.Env, "HOME"); !ok {
		// runc would add it from the passwd entry too; make it explicit.
		p.Env = append(p.Env, "HOME="+home)
	}
	return s, nil
}

// setCapabilities gives the process caps as bounding, effective and permitted
// sets; like Docker 25+ it leaves inheritable and ambient empty.
func setCapabilities(p *specs.Process, caps []string) {
	p.Capabilities = &specs.LinuxCapabilities{
		Bounding:  caps,
		Effective: append([]string(nil), caps...),
		Permitted: append([]string(nil), caps...),
	}
}

// sysctlExists reports whether the host kernel has sysctl s; runc refuses
// unknown ones.
func sysctlExists(s string) bool {
	_, err := os.Stat(filepath.Join("/proc/sys", strings.ReplaceAll(s, ".", "/")))
	return err == nil
}
