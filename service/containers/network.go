package containers

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/ids"
	"github.com/berth-project/berth/network/dns"
	"github.com/berth-project/berth/network/netns"
	"github.com/berth-project/berth/service/networks"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// NetConfig is a container's membership of one network: what was asked
// at create or connect, and the endpoint while it runs.
type NetConfig struct {
	NetworkID  string            `json:"networkID"`
	Aliases    []string          `json:"aliases,omitempty"`
	IP         netip.Addr        `json:"ip,omitzero"`  // --ip
	IP6        netip.Addr        `json:"ip6,omitzero"` // --ip6
	LinkLocal  []netip.Addr      `json:"linkLocal,omitempty"`
	MAC        string            `json:"mac,omitempty"`
	Links      []string          `json:"links,omitempty"` // name:alias, resolved on user networks
	DriverOpts map[string]string `json:"driverOpts,omitempty"`
	GwPriority int               `json:"gwPriority,omitempty"`
	// Endpoint is the attachment while the container runs.
	Endpoint *networks.Endpoint `json:"endpoint,omitempty"`
}

// networkMode is the effective mode: "default" means bridge.
func networkMode(hc *container.HostConfig) container.NetworkMode {
	if hc.NetworkMode == "" || hc.NetworkMode == "default" {
		return network.NetworkBridge
	}
	return hc.NetworkMode
}

// usesBridge reports whether the container gets endpoints (bridge or a
// user-defined network) rather than host, none or another's namespace.
func usesBridge(hc *container.HostConfig) bool {
	m := networkMode(hc)
	return !m.IsHost() && !m.IsNone() && !m.IsContainer()
}

