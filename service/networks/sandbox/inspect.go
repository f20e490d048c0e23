package sandbox

import (
	"net"
	"net/netip"
	"strconv"

	"github.com/berth-project/berth/internal/ids"
	"github.com/berth-project/berth/service/networks"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Settings is inspect's Networks[name] for m: what was configured and,
// while the container runs, the endpoint. As in dockerd a created
// container shows its configured MAC address, a stopped one none.
func (m *Membership) Settings(name string, o Owner, created bool) *network.EndpointSettings {
	es := &network.EndpointSettings{NetworkID: m.NetworkID, Aliases: m.Aliases, Links: m.Links, DriverOpts: m.DriverOpts, GwPriority: m.GwPriority}
	if m.IP.IsValid() || m.IP6.IsValid() || len(m.LinkLocal) > 0 {
		es.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: m.IP, IPv6Address: m.IP6, LinkLocalIPs: m.LinkLocal}
	}
	if created && m.MAC != "" {
		if mac, err := parseMAC(m.MAC); err == nil {
			es.MacAddress = mac
		}
	}
	if ep := m.Endpoint; ep != nil {
		es.EndpointID, es.Gateway, es.IPAddress, es.IPPrefixLen = ep.EndpointID, ep.Gateway, ep.IP, ep.PrefixLen
		es.GlobalIPv6Address, es.GlobalIPv6PrefixLen, es.IPv6Gateway = ep.IP6, ep.PrefixLen6, ep.Gateway6
		if mac, err := parseMAC(ep.MAC); err == nil {
			es.MacAddress = mac
		}
		if name != network.NetworkBridge {
			es.DNSNames = DNSNames(o, m.Aliases)
		}
	}
	return es
}

// DNSNames is dockerd's buildEndpointDNSNames: name, aliases, short ID,
// hostname, without repeats.
func DNSNames(o Owner, aliases []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range append(append([]string{o.Name}, aliases...), ids.Short(o.ID), o.Hostname) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func parseMAC(s string) (network.HardwareAddr, error) {
	m, err := net.ParseMAC(s)
	return network.HardwareAddr(m), err
}

// PortMap is inspect's NetworkSettings.Ports: every exposed port, with
// the host bindings of those published.
func PortMap(ports []networks.Port, exposed network.PortSet) network.PortMap {
	out := network.PortMap{}
	for p := range exposed {
		out[p] = nil
	}
	for _, p := range ports {
		port, ok := network.PortFrom(uint16(p.CtrPort), network.IPProtocol(p.Proto))
		if !ok {
			continue
		}
		ip := netip.IPv4Unspecified()
		if p.HostIP.IsValid() {
			ip = p.HostIP
		}
		out[port] = append(out[port], network.PortBinding{HostIP: ip, HostPort: strconv.Itoa(p.HostPort)})
	}
	return out
}

// PortSummaries is ps's Ports: the published ports, then the exposed
// ports not published.
func PortSummaries(ports []networks.Port, exposed network.PortSet) []container.PortSummary {
	out := []container.PortSummary{}
	published := map[string]bool{}
	for _, p := range ports {
		ip := netip.IPv4Unspecified()
		if p.HostIP.IsValid() {
			ip = p.HostIP
		}
		out = append(out, container.PortSummary{IP: ip, PrivatePort: uint16(p.CtrPort), PublicPort: uint16(p.HostPort), Type: p.Proto})
		published[strconv.Itoa(p.CtrPort)+"/"+p.Proto] = true
	}
	for p := range exposed {
		if !published[p.String()] {
			out = append(out, container.PortSummary{PrivatePort: p.Num(), Type: string(p.Proto())})
		}
	}
	return out
}
