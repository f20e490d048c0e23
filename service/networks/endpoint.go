package networks

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/berth-project/berth/network/bridge"
	"github.com/berth-project/berth/network/conntrack"
	"github.com/berth-project/berth/network/iface"
	"github.com/berth-project/berth/network/ipam"
	"github.com/containerd/errdefs"
)

// Endpoint is a container's attachment to a network, persisted in the
// container's record.
type Endpoint struct {
	NetworkID   string     `json:"networkID"`
	ContainerID string     `json:"containerID,omitempty"`
	EndpointID  string     `json:"endpointID"`
	IfName      string     `json:"ifName"`
	HostVeth    string     `json:"hostVeth"`
	IP          netip.Addr `json:"ip,omitzero"`
	PrefixLen   int        `json:"prefixLen"`
	Gateway     netip.Addr `json:"gateway,omitzero"`
	// IPv6 on a dual-stack network
	IP6        netip.Addr   `json:"ip6,omitzero"`
	PrefixLen6 int          `json:"prefixLen6,omitempty"`
	Gateway6   netip.Addr   `json:"gateway6,omitzero"`
	LinkLocal  []netip.Addr `json:"linkLocal,omitempty"` // IPAMConfig.LinkLocalIPs, on the interface
	MAC        string       `json:"mac"`
	Aliases    []string     `json:"aliases,omitempty"`
	// NetNS is the namespace a macvlan endpoint's link is in (a bridge
	// endpoint is found by HostVeth)
	NetNS string `json:"netns,omitempty"`
}

// JoinRequest asks for an endpoint.
type JoinRequest struct {
	ContainerID string
	Network     string     // name or ID
	IfName      string     // eth0, eth1, …
	IP          netip.Addr // requested address (--ip); zero: allocate
	IP6         netip.Addr // requested IPv6 address (--ip6); zero: allocate on a dual-stack network
	LinkLocal   []netip.Addr
	MAC         string // requested MAC; empty: derived from the address
	Aliases     []string
	Gateway     bool // route the container's default traffic through this network
}

// Join allocates an address on the network and connects the namespace at
// nsPath to its bridge. Nothing is left behind on error.
func (s *Service) Join(nsPath string, req JoinRequest) (*Endpoint, error) {
	n, err := s.Get(req.Network)
	if err != nil {
		return nil, err
	}
	drv := driverOf(n)
	if drv == nil {
		return nil, fmt.Errorf("container cannot be connected to network %s (driver %s): %w", n.Name, n.Driver, errdefs.ErrInvalidArgument)
	}
	s.mu.Lock()
	pool, pool6 := s.pools[n.ID], s.pools6[n.ID]
	s.mu.Unlock()
	if pool == nil {
		return nil, errNoPool
	}
	for _, a := range req.LinkLocal {
		if !a.IsLinkLocalUnicast() {
			return nil, fmt.Errorf("invalid link local IP address: %s: %w", a, errdefs.ErrInvalidArgument)
		}
	}
	if req.IP6.IsValid() && pool6 == nil {
		return nil, fmt.Errorf("invalid endpoint settings:\nuser specified IP address is supported only when connecting to networks with user configured subnets: %w", errdefs.ErrInvalidArgument)
	}
	ip, err := take(pool, req.IP, req.ContainerID, n)
	if err != nil {
		return nil, err
	}
	var ip6 netip.Addr
	if pool6 != nil {
		if ip6, err = take(pool6, req.IP6, req.ContainerID, n); err != nil {
			pool.Release(ip)
			return nil, err
		}
	}
	release := func() {
		pool.Release(ip)
		if ip6.IsValid() {
			pool6.Release(ip6)
		}
	}
	ep := &Endpoint{NetworkID: n.ID, ContainerID: req.ContainerID, EndpointID: newID(), IfName: req.IfName,
		IP: ip, PrefixLen: n.Subnet.Bits(), Gateway: n.Gateway, LinkLocal: req.LinkLocal, Aliases: req.Aliases}
	if ip6.IsValid() {
		ep.IP6, ep.PrefixLen6, ep.Gateway6 = ip6, n.Subnet6.Bits(), n.Gateway6
	}
	mac := bridge.MAC(ip)
	if req.MAC != "" {
		if mac, err = net.ParseMAC(req.MAC); err != nil {
			release()
			return nil, fmt.Errorf("invalid MAC address %s: %w", req.MAC, errdefs.ErrInvalidArgument)
		}
	}
	ep.MAC = mac.String()
	l := iface.Config{IfName: ep.IfName, Addr: netip.PrefixFrom(ip, n.Subnet.Bits()), MAC: mac}
	if ip6.IsValid() {
		l.Addr6 = netip.PrefixFrom(ip6, n.Subnet6.Bits())
	}
	for _, a := range req.LinkLocal {
		l.LinkLocal = append(l.LinkLocal, linkLocalPrefix(a))
	}
	if req.Gateway && !n.isolated() {
		l.Gateway = n.Gateway
		if ip6.IsValid() {
			l.Gateway6 = n.Gateway6
		}
	}
	if err := drv.attach(nsPath, n, ep, l); err != nil {
		release()
		return nil, fmt.Errorf("network %s: %w", n.Name, err)
	}
	s.publish("connect", n, req.ContainerID)
	s.trackEndpoint(ep)
	return ep, nil
}

