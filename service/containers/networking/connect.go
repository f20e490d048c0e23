package networking

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/ids"
	"github.com/berth-project/berth/service/networks"
	"github.com/berth-project/berth/service/networks/sandbox"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// ShownPorts are c's published ports as ps and inspect show them: its
// own and those of the frontends it serves.
func (s *Service) ShownPorts(c *Container) []networks.Port {
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

// Settings is inspect's NetworkSettings of c, which runs or, created,
// never ran.
func (s *Service) Settings(c *Container, running, created bool) *container.NetworkSettings {
	ns := &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{}, Ports: sandbox.PortMap(s.ShownPorts(c), c.Config.ExposedPorts)}
	if running && (sandbox.UsesEndpoints(c.HostConfig) || sandbox.Mode(c.HostConfig).IsNone()) {
		ns.SandboxKey, ns.SandboxID = c.NetnsPath, c.ID
	}
	for name, m := range c.Networks {
		ns.Networks[name] = m.Settings(name, c.Owner(), created)
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

// Uses are c's memberships of network id, for the networks service.
func Uses(id string, c *Container) []networks.Use {
	var out []networks.Use
	for _, m := range c.Networks {
		if m.NetworkID == id {
			u := networks.Use{ContainerID: c.ID, Name: strings.TrimPrefix(c.Name, "/")}
			if m.Endpoint != nil {
				u.Endpoint = *m.Endpoint
			}
			out = append(out, u)
		}
	}
	return out
}

// Connect joins c to network n (at once if it runs, at its next start
// otherwise); the caller saves c's record.
func (s *Service) Connect(c *Container, running bool, n *networks.Network, es *network.EndpointSettings) error {
	if !sandbox.UsesEndpoints(c.HostConfig) || !n.HasEndpoints() {
		return fmt.Errorf("container sharing network namespace with another container or host cannot be connected to any other network: %w", errdefs.ErrPermissionDenied)
	}
	if _, ok := c.Networks[n.Name]; ok {
		return fmt.Errorf("endpoint with name %s already exists in network %s: %w", strings.TrimPrefix(c.Name, "/"), n.Name, errdefs.ErrPermissionDenied)
	}
	ms, err := s.Resolve(&container.HostConfig{NetworkMode: container.NetworkMode(n.Name)}, &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{n.Name: es}})
	if err != nil {
		return err
	}
	m := ms[n.Name]
	if c.Networks == nil {
		c.Networks = map[string]*sandbox.Membership{}
	}
	if running {
		if err := s.wiring.Join(c.NetnsPath, c.ID, m, sandbox.FreeInterface(c.Networks), false); err != nil {
			return err
		}
	}
	c.Networks[n.Name] = m
	if running {
		if err := s.startDNS(c); err != nil {
			fmt.Fprintf(os.Stderr, "berthd: %s: %v\n", ids.Short(c.ID), err)
		}
	}
	return nil
}

// Disconnect removes c from network n; the caller saves c's record.
func (s *Service) Disconnect(c *Container, n *networks.Network) error {
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
	return nil
}
