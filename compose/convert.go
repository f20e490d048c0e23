package compose

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// createConfig is what one container of a service is created with.
type createConfig struct {
	Name       string
	Config     *container.Config
	HostConfig *container.HostConfig
	Networking *network.NetworkingConfig
}

// ContainerName is the name of a service's number'th container: its
// container_name, or project-service-number as Docker Compose v2 names it.
func ContainerName(project string, s types.ServiceConfig, number int) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return fmt.Sprintf("%s-%s-%d", project, s.Name, number)
}

// ImageName is the image a service runs: its image, or the one its build
// makes (project-service, as Docker Compose names it).
func ImageName(p *types.Project, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return p.Name + "-" + s.Name
}

// projectLabels are the labels every resource of the project carries.
func projectLabels(p *types.Project) map[string]string {
	l := map[string]string{ProjectLabel: p.Name, VersionLabel: Version}
	return l
}

// serviceLabels are the labels of a service's number'th container.
func serviceLabels(p *types.Project, s types.ServiceConfig, number int, oneoff bool) (map[string]string, error) {
	hash, err := ServiceHash(s)
	if err != nil {
		return nil, err
	}
	l := map[string]string{}
	for k, v := range s.Labels {
		l[k] = v
	}
	for k, v := range projectLabels(p) {
		l[k] = v
	}
	l[ServiceLabel] = s.Name
	l[ConfigHashLabel] = hash
	l[OneoffLabel] = "False"
	if oneoff {
		l[OneoffLabel] = "True"
	}
	if number > 0 {
		l[ContainerNumberLabel] = strconv.Itoa(number)
	}
	l[WorkingDirLabel] = p.WorkingDir
	l[ConfigFilesLabel] = strings.Join(p.ComposeFiles, ",")
	var deps []string
	for name, d := range s.DependsOn {
		deps = append(deps, fmt.Sprintf("%s:%s:%t", name, d.Condition, d.Restart))
	}
	sort.Strings(deps)
	l[DependenciesLabel] = strings.Join(deps, ",")
	return l, nil
}

// containerConfig converts a service into the create request of its
// number'th container.
func containerConfig(p *types.Project, s types.ServiceConfig, number int, oneoff bool) (*createConfig, error) {
	labels, err := serviceLabels(p, s, number, oneoff)
	if err != nil {
		return nil, err
	}
	exposed, bindings, err := ports(s)
	if err != nil {
		return nil, err
	}
	cfg := &container.Config{
		Hostname:     s.Hostname,
		Domainname:   s.DomainName,
		User:         s.User,
		ExposedPorts: exposed,
		Tty:          s.Tty,
		OpenStdin:    s.StdinOpen,
		AttachStdout: true,
		AttachStderr: true,
		Cmd:          s.Command,
		Entrypoint:   s.Entrypoint,
		Image:        ImageName(p, s),
		WorkingDir:   s.WorkingDir,
		Labels:       labels,
		StopSignal:   s.StopSignal,
		Env:          env(s.Environment),
		Healthcheck:  healthcheck(s.HealthCheck),
		StopTimeout:  seconds(s.StopGracePeriod),
	}
	binds, mounts, err := volumes(p, s)
	if err != nil {
		return nil, err
	}
	tmpfs := map[string]string{}
	for _, t := range s.Tmpfs {
		k, v, _ := strings.Cut(t, ":")
		tmpfs[k] = v
	}
	var dns []netip.Addr
	for _, d := range s.DNS {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return nil, fmt.Errorf("service %q: invalid DNS address %q", s.Name, d)
		}
		dns = append(dns, a)
	}
	name := ContainerName(p.Name, s, number)
	mode, networking, err := networks(p, s, name)
	if err != nil {
		return nil, err
	}
	hc := &container.HostConfig{
		Binds:          binds,
		Mounts:         mounts,
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		NetworkMode:    mode,
		Init:           s.Init,
		IpcMode:        container.IpcMode(s.Ipc),
		CgroupnsMode:   container.CgroupnsMode(s.Cgroup),
		ReadonlyRootfs: s.ReadOnly,
		RestartPolicy:  restartPolicy(s),
		ShmSize:        int64(s.ShmSize),
		Sysctls:        s.Sysctls,
		PortBindings:   bindings,
		Resources:      resources(s),
		VolumesFrom:    s.VolumesFrom,
		DNS:            dns,
		DNSSearch:      s.DNSSearch,
		DNSOptions:     s.DNSOpts,
		ExtraHosts:     s.ExtraHosts.AsList(":"),
		SecurityOpt:    s.SecurityOpt,
		UTSMode:        container.UTSMode(s.Uts),
		Privileged:     s.Privileged,
		PidMode:        container.PidMode(s.Pid),
		Tmpfs:          tmpfs,
		Runtime:        s.Runtime,
		GroupAdd:       s.GroupAdd,
		OomScoreAdj:    int(s.OomScoreAdj),
		Links:          links(p, s),
	}
	if s.Logging != nil {
		hc.LogConfig = container.LogConfig{Type: s.Logging.Driver, Config: s.Logging.Options}
	}
	return &createConfig{Name: name, Config: cfg, HostConfig: hc, Networking: networking}, nil
}

