// Package conntrack reads and trims the kernel's connection tracking table
// for one container address: how many connections a backend behind a
// frontend still serves (a drain waits for none), and forgetting the
// entries of an address that goes, so a later container given the same
// address does not inherit them.
package conntrack

import (
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TCP states (nf_conntrack_tcp.h) of a connection still open.
const (
	tcpSynSent   = 1
	tcpCloseWait = 5
)

// Target is a port connections reach an address on.
type Target struct {
	Proto string // tcp or udp
	Port  int
}

// Active counts the tracked connections answered from addr on one of
// targets (a DNATed connection's reply comes from the backend): TCP ones
// not yet closed, UDP ones not yet expired.
func Active(addr netip.Addr, targets []Target) (int, error) {
	flows, err := netlink.ConntrackTableList(netlink.ConntrackTable, family(addr))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range flows {
		if !same(f.Reverse.SrcIP, addr) || !targeted(f, targets) {
			continue
		}
		if tcp, ok := f.ProtoInfo.(*netlink.ProtoInfoTCP); ok && (tcp.State < tcpSynSent || tcp.State > tcpCloseWait) {
			continue
		}
		n++
	}
	return n, nil
}

func targeted(f *netlink.ConntrackFlow, targets []Target) bool {
	for _, t := range targets {
		proto := uint8(unix.IPPROTO_TCP)
		if t.Proto == "udp" {
			proto = unix.IPPROTO_UDP
		}
		if f.Reverse.Protocol == proto && int(f.Reverse.SrcPort) == t.Port {
			return true
		}
	}
	return false
}

// Forget deletes the entries to or from addr.
func Forget(addr netip.Addr) (uint, error) {
	return netlink.ConntrackDeleteFilters(netlink.ConntrackTable, family(addr), addrFilter{addr})
}

type addrFilter struct{ addr netip.Addr }

func (a addrFilter) MatchConntrackFlow(f *netlink.ConntrackFlow) bool {
	return same(f.Forward.SrcIP, a.addr) || same(f.Forward.DstIP, a.addr) || same(f.Reverse.SrcIP, a.addr) || same(f.Reverse.DstIP, a.addr)
}

func same(ip net.IP, addr netip.Addr) bool {
	a, ok := netip.AddrFromSlice(ip)
	return ok && a.Unmap() == addr.Unmap()
}

func family(addr netip.Addr) netlink.InetFamily {
	if addr.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}
