// Package sandbox is a container's side of networking: its memberships of
// networks and the endpoints they become while it runs, its published
// ports, its hosts and resolv.conf, the names the embedded resolver
// answers for it, and its legacy links. service/networks owns the
// networks themselves; the containers service drives this package with
// what it knows of each container.
package sandbox

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/berth-project/berth/service/networks"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Membership is a container's membership of one network: what was asked
// at create or connect, and the endpoint while it runs. It is persisted
// in the container's record.
type Membership struct {
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

// Owner names the container a membership belongs to.
type Owner struct {
	ID       string
	Name     string // without the leading "/"
	Hostname string
}

// Mode is the effective network mode: "default" means bridge.
func Mode(hc *container.HostConfig) container.NetworkMode {
	if hc.NetworkMode == "" || hc.NetworkMode == "default" {
		return network.NetworkBridge
	}
	return hc.NetworkMode
}

// UsesEndpoints reports whether the container gets endpoints (bridge or
// a user-defined network) rather than host, none or another's namespace.
func UsesEndpoints(hc *container.HostConfig) bool {
	m := Mode(hc)
	return !m.IsHost() && !m.IsNone() && !m.IsContainer()
}

// Order lists the networks of ms, the primary (the container's network
// mode) first, the others by name.
func Order(hc *container.HostConfig, ms map[string]*Membership) []string {
	if hc == nil {
		return nil
	}
	primary := string(Mode(hc))
	names := make([]string, 0, len(ms))
	for name := range ms {
		if name != primary {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if _, ok := ms[primary]; ok {
		names = append([]string{primary}, names...)
	}
	return names
}

// NeedsDNS reports whether the embedded resolver serves the container:
// it does on any user-defined network.
func NeedsDNS(ms map[string]*Membership) bool {
	for name := range ms {
		if name != network.NetworkBridge {
			return true
		}
	}
	return false
}

// NewMembership keeps what a create or connect asked of an endpoint on n.
func NewMembership(n *networks.Network, es *network.EndpointSettings) *Membership {
	m := &Membership{NetworkID: n.ID}
	if es == nil {
		return m
	}
	m.Aliases, m.Links, m.DriverOpts, m.GwPriority = es.Aliases, es.Links, es.DriverOpts, es.GwPriority
	if len(es.MacAddress) > 0 {
		m.MAC = es.MacAddress.String()
	}
	if ipc := es.IPAMConfig; ipc != nil {
		m.IP, m.IP6, m.LinkLocal = ipc.IPv4Address, ipc.IPv6Address, ipc.LinkLocalIPs
	}
	return m
}

// Validate is dockerd's validateEndpointSettings: static addresses and
// aliases only on user-defined networks, addresses of the right family
// inside a configured subnet, endpoint sysctls named per-interface. Every
// problem is reported, in dockerd's words.
func Validate(n *networks.Network, es *network.EndpointSettings) error {
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