// take claims the requested address or allocates one.
func take(pool *ipam.Pool, want netip.Addr, owner string, n *Network) (netip.Addr, error) {
	if !want.IsValid() {
		return pool.Allocate(owner)
	}
	if n.Default() {
		return netip.Addr{}, fmt.Errorf("invalid endpoint settings:\nuser specified IP address is supported on user defined networks only: %w", errdefs.ErrInvalidArgument)
	}
	if err := pool.Claim(want, owner); err != nil {
		return netip.Addr{}, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	return want, nil
}

// linkLocalPrefix is the prefix a link-local IP is added with
// (libnetwork's: /16 in IPv4, /64 in IPv6).
func linkLocalPrefix(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return netip.PrefixFrom(a, 16)
	}
	return netip.PrefixFrom(a, 64)
}

// Leave disconnects an endpoint and frees its address. Deleting a link
// waits for an RCU grace period (~15–30 ms for a veth), so it happens in
// the background, off the path of a container's exit; the address is
// freed once the link is gone. Remove and Close wait for pending leaves.
func (s *Service) Leave(ep *Endpoint) {
	s.mu.Lock()
	pool, pool6 := s.pools[ep.NetworkID], s.pools6[ep.NetworkID]
	s.mu.Unlock()
	ip, ip6 := ep.IP, ep.IP6
	s.mu.Lock()
	n := s.nets[ep.NetworkID]
	s.mu.Unlock()
	var drv driver = bridgeDriver{} // a network removed under it had a bridge (a macvlan link dies with its namespace)
	if n != nil && driverOf(n) != nil {
		drv = driverOf(n)
	}
	gone := *ep
	s.publish("disconnect", n, ep.ContainerID)
	member := s.forgetEndpoint(ep)
	s.leaving.Add(1)
	go func() {
		defer s.leaving.Done()
		_ = drv.detach(&gone)
		// a frontend member's connections' entries go with it: an
		// address given again must not inherit their translations.
		// (Only theirs: a table dump scans every bucket, ~9 ms here.)
		if member && ip.IsValid() {
			_, _ = conntrack.Forget(ip)
		}
		if pool != nil && ip.IsValid() {
			pool.Release(ip)
		}
		if pool6 != nil && ip6.IsValid() {
			pool6.Release(ip6)
		}
	}()
}

// Settle waits for the background part of Leave calls.
func (s *Service) Settle() { s.leaving.Wait() }

// Restore takes back the address of an endpoint that survived a daemon
// restart (its container kept running).
func (s *Service) Restore(containerID string, ep *Endpoint) error {
	s.mu.Lock()
	pool, pool6 := s.pools[ep.NetworkID], s.pools6[ep.NetworkID]
	s.mu.Unlock()
	if pool == nil {
		return errNoPool
	}
	if err := pool.Claim(ep.IP, containerID); err != nil {
		return err
	}
	if ep.IP6.IsValid() && pool6 != nil {
		if err := pool6.Claim(ep.IP6, containerID); err != nil {
			return err
		}
	}
	e := *ep
	e.ContainerID = containerID
	s.trackEndpoint(&e)
	return nil
}
