package networking

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
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

// Resolve checks the networks a create names and returns the
// container's memberships by network name.
func (s *Service) Resolve(hc *container.HostConfig, nc *network.NetworkingConfig) (map[string]*sandbox.Membership, error) {
	mode := sandbox.Mode(hc)
	if mode.IsContainer() {
		if _, err := s.containers.Peer(mode.ConnectedContainer()); err != nil {
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
		if !n.HasEndpoints() {
			return nil, fmt.Errorf("container cannot be disconnected from host network or connected to host network: %w", errdefs.ErrInvalidArgument)
		}
		if err := sandbox.Validate(n, es); err != nil {
			return nil, err
		}
		out[n.Name] = sandbox.NewMembership(n, es)
	}
	return out, nil
}

// Setup prepares c's network for a start and returns the namespace path
// for the runtime ("" for a new empty one or the host's).
func (s *Service) Setup(c *Container) (nsPath string, retErr error) {
	hc := c.HostConfig
	mode := sandbox.Mode(hc)
	switch {
	case mode.IsHost():
		return "", s.WriteFiles(c, nil, true)
	case mode.IsNone():
		// a namespace of its own with lo up, as dockerd's none network
		nsPath = c.NetnsPath
		if err := s.makeNetns(nsPath); err != nil {
			return "", err
		}
		if err := s.WriteFiles(c, nil, false); err != nil {
			_ = netns.Remove(nsPath)
			return "", err
		}
		return nsPath, nil
	case mode.IsContainer():
		other, err := s.containers.Peer(mode.ConnectedContainer())
		if err != nil {
			return "", err
		}
		if !other.Running {
			return "", fmt.Errorf("cannot join network namespace of a non running container: %s: %w", mode.ConnectedContainer(), errdefs.ErrConflict)
		}
		for _, f := range []string{"hosts", "resolv.conf"} {
			if b, err := os.ReadFile(filepath.Join(other.Dir, f)); err == nil {
				_ = os.WriteFile(filepath.Join(c.Dir, f), b, 0o644)
			}
		}
		return fmt.Sprintf("/proc/%d/ns/net", other.Pid), nil
	}
	nsPath = c.NetnsPath
	if err := s.makeNetns(nsPath); err != nil {
		return "", err
	}
	defer func() {
		if retErr != nil {
			s.Teardown(c)
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
	if err := s.WriteFiles(c, eps, false); err != nil {
		return "", err
	}
	if err := s.startDNS(c); err != nil {
		return "", err
	}
	return nsPath, nil
}

// makeNetns pins a new network namespace with lo up at path: from the
// pool (New's netns) when there is one.
func (s *Service) makeNetns(path string) error {
	if s.netns != nil {
		return s.netns.Create(path)
	}
	return netns.Create(path)
}

// startDNS starts c's embedded resolver if c is on a user-defined
// network and none runs yet.
func (s *Service) startDNS(c *Container) error {
	if c.Resolver.srv != nil || !sandbox.NeedsDNS(c.Networks) {
		return nil
	}
	srv, err := dns.Start(c.NetnsPath, s.dnsLookup(c.ID), sandbox.Upstream(c.HostConfig.DNS))
	if err != nil {
		return fmt.Errorf("embedded DNS server: %w", err)
	}
	c.Resolver.srv = srv
	return nil
}

// Teardown undoes Setup.
func (s *Service) Teardown(c *Container) {
	if c.Resolver.srv != nil {
		c.Resolver.srv.Stop()
		c.Resolver.srv = nil
	}
	// the pinned namespace goes with the run directory
	s.wiring.Detach(sandbox.Order(c.HostConfig, c.Networks), c.Networks, c.Ports)
	c.Ports = nil
}

// Restore takes back a running container's endpoints, ports and
// resolver after a daemon restart.
func (s *Service) Restore(c *Container) {
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
		peers := s.containers.Peers()
		var me sandbox.Peer
		found := false
		for _, p := range peers {
			if p.ID == id {
				me, found = p, true
			}
		}
		if !found {
			return nil
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

// WriteFiles writes c's hosts and resolv.conf for this run.
func (s *Service) WriteFiles(c *Container, eps []*networks.Endpoint, host bool) error {
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
	return f.Write(c.Dir)
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
	other, err := s.containers.Peer(name)
	if err != nil || !other.OnBridge {
		return ""
	}
	return sandbox.LinkHostsLine(other.BridgeIP, alias, other.owner())
}