func env(m types.MappingWithEquals) []string {
	var out []string
	for k, v := range m {
		if v == nil {
			out = append(out, k)
		} else {
			out = append(out, k+"="+*v)
		}
	}
	sort.Strings(out)
	return out
}

func seconds(d *types.Duration) *int {
	if d == nil {
		return nil
	}
	s := int(time.Duration(*d).Seconds())
	return &s
}

func healthcheck(h *types.HealthCheckConfig) *container.HealthConfig {
	if h == nil {
		return nil
	}
	if h.Disable {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	hc := &container.HealthConfig{Test: h.Test}
	dur := func(d *types.Duration) time.Duration {
		if d == nil {
			return 0
		}
		return time.Duration(*d)
	}
	hc.Interval, hc.Timeout, hc.StartPeriod, hc.StartInterval = dur(h.Interval), dur(h.Timeout), dur(h.StartPeriod), dur(h.StartInterval)
	if h.Retries != nil {
		hc.Retries = int(*h.Retries)
	}
	return hc
}

// ports are a service's exposed ports and published bindings.
func ports(s types.ServiceConfig) (network.PortSet, network.PortMap, error) {
	exposed := network.PortSet{}
	for _, e := range s.Expose {
		spec := e
		if !strings.Contains(spec, "/") {
			spec += "/tcp"
		}
		pr, err := network.ParsePortRange(spec)
		if err != nil {
			return nil, nil, fmt.Errorf("service %q: expose %q: %w", s.Name, e, err)
		}
		for p := range pr.All() {
			exposed[p] = struct{}{}
		}
	}
	bindings := network.PortMap{}
	for _, pc := range s.Ports {
		proto := pc.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port, err := network.ParsePort(fmt.Sprintf("%d/%s", pc.Target, proto))
		if err != nil {
			return nil, nil, fmt.Errorf("service %q: port %d: %w", s.Name, pc.Target, err)
		}
		exposed[port] = struct{}{}
		var ip netip.Addr
		if pc.HostIP != "" {
			if ip, err = netip.ParseAddr(pc.HostIP); err != nil {
				return nil, nil, fmt.Errorf("service %q: host_ip %q: %w", s.Name, pc.HostIP, err)
			}
		}
		bindings[port] = append(bindings[port], network.PortBinding{HostIP: ip, HostPort: pc.Published})
	}
	return exposed, bindings, nil
}

// volumes are a service's binds (short bind syntax, whose missing host
// path the daemon creates) and mounts (everything else).
func volumes(p *types.Project, s types.ServiceConfig) ([]string, []mount.Mount, error) {
	var binds []string
	var mounts []mount.Mount
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeBind:
			if v.Bind == nil || v.Bind.CreateHostPath {
				b := v.Source + ":" + v.Target
				var opts []string
				if v.ReadOnly {
					opts = append(opts, "ro")
				}
				if v.Bind != nil && v.Bind.Propagation != "" {
					opts = append(opts, v.Bind.Propagation)
				}
				if v.Bind != nil && v.Bind.SELinux != "" {
					opts = append(opts, v.Bind.SELinux)
				}
				if len(opts) > 0 {
					b += ":" + strings.Join(opts, ",")
				}
				binds = append(binds, b)
				continue
			}
			m := mount.Mount{Type: mount.TypeBind, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Bind.Propagation != "" {
				m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(v.Bind.Propagation)}
			}
			mounts = append(mounts, m)
		case types.VolumeTypeVolume:
			m := mount.Mount{Type: mount.TypeVolume, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Source != "" {
				vc, ok := p.Volumes[v.Source]
				if !ok {
					return nil, nil, fmt.Errorf("service %q refers to undefined volume %s: invalid compose project", s.Name, v.Source)
				}
				m.Source = vc.Name
			}
			if v.Volume != nil {
				m.VolumeOptions = &mount.VolumeOptions{NoCopy: v.Volume.NoCopy, Subpath: v.Volume.Subpath}
			}
			mounts = append(mounts, m)
		case types.VolumeTypeTmpfs:
			m := mount.Mount{Type: mount.TypeTmpfs, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Tmpfs != nil {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size), Mode: os.FileMode(v.Tmpfs.Mode)}
			}
			mounts = append(mounts, m)
		default:
			return nil, nil, fmt.Errorf("service %q: volume type %q is not supported", s.Name, v.Type)
		}
	}
	// secrets and configs from files are bound read-only at their
	// targets; the others are copied in once the container exists
	// (injectFiles)
	for _, ref := range fileReferences(s) {
		src, ok := ref.source(p)
		if !ok {
			return nil, nil, fmt.Errorf("service %q refers to undefined %s %s: invalid compose project", s.Name, ref.kind, ref.Source)
		}
		if src.External {
			return nil, nil, fmt.Errorf("unsupported external %s %s", ref.kind, src.Name)
		}
		if src.File == "" {
			continue
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: src.File, Target: ref.target(), ReadOnly: true})
	}
	return binds, mounts, nil
}

