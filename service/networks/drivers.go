package networks

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/berth-project/berth/network/bridge"
	"github.com/berth-project/berth/network/iface"
	"github.com/berth-project/berth/network/macvlan"
	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Docker's macvlan and ipvlan drivers: containers get links of their own
// on a host interface (the parent), with addresses on its LAN.
const (
	DriverMacvlan = "macvlan"
	DriverIpvlan  = "ipvlan"
)

// isolated reports whether n's containers get no default route: an
// internal network, or a macvlan one on the dummy parent made for it (as
// dockerd's macvlan driver treats a network without -o parent).
func (n *Network) isolated() bool {
	return n.Internal || (n.Driver == DriverMacvlan && n.Options[optParent] == "")
}

// ipvlanUnsupported says why an ipvlan network cannot be made here: the
// kernel has no ipvlan driver (CONFIG_IPVLAN), or berth does not drive it
// yet. The kernel is asked by making an ipvlan link on lo: a kernel
// without the driver answers EOPNOTSUPP, one with it refuses lo as a
// parent.
func ipvlanUnsupported(parent string) error {
	err := netlink.LinkAdd(&netlink.IPVlan{LinkAttrs: netlink.LinkAttrs{Name: "berthipvprobe", ParentIndex: 1}, Mode: netlink.IPVLAN_MODE_L2})
	if err == nil {
		if l, lerr := netlink.LinkByName("berthipvprobe"); lerr == nil {
			_ = netlink.LinkDel(l)
		}
	}
	if errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("ipvlan networks need the kernel's ipvlan driver (CONFIG_IPVLAN), which this kernel (%s) does not have: %w", kernelRelease(), errdefs.ErrNotImplemented)
	}
	return fmt.Errorf("the ipvlan driver is not implemented by berth yet (parent %q): %w", parent, errdefs.ErrNotImplemented)
}

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// driver is a network driver's host side: the network's own interfaces
// and rules, and each endpoint's link into its container.
type driver interface {
	// up makes the host side of n (some of it may exist, after a restart).
	up(s *Service, n *Network) error
	// down undoes up.
	down(s *Service, n *Network)
	// attach connects the namespace at nsPath with an interface
	// configured as c says, and records in ep what detach needs.
	attach(nsPath string, n *Network, ep *Endpoint, c iface.Config) error
	// detach removes ep's link.
	detach(ep *Endpoint) error
}

// driverOf is n's driver (nil for host and none, which have no host side).
func driverOf(n *Network) driver {
	switch n.Driver {
	case DriverBridge:
		return bridgeDriver{}
	case DriverMacvlan:
		return macvlanDriver{}
	}
	return nil
}

// bridgeDriver puts endpoints on a Linux bridge through veth pairs, with
// the network's NAT and isolation in this daemon's iptables chains.
type bridgeDriver struct{}

func (bridgeDriver) up(s *Service, n *Network) error {
	gws := []netip.Prefix{netip.PrefixFrom(n.Gateway, n.Subnet.Bits())}
	if n.EnableIPv6 {
		gws = append(gws, netip.PrefixFrom(n.Gateway6, n.Subnet6.Bits()))
	}
	if err := bridge.Ensure(n.Bridge, gws, bridge.Owner{DataRoot: s.cfg.Owner, Live: s.cfg.Live}); err != nil {
		return err
	}
	return s.fw.AddNetwork(n.firewallNetwork())
}

// down deletes the bridge while the rules go: its delete waits for an
// RCU grace period (~40 ms here), the rules for iptables-restore.
func (bridgeDriver) down(s *Service, n *Network) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = bridge.Delete(n.Bridge)
	}()
	_ = s.fw.RemoveNetwork(n.firewallNetwork())
	wg.Wait()
}

func (bridgeDriver) attach(nsPath string, n *Network, ep *Endpoint, c iface.Config) error {
	ep.HostVeth = bridge.VethName(ep.ContainerID, n.ID)
	return bridge.Attach(nsPath, bridge.Endpoint{Bridge: n.Bridge, HostName: ep.HostVeth, Config: c})
}

func (bridgeDriver) detach(ep *Endpoint) error { return bridge.Detach(ep.HostVeth) }

// macvlanDriver gives each endpoint a macvlan link on the network's
// parent; nothing of the host's firewall is involved (no NAT, as in
// Docker: ports are not published on such a network).
type macvlanDriver struct{}

func (macvlanDriver) up(s *Service, n *Network) error {
	// from the option, not the record: after a reboot a parent berth made
	// is made again
	parent, made, err := macvlan.EnsureParent(n.Options[optParent], n.ID)
	if err != nil {
		return err
	}
	n.Parent, n.ParentMade = parent, n.ParentMade || made
	return nil
}

func (macvlanDriver) down(s *Service, n *Network) {
	if n.ParentMade {
		_ = macvlan.DeleteParent(n.Parent)
	}
}

func (macvlanDriver) attach(nsPath string, n *Network, ep *Endpoint, c iface.Config) error {
	mode, err := macvlan.ParseMode(n.Options[optMacvlanMode])
	if err != nil {
		return err
	}
	ep.NetNS = nsPath
	return macvlan.Attach(nsPath, macvlan.Endpoint{Parent: n.Parent, Mode: mode, Config: c})
}

func (macvlanDriver) detach(ep *Endpoint) error { return macvlan.Detach(ep.NetNS, ep.IfName) }

// The macvlan driver's options (-o), as Docker names them.
const (
	optParent      = "parent"
	optMacvlanMode = "macvlan_mode"
)

// HasEndpoints reports whether containers join n with endpoints of their
// own (a bridge or macvlan network; not host or none).
func (n *Network) HasEndpoints() bool { return driverOf(n) != nil }