// resolveNetworks checks the networks a create names and returns the
// container's memberships by network name.
func (s *Service) resolveNetworks(hc *container.HostConfig, nc *network.NetworkingConfig) (map[string]*NetConfig, error) {
	mode := networkMode(hc)
	if mode.IsContainer() {
		if _, err := s.Get(mode.ConnectedContainer()); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if !usesBridge(hc) {
		return nil, nil
	}
	wanted := map[string]*network.EndpointSettings{string(mode): nil}
	if nc != nil {
		for name, es := range nc.EndpointsConfig {
			if name == "default" {
				name = network.NetworkBridge
			}
			wanted[name] = es
		}
	}
	out := map[string]*NetConfig{}
	for ref, es := range wanted {
		n, err := s.networks.Get(ref)
		if err != nil {
			return nil, err
		}
		if n.Driver != networks.DriverBridge {
			return nil, fmt.Errorf("container cannot be disconnected from host network or connected to host network: %w", errdefs.ErrInvalidArgument)
		}
		if err := validateEndpoint(n, es); err != nil {
			return nil, err
		}
		out[n.Name] = newNetConfig(n, es)
	}
	return out, nil
}

// netOrder lists c's networks, the primary (its NetworkMode) first.
func netOrder(c *Container) []string {
	if c.HostConfig == nil {
		return nil
	}
	primary := string(networkMode(c.HostConfig))
	names := make([]string, 0, len(c.Networks))
	for name := range c.Networks {
		if name != primary {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if _, ok := c.Networks[primary]; ok {
		names = append([]string{primary}, names...)
	}
	return names
}

func (c *Container) netnsPath() string { return filepath.Join(c.runDir, "netns") }

// setupNetwork prepares c's network for a start and returns the namespace
// path for the runtime ("" for a new empty one or the host's).
func (s *Service) setupNetwork(c *Container) (nsPath string, retErr error) {
	hc := c.HostConfig
	mode := networkMode(hc)
	switch {
	case mode.IsHost():
		return "", s.writeNetFiles(c, nil, true)
	case mode.IsNone():
		return "", s.writeNetFiles(c, nil, false)
	case mode.IsContainer():
		other, err := s.Get(mode.ConnectedContainer())
		if err != nil {
			return "", err
		}
		other.mu.Lock()
		pid, running := other.State.Pid, other.running()
		other.mu.Unlock()
		if !running {
			return "", fmt.Errorf("cannot join network namespace of a non running container: %s: %w", mode.ConnectedContainer(), errdefs.ErrConflict)
		}
		for _, f := range []string{"hosts", "resolv.conf"} {
			if b, err := os.ReadFile(filepath.Join(other.dir, f)); err == nil {
				_ = os.WriteFile(filepath.Join(c.dir, f), b, 0o644)
			}
		}
		return fmt.Sprintf("/proc/%d/ns/net", pid), nil
	}
	nsPath = c.netnsPath()
	if err := netns.Create(nsPath); err != nil {
		return "", err
	}
	defer func() {
		if retErr != nil {
			s.teardownNetwork(c)
		}
	}()
	var eps []*networks.Endpoint
	for i, name := range netOrder(c) {
		cfg := c.Networks[name]
		aliases := cfg.Aliases
		ep, err := s.networks.Join(nsPath, networks.JoinRequest{ContainerID: c.ID, Network: cfg.NetworkID, IfName: "eth" + strconv.Itoa(i),
			IP: cfg.IP, IP6: cfg.IP6, LinkLocal: cfg.LinkLocal, MAC: cfg.MAC, Aliases: aliases, Gateway: i == 0})
		if err != nil {
			return "", err
		}
		cfg.Endpoint = ep
		eps = append(eps, ep)
	}
	if len(eps) > 0 {
		wanted, err := publishedPorts(c.Config, hc)
		if err != nil {
			return "", err
		}
		ports, err := s.networks.Publish(eps[0], wanted)
		if err != nil {
			return "", err
		}
		c.Ports = ports
	}
	if err := s.writeNetFiles(c, eps, false); err != nil {
		return "", err
	}
	if s.needsDNS(c) {
		up := hc.DNS
		var upstream []string
		for _, a := range up {
			upstream = append(upstream, a.String())
		}
		if len(upstream) == 0 {
			upstream, _, _ = dns.HostResolvConf("/etc/resolv.conf")
		}
		srv, err := dns.Start(nsPath, s.dnsLookup(c.ID), upstream)
		if err != nil {
			return "", fmt.Errorf("embedded DNS server: %w", err)
		}
		c.dns = srv
	}
	return nsPath, nil
}

// needsDNS: containers on a user-defined network use the embedded resolver.
func (s *Service) needsDNS(c *Container) bool {
	for name := range c.Networks {
		if name != network.NetworkBridge {
			return true
		}
	}
	return false
}

// teardownNetwork undoes setupNetwork. Callers hold c.mu.
func (s *Service) teardownNetwork(c *Container) {
	if c.dns != nil {
		c.dns.Stop()
		c.dns = nil
	}
	if c.HostConfig == nil || usesBridge(c.HostConfig) {
		_ = netns.Remove(c.netnsPath()) // a missing one is fine
	}
	var primary *networks.Endpoint
	for _, name := range netOrder(c) {
		if ep := c.Networks[name].Endpoint; ep != nil {
			if primary == nil {
				primary = ep
			}
			if len(c.Ports) > 0 && ep == primary {
				s.networks.Unpublish(primary, c.Ports)
			}
			s.networks.Leave(ep)
			c.Networks[name].Endpoint = nil
		}
	}
	c.Ports = nil
}

// restoreNetwork takes back a running container's endpoints, ports and
// resolver after a daemon restart.
func (s *Service) restoreNetwork(c *Container) {
	var primary *networks.Endpoint
	for _, name := range netOrder(c) {
		if ep := c.Networks[name].Endpoint; ep != nil {
			if primary == nil {
				primary = ep
			}
			if err := s.networks.Restore(c.ID, ep); err != nil {
				fmt.Fprintf(os.Stderr, "berthd: restore endpoint of %s on %s: %v\n", ids.Short(c.ID), name, err)
			}
		}
	}
	if primary != nil && len(c.Ports) > 0 {
		if err := s.networks.Republish(primary, c.Ports); err != nil {
			fmt.Fprintf(os.Stderr, "berthd: republish ports of %s: %v\n", ids.Short(c.ID), err)
		}
	}
	if s.needsDNS(c) && c.dns == nil {
		upstream, _, _ := dns.HostResolvConf("/etc/resolv.conf")
		for _, a := range c.HostConfig.DNS {
			upstream = append([]string{a.String()}, upstream...)
		}
		if srv, err := dns.Start(c.netnsPath(), s.dnsLookup(c.ID), upstream); err == nil {
			c.dns = srv
		}
	}
}

// dnsLookup resolves, for container id, the names of the containers that
// share a user-defined network with it: name, aliases, short ID, hostname.
func (s *Service) dnsLookup(id string) dns.LookupFunc {
	return func(name string) []netip.Addr {
		self, err := s.Get(id)
		if err != nil {
			return nil
		}
		self.mu.Lock()
		mine := map[string]bool{}
		linked := map[string]string{} // network ID → the container an endpoint link names by this alias
		for n, cfg := range self.Networks {
			if n == network.NetworkBridge {
				continue
			}
			mine[cfg.NetworkID] = true
			for _, l := range cfg.Links {
				target, alias, _ := strings.Cut(l, ":")
				if alias == "" {
					alias = target
				}
				if strings.EqualFold(alias, name) {
					linked[cfg.NetworkID] = strings.TrimPrefix(target, "/")
				}
			}
		}
		self.mu.Unlock()
		var out []netip.Addr
		for _, c := range s.all() {
			c.mu.Lock()
			for _, cfg := range c.Networks {
				ep := cfg.Endpoint
				if ep == nil || !mine[cfg.NetworkID] || !c.running() {
					continue
				}
				match := strings.TrimPrefix(c.Name, "/") == name || ids.Short(c.ID) == name || strings.EqualFold(c.Hostname, name)
				// an endpoint link's alias resolves for the linking container only
				if t, ok := linked[cfg.NetworkID]; ok && (strings.TrimPrefix(c.Name, "/") == t || c.ID == t || ids.Short(c.ID) == t) {
					match = true
				}
				for _, a := range append(append([]string{}, cfg.Aliases...), ep.Aliases...) {
					match = match || strings.EqualFold(a, name)
				}
				if match {
					out = append(out, ep.IP)
					if ep.IP6.IsValid() {
						out = append(out, ep.IP6)
					}
				}
			}
			c.mu.Unlock()
		}
		return out
	}
}

// writeNetFiles writes c's hosts and resolv.conf for this run.
func (s *Service) writeNetFiles(c *Container, eps []*networks.Endpoint, host bool) error {
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
	if host {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(b)
		}
	}
	for _, h := range c.HostConfig.ExtraHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok {
			name, ip, _ = strings.Cut(h, "=")
		}
		if ip == "host-gateway" {
			ip = s.hostGateway()
		}
		hosts += ip + "\t" + name + "\n"
	}
	for _, l := range c.HostConfig.Links {
		hosts += s.linkLine(l)
	}
	if !host {
		if len(eps) > 0 {
			hosts += eps[0].IP.String() + "\t" + c.Hostname + "\n"
			if eps[0].IP6.IsValid() {
				hosts += eps[0].IP6.String() + "\t" + c.Hostname + "\n"
			}
		} else {
			hosts += "127.0.1.1\t" + c.Hostname + "\n"
		}
	}
	servers, search, options := dns.HostResolvConf("/etc/resolv.conf")
	var kept []string
	for _, ns := range servers {
		if !strings.HasPrefix(ns, "127.") && ns != "::1" {
			kept = append(kept, ns)
		}
	}
	if host {
		kept = servers
	}
	if len(kept) == 0 && !host {
		kept = []string{"8.8.8.8", "8.8.4.4"} // Docker's fallback
	}
	hc := c.HostConfig
	if len(hc.DNS) > 0 {
		kept = nil
		for _, a := range hc.DNS {
			kept = append(kept, a.String())
		}
	}
	if len(hc.DNSSearch) > 0 {
		search = hc.DNSSearch
	}
	if len(hc.DNSOptions) > 0 {
		options = hc.DNSOptions
	}
	var rc strings.Builder
	if s.needsDNS(c) && len(eps) > 0 {
		rc.WriteString("nameserver " + dns.Address + "\n")
		options = append(options, "ndots:0")
	} else {
		for _, ns := range kept {
			rc.WriteString("nameserver " + ns + "\n")
		}
	}
	if len(search) > 0 {
		rc.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	if len(options) > 0 {
		rc.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	if err := os.WriteFile(filepath.Join(c.dir, "hosts"), []byte(hosts), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.dir, "resolv.conf"), []byte(rc.String()), 0o644)
}

// hostGateway is the default bridge's gateway (Docker's host-gateway).
func (s *Service) hostGateway() string {
	if n, err := s.networks.Get(network.NetworkBridge); err == nil {
		return n.Gateway.String()
	}
	return "127.0.0.1"
}

// linkLine is the hosts line for a --link on the default bridge, as
// dockerd's addLegacyLinks: alias, the linked container's hostname, its
// name if that is not the alias.
func (s *Service) linkLine(link string) string {
	name, alias, err := parseLink(link)
	if err != nil {
		return ""
	}
	other, err := s.Get(name)
	if err != nil {
		return ""
	}
	other.mu.Lock()
	defer other.mu.Unlock()
	cfg := other.Networks[network.NetworkBridge]
	if cfg == nil || cfg.Endpoint == nil {
		return ""
	}
	names := []string{alias, other.Hostname}
	if n := strings.TrimPrefix(other.Name, "/"); n != alias {
		names = append(names, n)
	}
	return cfg.Endpoint.IP.String() + "\t" + strings.Join(names, " ") + "\n"
}

// publishedPorts turns PortBindings (and -P over the exposed ports) into
// the ports to publish.
func publishedPorts(cfg *container.Config, hc *container.HostConfig) ([]networks.Wanted, error) {
	bindings := network.PortMap{}
	for p, bs := range hc.PortBindings {
		bindings[p] = bs
	}
	if hc.PublishAllPorts {
		for p := range cfg.ExposedPorts {
			if _, ok := bindings[p]; !ok {
				bindings[p] = []network.PortBinding{{}}
			}
		}
	}
	keys := make([]network.Port, 0, len(bindings))
	for p := range bindings {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	var out []networks.Wanted
	for _, p := range keys {
		for _, b := range bindings[p] {
			hp := 0
			if b.HostPort != "" {
				start, _, _ := strings.Cut(b.HostPort, "-") // a range: its first port
				n, err := strconv.Atoi(start)
				if err != nil || n < 0 || n > 65535 {
					return nil, fmt.Errorf("invalid port specification: %q: %w", b.HostPort, errdefs.ErrInvalidArgument)
				}
				hp = n
			}
			// zero: both families (0.0.0.0 or :: given: that one only)
			out = append(out, networks.Wanted{Proto: string(p.Proto()), HostIP: b.HostIP.Unmap(), HostPort: hp, CtrPort: int(p.Num())})
		}
	}
	return out, nil
}

// networkSettings is inspect's NetworkSettings.
func (s *Service) networkSettings(c *Container) *container.NetworkSettings {
	ns := &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{}, Ports: network.PortMap{}}
	if c.running() && usesBridge(c.HostConfig) {
		ns.SandboxKey, ns.SandboxID = c.netnsPath(), c.ID
	}
	for name, cfg := range c.Networks {
		ns.Networks[name] = endpointSettings(c, name, cfg)
	}
	mode := networkMode(c.HostConfig)
	if mode.IsHost() || mode.IsNone() {
		ns.Networks[string(mode)] = &network.EndpointSettings{NetworkID: s.networkID(string(mode))}
	}
	for p := range c.Config.ExposedPorts {
		ns.Ports[p] = nil
	}
	for _, p := range c.Ports {
		port, ok := network.PortFrom(uint16(p.CtrPort), network.IPProtocol(p.Proto))
		if !ok {
			continue
		}
		ip := netip.IPv4Unspecified()
		if p.HostIP.IsValid() {
			ip = p.HostIP
		}
		ns.Ports[port] = append(ns.Ports[port], network.PortBinding{HostIP: ip, HostPort: strconv.Itoa(p.HostPort)})
	}
	return ns
}

func (s *Service) networkID(name string) string {
	if n, err := s.networks.Get(name); err == nil {
		return n.ID
	}
	return ""
}

// endpointSettings is inspect's Networks[name]: what was configured and,
// while the container runs, the endpoint. As in dockerd a created
// container shows its configured MAC address, a stopped one none.
func endpointSettings(c *Container, name string, cfg *NetConfig) *network.EndpointSettings {
	es := &network.EndpointSettings{NetworkID: cfg.NetworkID, Aliases: cfg.Aliases, Links: cfg.Links, DriverOpts: cfg.DriverOpts, GwPriority: cfg.GwPriority}
	if cfg.IP.IsValid() || cfg.IP6.IsValid() || len(cfg.LinkLocal) > 0 {
		es.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: cfg.IP, IPv6Address: cfg.IP6, LinkLocalIPs: cfg.LinkLocal}
	}
	if c.State.Status == container.StateCreated && cfg.MAC != "" {
		if mac, err := parseMAC(cfg.MAC); err == nil {
			es.MacAddress = mac
		}
	}
	if ep := cfg.Endpoint; ep != nil {
		es.EndpointID, es.Gateway, es.IPAddress, es.IPPrefixLen = ep.EndpointID, ep.Gateway, ep.IP, ep.PrefixLen
		es.GlobalIPv6Address, es.GlobalIPv6PrefixLen, es.IPv6Gateway = ep.IP6, ep.PrefixLen6, ep.Gateway6
		if mac, err := parseMAC(ep.MAC); err == nil {
			es.MacAddress = mac
		}
		if name != network.NetworkBridge {
			es.DNSNames = dnsNames(c, cfg.Aliases)
		}
	}
	return es
}

// dnsNames is dockerd's buildEndpointDNSNames: name, aliases, short ID,
// hostname, without repeats.
func dnsNames(c *Container, aliases []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range append(append([]string{strings.TrimPrefix(c.Name, "/")}, aliases...), ids.Short(c.ID), c.Hostname) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// portSummaries is ps's Ports.
func portSummaries(c *Container) []container.PortSummary {
	out := []container.PortSummary{}
	published := map[string]bool{}
	for _, p := range c.Ports {
		ip := netip.IPv4Unspecified()
		if p.HostIP.IsValid() {
			ip = p.HostIP
		}
		out = append(out, container.PortSummary{IP: ip, PrivatePort: uint16(p.CtrPort), PublicPort: uint16(p.HostPort), Type: p.Proto})
		published[strconv.Itoa(p.CtrPort)+"/"+p.Proto] = true
	}
	for p := range c.Config.ExposedPorts {
		if !published[p.String()] {
			out = append(out, container.PortSummary{PrivatePort: p.Num(), Type: string(p.Proto())})
		}
	}
	return out
}

// networkUsers returns the containers with a membership of a network.
func (s *Service) networkUsers(id string) []networks.Use {
	var out []networks.Use
	for _, c := range s.all() {
		c.mu.Lock()
		for _, cfg := range c.Networks {
			if cfg.NetworkID == id {
				u := networks.Use{ContainerID: c.ID, Name: strings.TrimPrefix(c.Name, "/")}
				if cfg.Endpoint != nil {
					u.Endpoint = *cfg.Endpoint
				}
				out = append(out, u)
			}
		}
		c.mu.Unlock()
	}
	return out
}

func parseMAC(s string) (network.HardwareAddr, error) {
	m, err := net.ParseMAC(s)
	return network.HardwareAddr(m), err
}

// Connect joins a container to a network (at once if it runs, at its next
// start otherwise).
func (s *Service) Connect(ref, netRef string, es *network.EndpointSettings) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	n, err := s.networks.Get(netRef)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !usesBridge(c.HostConfig) || n.Driver != networks.DriverBridge {
		return fmt.Errorf("container sharing network namespace with another container or host cannot be connected to any other network: %w", errdefs.ErrPermissionDenied)
	}
	if _, ok := c.Networks[n.Name]; ok {
		return fmt.Errorf("endpoint with name %s already exists in network %s: %w", strings.TrimPrefix(c.Name, "/"), n.Name, errdefs.ErrPermissionDenied)
	}
	cfgs, err := s.resolveNetworks(&container.HostConfig{NetworkMode: container.NetworkMode(n.Name)}, &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{n.Name: es}})
	if err != nil {
		return err
	}
	cfg := cfgs[n.Name]
	if c.Networks == nil {
		c.Networks = map[string]*NetConfig{}
	}
	if c.running() {
		used := map[string]bool{}
		for _, other := range c.Networks {
			if other.Endpoint != nil {
				used[other.Endpoint.IfName] = true
			}
		}
		ifName := ""
		for i := 0; ; i++ {
			if ifName = "eth" + strconv.Itoa(i); !used[ifName] {
				break
			}
		}
		ep, err := s.networks.Join(c.netnsPath(), networks.JoinRequest{ContainerID: c.ID, Network: n.ID, IfName: ifName,
			IP: cfg.IP, IP6: cfg.IP6, LinkLocal: cfg.LinkLocal, MAC: cfg.MAC, Aliases: cfg.Aliases})
		if err != nil {
			return err
		}
		cfg.Endpoint = ep
	}
	c.Networks[n.Name] = cfg
	if c.running() && s.needsDNS(c) && c.dns == nil {
		s.restoreNetwork(c) // starts the resolver; the endpoints are already ours
	}
	return s.save(c)
}

// Disconnect removes a container from a network.
func (s *Service) Disconnect(ref, netRef string, force bool) error {
	c, err := s.Get(ref)
	if err != nil {
		if force && errdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	n, err := s.networks.Get(netRef)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg, ok := c.Networks[n.Name]
	if !ok {
		return fmt.Errorf("container %s is not connected to network %s: %w", c.ID, n.Name, errdefs.ErrPermissionDenied)
	}
	if cfg.Endpoint != nil {
		if len(c.Ports) > 0 && netOrder(c)[0] == n.Name {
			s.networks.Unpublish(cfg.Endpoint, c.Ports)
			c.Ports = nil
		}
		s.networks.Leave(cfg.Endpoint)
		s.networks.Settle() // disconnected means unreachable when this returns
	}
	delete(c.Networks, n.Name)
	return s.save(c)
}