// networks are a service's network mode and endpoints: its first network
// by priority is the mode, every network gets the container's name, the
// service's name and its aliases as DNS names.
func networks(p *types.Project, s types.ServiceConfig, name string) (container.NetworkMode, *network.NetworkingConfig, error) {
	if s.NetworkMode != "" {
		return container.NetworkMode(s.NetworkMode), nil, nil
	}
	if len(p.Networks) == 0 {
		return network.NetworkNone, nil, nil
	}
	keys := s.NetworksByPriority()
	if len(keys) == 0 {
		keys = []string{"default"}
	}
	eps := map[string]*network.EndpointSettings{}
	for _, key := range keys {
		n, ok := p.Networks[key]
		if !ok {
			return "", nil, fmt.Errorf("service %q refers to undefined network %s: invalid compose project", s.Name, key)
		}
		cfg := s.Networks[key]
		ep := &network.EndpointSettings{Aliases: []string{name, s.Name}}
		if cfg != nil {
			ep.Aliases = append(ep.Aliases, cfg.Aliases...)
			ep.GwPriority = cfg.GatewayPriority
			ipam := &network.EndpointIPAMConfig{}
			set := false
			if cfg.Ipv4Address != "" {
				a, err := netip.ParseAddr(cfg.Ipv4Address)
				if err != nil {
					return "", nil, fmt.Errorf("service %q: ipv4_address %q: %w", s.Name, cfg.Ipv4Address, err)
				}
				ipam.IPv4Address, set = a, true
			}
			if cfg.Ipv6Address != "" {
				a, err := netip.ParseAddr(cfg.Ipv6Address)
				if err != nil {
					return "", nil, fmt.Errorf("service %q: ipv6_address %q: %w", s.Name, cfg.Ipv6Address, err)
				}
				ipam.IPv6Address, set = a, true
			}
			if set {
				ep.IPAMConfig = ipam
			}
		}
		eps[n.Name] = ep
	}
	return container.NetworkMode(p.Networks[keys[0]].Name), &network.NetworkingConfig{EndpointsConfig: eps}, nil
}

