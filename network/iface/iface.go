// Package iface configures a container's interface inside its network
// namespace: its addresses, its state and the default routes through it,
// whatever link (veth end, macvlan) it is.
package iface

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Config is what an interface gets inside its namespace.
type Config struct {
	IfName    string       // e.g. eth0
	Addr      netip.Prefix // address and subnet length
	Gateway   netip.Addr   // default route via this, if valid
	Addr6     netip.Prefix // IPv6 address, if valid
	Gateway6  netip.Addr   // default IPv6 route via this, if valid
	LinkLocal []netip.Prefix
	MAC       net.HardwareAddr
}

// Configure gives the link named c.IfName in the namespace of h its
// addresses, brings it up and routes the default traffic through the
// gateways. It returns the link.
func Configure(h *netlink.Handle, c Config) (netlink.Link, error) {
	in, err := h.LinkByName(c.IfName)
	if err != nil {
		return nil, err
	}
	for _, a := range append([]netip.Prefix{c.Addr, c.Addr6}, c.LinkLocal...) {
		if !a.IsValid() {
			continue
		}
		if err := h.AddrAdd(in, Addr(a)); err != nil {
			return in, fmt.Errorf("address %s: %w", a, err)
		}
	}
	if err := h.LinkSetUp(in); err != nil {
		return in, err
	}
	for _, gw := range []netip.Addr{c.Gateway, c.Gateway6} {
		if !gw.IsValid() {
			continue
		}
		route := &netlink.Route{LinkIndex: in.Attrs().Index, Gw: net.IP(gw.AsSlice())}
		if err := h.RouteAdd(route); err != nil && !os.IsExist(err) {
			return in, fmt.Errorf("default route via %s: %w", gw, err)
		}
	}
	return in, nil
}

// Addr is an interface address; IPv6 ones skip duplicate address
// detection (as libnetwork's), so they work at once rather than after the
// second or so DAD takes: the pool already made them unique.
func Addr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}
