package containers

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/berth-project/berth/service/networks"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
)

// newNetConfig keeps what a create or connect asked of an endpoint.
func newNetConfig(n *networks.Network, es *network.EndpointSettings) *NetConfig {
	cfg := &NetConfig{NetworkID: n.ID}
	if es == nil {
		return cfg
	}
	cfg.Aliases, cfg.Links, cfg.DriverOpts, cfg.GwPriority = es.Aliases, es.Links, es.DriverOpts, es.GwPriority
	if len(es.MacAddress) > 0 {
		cfg.MAC = es.MacAddress.String()
	}
	if ipc := es.IPAMConfig; ipc != nil {
		cfg.IP, cfg.IP6, cfg.LinkLocal = ipc.IPv4Address, ipc.IPv6Address, ipc.LinkLocalIPs
	}
	return cfg
}

// validateEndpoint is dockerd's validateEndpointSettings: static
// addresses and aliases only on user-defined networks, addresses of the
// right family inside a configured subnet, endpoint sysctls named
// per-interface. Every problem is reported, in dockerd's words.
func validateEndpoint(n *networks.Network, es *network.EndpointSettings) error {
	if es == nil {
		return nil
	}
	ipc := es.IPAMConfig
	if ipc == nil {
		ipc = &network.EndpointIPAMConfig{}
	}
	var errs []error
	if n.Predefined() {
		if ipc.IPv4Address.IsValid() || ipc.IPv6Address.IsValid() {
			errs = append(errs, errors.New("user specified IP address is supported on user defined networks only"))
		}
		if len(es.Aliases) > 0 {
			errs = append(errs, errors.New("network-scoped alias is supported only for containers in user defined networks"))
		}
	}
	if a := ipc.IPv4Address; a.IsValid() && (!a.Is4() || a.IsUnspecified()) {
		errs = append(errs, fmt.Errorf("invalid IPv4 address: %s", a))
	}
	if a := ipc.IPv6Address; a.IsValid() && (!a.Is6() || a.Is4In6() || a.IsUnspecified()) {
		errs = append(errs, fmt.Errorf("invalid IPv6 address: %s", a))
	}
	for _, a := range ipc.LinkLocalIPs {
		if !a.IsValid() || a.IsUnspecified() {
			errs = append(errs, fmt.Errorf("invalid link-local IP address: %s", a))
		}
	}
	errs = append(errs, inConfiguredSubnet(n, ipc.IPv4Address)...)
	errs = append(errs, inConfiguredSubnet(n, ipc.IPv6Address)...)
	if sysctls, ok := es.DriverOpts["com.docker.network.endpoint.sysctls"]; ok {
		for _, sc := range strings.Split(sysctls, ",") {
			f := strings.SplitN(sc, ".", 5)
			if len(f) != 5 || (f[1] != "ipv4" && f[1] != "ipv6" && f[1] != "mpls") || (f[3] != "IFNAME" && f[3] != "ifname") {
				errs = append(errs, fmt.Errorf("unrecognised network interface sysctl '%s'; represent 'net.X.Y.ethN.Z=V' as 'net.X.Y.IFNAME.Z=V', 'X' must be 'ipv4', 'ipv6' or 'mpls'", sc))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid endpoint settings:\n%s: %w", networks.JoinErrors(errs), errdefs.ErrInvalidArgument)
	}
	return nil
}

// inConfiguredSubnet checks a static address (if any) against the
// network's configured subnet of its family (dockerd's IsInRange).
func inConfiguredSubnet(n *networks.Network, a netip.Addr) []error {
	if !a.IsValid() {
		return nil
	}
	switch c := n.Configured(a.Is6()); {
	case c == nil:
		return []error{errors.New("user specified IP address is supported only when connecting to networks with user configured subnets")}
	case !c.Subnet.Contains(a):
		return []error{fmt.Errorf("no configured subnet or ip-range contain the IP address %s", a)}
	}
	return nil
}