// links are a service's links as the daemon takes them: to the first
// container of the linked service.
func links(p *types.Project, s types.ServiceConfig) []string {
	var out []string
	for _, l := range s.Links {
		svc, alias, ok := strings.Cut(l, ":")
		if !ok {
			alias = svc
		}
		if other, err := p.GetService(svc); err == nil {
			out = append(out, ContainerName(p.Name, other, 1)+":"+alias)
		}
	}
	out = append(out, s.ExternalLinks...)
	return out
}

func restartPolicy(s types.ServiceConfig) container.RestartPolicy {
	var rp container.RestartPolicy
	mode := func(c string) container.RestartPolicyMode {
		switch c {
		case "none", "no":
			return container.RestartPolicyDisabled
		case "any", "always":
			return container.RestartPolicyAlways
		}
		return container.RestartPolicyMode(c)
	}
	if s.Restart != "" {
		name, n, _ := strings.Cut(s.Restart, ":")
		rp.Name = mode(name)
		rp.MaximumRetryCount, _ = strconv.Atoi(n)
	}
	if s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		rp = container.RestartPolicy{Name: mode(s.Deploy.RestartPolicy.Condition)}
		if m := s.Deploy.RestartPolicy.MaxAttempts; m != nil {
			rp.MaximumRetryCount = int(*m)
		}
	}
	return rp
}

func resources(s types.ServiceConfig) container.Resources {
	r := container.Resources{
		CPUShares:         s.CPUShares,
		CPUPeriod:         s.CPUPeriod,
		CPUQuota:          s.CPUQuota,
		CpusetCpus:        s.CPUSet,
		Memory:            int64(s.MemLimit),
		MemoryReservation: int64(s.MemReservation),
		MemorySwap:        int64(s.MemSwapLimit),
		NanoCPUs:          int64(s.CPUS * 1e9),
		CgroupParent:      s.CgroupParent,
		Ulimits:           ulimits(s.Ulimits),
	}
	if s.PidsLimit != 0 {
		n := s.PidsLimit
		r.PidsLimit = &n
	}
	if s.OomKillDisable {
		t := true
		r.OomKillDisable = &t
	}
	if s.Deploy != nil {
		if l := s.Deploy.Resources.Limits; l != nil {
			if l.MemoryBytes != 0 {
				r.Memory = int64(l.MemoryBytes)
			}
			if l.NanoCPUs != 0 {
				r.NanoCPUs = int64(l.NanoCPUs * 1e9)
			}
			if l.Pids != 0 {
				n := l.Pids
				r.PidsLimit = &n
			}
		}
		if rs := s.Deploy.Resources.Reservations; rs != nil && rs.MemoryBytes != 0 {
			r.MemoryReservation = int64(rs.MemoryBytes)
		}
	}
	for _, d := range s.Devices {
		r.Devices = append(r.Devices, container.DeviceMapping{PathOnHost: d.Source, PathInContainer: d.Target, CgroupPermissions: d.Permissions})
	}
	return r
}

func ulimits(m map[string]*types.UlimitsConfig) []*container.Ulimit {
	var out []*container.Ulimit
	for name, u := range m {
		if u.Single != 0 {
			out = append(out, &container.Ulimit{Name: name, Soft: int64(u.Single), Hard: int64(u.Single)})
		} else {
			out = append(out, &container.Ulimit{Name: name, Soft: int64(u.Soft), Hard: int64(u.Hard)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
