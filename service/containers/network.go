package containers

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/ids"
	"github.com/berth-project/berth/network/dns"
	"github.com/berth-project/berth/network/netns"
	"github.com/berth-project/berth/service/networks"
	"github.com/berth-project/berth/service/networks/sandbox"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// A container's network is its memberships (Record.Networks), wired by
// package sandbox while it runs. This file is the glue: the container's
// namespace and files, its peers for the resolver, connect and
// disconnect.

// resolveNetworks checks the networks a create names and returns the
// container's memberships by network name.
func (s *Service) resolveNetworks(hc *container.HostConfig, nc *network.NetworkingConfig) (map[string]*sandbox.Membership, error) {
	mode := sandbox.Mode(hc)
	if mode.IsContainer() {
		if _, err := s.Get(mode.ConnectedContainer()); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if !sandbox.UsesEndpoints(hc) {
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
	out := map[string]*sandbox.Membership{}
	for ref, es := range wanted {
		n, err := s.networks.Get(ref)
		if err != nil {
			return nil, err
		}
		if n.Driver != networks.DriverBridge {
			return nil, fmt.Errorf("container cannot be disconnected from host network or connected to host network: %w", errdefs.ErrInvalidArgument)
		}
		if err := sandbox.Validate(n, es); err != nil {
			return nil, err
		}
		out[n.Name] = sandbox.NewMembership(n, es)
	}
	return out, nil
}

func (c *Container) netnsPath() string { return filepath.Join(c.runDir, "netns") }

// owner names c for package sandbox; callers hold c.mu.
func (c *Container) owner() sandbox.Owner {
	return sandbox.Owner{ID: c.ID, Name: strings.TrimPrefix(c.Name, "/"), Hostname: c.Hostname}
}

// setupNetwork prepares c's network for a start and returns the namespace
// path for the runtime ("" for a new empty one or the host's).
func (s *Service) setupNetwork(c *Container) (nsPath string, retErr error) {
	hc := c.HostConfig
	mode := sandbox.Mode(hc)
	switch {
	case mode.IsHost():
		return "", s.writeNetFiles(c, nil, true)
	case mode.IsNone():
		// a namespace of its own with lo up, as dockerd's none network
		nsPath = c.netnsPath()
		if err := s.makeNetns(nsPath); err != nil {
			return "", err
		}
		if err := s.writeNetFiles(c, nil, false); err != nil {
			_ = netns.Remove(nsPath)
			return "", err
		}
		return nsPath, nil
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
	if err := s.makeNetns(nsPath); err != nil {
		return "", err
	}
	defer func() {
		if retErr != nil {
			s.teardownNetwork(c)
		}
	}()
	wanted, err := sandbox.Published(c.Config, hc)
	if err != nil {
		return "", err
	}
	eps, ports, err := s.wiring.Attach(nsPath, c.ID, sandbox.Order(hc, c.Networks), c.Networks, wanted)
	if err != nil {
		return "", err
	}
	c.Ports = ports
	if err := s.writeNetFiles(c, eps, false); err != nil {
		return "", err
	}
	if err := s.startDNS(c); err != nil {
		return "", err
	}
	return nsPath, nil
}

// makeNetns pins a new network namespace with lo up at path: from the
// pool (Config.Netns) when there is one.
func (s *Service) makeNetns(path string) error {
	if s.cfg.Netns != nil {
		return s.cfg.Netns.Create(path)
	}
	return netns.Create(path)
}

// startDNS starts c's embedded resolver if c is on a user-defined
// network and none runs yet. Callers hold c.mu.
func (s *Service) startDNS(c *Container) error {
	if c.dns != nil || !sandbox.NeedsDNS(c.Networks) {
		return nil
	}
	srv, err := dns.Start(c.netnsPath(), s.dnsLookup(c.ID), sandbox.Upstream(c.HostConfig.DNS))
	if err != nil {
		return fmt.Errorf("embedded DNS server: %w", err)
	}
	c.dns = srv
	return nil
}

// teardownNetwork undoes setupNetwork. Callers hold c.mu.
func (s *Service) teardownNetwork(c *Container) {
	if c.dns != nil {
		c.dns.Stop()
		c.dns = nil
	}
	// the pinned namespace goes with the run directory (removeRunDir)
	s.wiring.Detach(sandbox.Order(c.HostConfig, c.Networks), c.Networks, c.Ports)
	c.Ports = nil
}

// restoreNetwork takes back a running container's endpoints, ports and
// resolver after a daemon restart.
func (s *Service) restoreNetwork(c *Container) {
	for _, err := range s.wiring.Restore(c.ID, sandbox.Order(c.HostConfig, c.Networks), c.Networks, c.Ports) {
		fmt.Fprintf(os.Stderr, "berthd: %s: %v\n", ids.Short(c.ID), err)
	}
	if err := s.startDNS(c); err != nil {
		fmt.Fprintf(os.Stderr, "berthd: %s: %v\n", ids.Short(c.ID), err)
	}
}

// dnsLookup resolves names for container id among the containers that
// share a user-defined network with it.
func (s *Service) dnsLookup(id string) dns.LookupFunc {
	return func(name string) []netip.Addr {
		self, err := s.Get(id)
		if err != nil {
			return nil
		}
		all := s.all()
		peers := make([]sandbox.Peer, 0, len(all))
		var me sandbox.Peer
		for _, c := range all {
			c.mu.Lock()
			p := sandbox.PeerOf(c.owner(), c.running(), c.Networks)
			c.mu.Unlock()
			if c == self {
				me = p
			}
			peers = append(peers, p)
		}
		// a frontend's alias names its backends only (blue/green)
		nets := make([]string, 0, len(me.Networks))
		for id := range me.Networks {
			nets = append(nets, id)
		}
		if addrs, ok := s.networks.LookupFrontend(name, nets); ok {
			return addrs
		}
		return sandbox.Resolve(me, peers, name)
	}
}

// shownPorts are c's published ports as ps and inspect show them: its
// own and those of the frontends it serves. Callers hold c.mu.
func (s *Service) shownPorts(c *Container) []networks.Port {
	fe := s.networks.FrontendPorts(c.ID)
	if len(fe) == 0 {
		return c.Ports
	}
	out := append([]networks.Port{}, c.Ports...)
	for _, p := range fe {
		if !slices.ContainsFunc(out, func(o networks.Port) bool {
			return o.Proto == p.Proto && o.HostPort == p.HostPort && o.HostIP == p.HostIP
		}) {
			out = append(out, p)
		}
	}
	return out
}

// writeNetFiles writes c's hosts and resolv.conf for this run.
func (s *Service) writeNetFiles(c *Container, eps []*networks.Endpoint, host bool) error {
	hc := c.HostConfig
	f := sandbox.Files{Hostname: c.Hostname, HostNetwork: host, Endpoints: eps, ExtraHosts: hc.ExtraHosts,
		DNS: hc.DNS, DNSSearch: hc.DNSSearch, DNSOptions: hc.DNSOptions, Embedded: sandbox.NeedsDNS(c.Networks)}
	for _, h := range hc.ExtraHosts {
		if strings.HasSuffix(h, "host-gateway") {
			f.HostGateway = s.hostGateway()
			break
		}
	}
	for _, l := range hc.Links {
		f.LinkLines = append(f.LinkLines, s.linkLine(l))
	}
	return f.Write(c.dir)
}

// hostGateway is the default bridge's gateway (Docker's host-gateway).
func (s *Service) hostGateway() string {
	if n, err := s.networks.Get(network.NetworkBridge); err == nil {
		return n.Gateway.String()
	}
	return "127.0.0.1"
}

// linkLine is the hosts line for a --link on the default bridge.
func (s *Service) linkLine(link string) string {
	name, alias, err := sandbox.ParseLink(link)
	if err != nil {
		return ""
	}
	other, err := s.Get(name)
	if err != nil {
		return ""
	}
	other.mu.Lock()
	defer other.mu.Unlock()
	m := other.Networks[network.NetworkBridge]
	if m == nil || m.Endpoint == nil {
		return ""
	}
	return sandbox.LinkHostsLine(m.Endpoint.IP, alias, other.owner())
}

// networkSettings is inspect's NetworkSettings.
func (s *Service) networkSettings(c *Container) *container.NetworkSettings {
	ns := &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{}, Ports: sandbox.PortMap(s.shownPorts(c), c.Config.ExposedPorts)}
	if c.running() && (sandbox.UsesEndpoints(c.HostConfig) || sandbox.Mode(c.HostConfig).IsNone()) {
		ns.SandboxKey, ns.SandboxID = c.netnsPath(), c.ID
	}
	for name, m := range c.Networks {
		ns.Networks[name] = m.Settings(name, c.owner(), c.State.Status == container.StateCreated)
	}
	mode := sandbox.Mode(c.HostConfig)
	if mode.IsHost() || mode.IsNone() {
		ns.Networks[string(mode)] = &network.EndpointSettings{NetworkID: s.networkID(string(mode))}
	}
	return ns
}

func (s *Service) networkID(name string) string {
	if n, err := s.networks.Get(name); err == nil {
		return n.ID
	}
	return ""
}

// networkUsers returns the containers with a membership of a network.
func (s *Service) networkUsers(id string) []networks.Use {
	var out []networks.Use
	for _, c := range s.all() {
		c.mu.Lock()
		for _, m := range c.Networks {
			if m.NetworkID == id {
				u := networks.Use{ContainerID: c.ID, Name: strings.TrimPrefix(c.Name, "/")}
				if m.Endpoint != nil {
					u.Endpoint = *m.Endpoint
				}
				out = append(out, u)
			}
		}
		c.mu.Unlock()
	}
	return out
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
	if !sandbox.UsesEndpoints(c.HostConfig) || n.Driver != networks.DriverBridge {
		return fmt.Errorf("container sharing network namespace with another container or host cannot be connected to any other network: %w", errdefs.ErrPermissionDenied)
	}
	if _, ok := c.Networks[n.Name]; ok {
		return fmt.Errorf("endpoint with name %s already exists in network %s: %w", strings.TrimPrefix(c.Name, "/"), n.Name, errdefs.ErrPermissionDenied)
	}
	ms, err := s.resolveNetworks(&container.HostConfig{NetworkMode: container.NetworkMode(n.Name)}, &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{n.Name: es}})
	if err != nil {
		return err
	}
	m := ms[n.Name]
	if c.Networks == nil {
		c.Networks = map[string]*sandbox.Membership{}
	}
	if c.running() {
		if err := s.wiring.Join(c.netnsPath(), c.ID, m, sandbox.FreeInterface(c.Networks), false); err != nil {
			return err
		}
	}
	c.Networks[n.Name] = m
	if c.running() {
		if err := s.startDNS(c); err != nil {
			fmt.Fprintf(os.Stderr, "berthd: %s: %v\n", ids.Short(c.ID), err)
		}
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
	m, ok := c.Networks[n.Name]
	if !ok {
		return fmt.Errorf("container %s is not connected to network %s: %w", c.ID, n.Name, errdefs.ErrPermissionDenied)
	}
	if m.Endpoint != nil {
		primary := sandbox.Order(c.HostConfig, c.Networks)[0] == n.Name
		s.wiring.Leave(m, c.Ports, primary)
		if primary {
			c.Ports = nil
		}
		s.wiring.Settle() // disconnected means unreachable when this returns
	}
	delete(c.Networks, n.Name)
	return s.save(c)
}
