// Package bridge makes Linux bridges and connects network namespaces to
// them with veth pairs (netlink, no `ip` commands).
package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/berth-project/berth/network/iface"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Owner says which daemon makes a bridge: its data root, written as the
// link's alias, and how to tell whether another owner is running.
type Owner struct {
	DataRoot string
	Live     func(dataRoot string) bool
}

const aliasPrefix = "berth data-root "

// ErrInUse is returned for a bridge that another running daemon owns.
var ErrInUse = errors.New("bridge in use")

// Ensure creates the bridge (or adopts an existing one that no other
// running daemon owns), gives it the gateway addresses (IPv4, and IPv6 on
// a dual-stack network) and brings it up.
func Ensure(name string, gws []netip.Prefix, owner Owner) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			return fmt.Errorf("bridge %s: %w", name, err)
		}
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, TxQLen: -1}}
		if err := netlink.LinkAdd(br); err != nil {
			return fmt.Errorf("create bridge %s: %w", name, err)
		}
		if link, err = netlink.LinkByName(name); err != nil {
			return err
		}
	} else if link.Type() != "bridge" {
		return fmt.Errorf("%s exists and is not a bridge (%s)", name, link.Type())
	}
	if other, ok := strings.CutPrefix(link.Attrs().Alias, aliasPrefix); ok && other != owner.DataRoot && owner.Live != nil && owner.Live(other) {
		return fmt.Errorf("%w: %s belongs to the running daemon of data root %s; give this daemon another bridge (--bridge)", ErrInUse, name, other)
	}
	if owner.DataRoot != "" && link.Attrs().Alias != aliasPrefix+owner.DataRoot {
		if err := netlink.LinkSetAlias(link, aliasPrefix+owner.DataRoot); err != nil {
			return fmt.Errorf("bridge %s: set owner: %w", name, err)
		}
	}
	if err := fixMAC(link, gws); err != nil {
		return err
	}
	for _, gw := range gws {
		if gw.Addr().Is6() {
			// a bridge made while IPv6 was off for new interfaces
			_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/disable_ipv6", []byte("0"), 0o644)
		}
		if err := netlink.AddrReplace(link, iface.Addr(gw)); err != nil {
			return fmt.Errorf("address %s on %s: %w", gw, name, err)
		}
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring %s up: %w", name, err)
	}
	return nil
}

// fixMAC gives the bridge an address of its own (derived from its IPv4
// gateway, as containers' are from theirs). A bridge whose address the
// kernel chose takes the lowest of its ports' as they come and go: a
// container joining with a lower one would change the gateway's MAC under
// every other container, whose replies then go to the old one until ARP
// notices, seconds later (Docker sets the bridge's address for the same
// reason).
func fixMAC(link netlink.Link, gws []netip.Prefix) error {
	name := link.Attrs().Name
	if b, err := os.ReadFile("/sys/class/net/" + name + "/addr_assign_type"); err == nil && strings.TrimSpace(string(b)) == "3" {
		return nil // NET_ADDR_SET: set already
	}
	mac := link.Attrs().HardwareAddr
	for _, gw := range gws {
		if gw.Addr().Is4() {
			mac = MAC(gw.Addr())
			break
		}
	}
	if err := netlink.LinkSetHardwareAddr(link, mac); err != nil {
		return fmt.Errorf("bridge %s: set its address: %w", name, err)
	}
	return nil
}

// Delete removes the bridge; a missing one is not an error.
func Delete(name string) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return nil
	}
	return netlink.LinkDel(link)
}

// Exists reports whether a link of that name exists.
func Exists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

// VethName is the host end's name for a container's endpoint on a network.
func VethName(containerID, networkID string) string {
	sum := sha256.Sum256([]byte(containerID + "/" + networkID))
	return "veth" + hex.EncodeToString(sum[:])[:11]
}

// MAC derives Docker's style of address from an IPv4 one: 02:42:a.b.c.d.
func MAC(ip netip.Addr) net.HardwareAddr {
	a := ip.As4()
	return net.HardwareAddr{0x02, 0x42, a[0], a[1], a[2], a[3]}
}

// Endpoint is one interface of a namespace on a bridge.
type Endpoint struct {
	Bridge   string // bridge name
	HostName string // host end of the veth pair
	iface.Config
}

// Attach creates the veth pair, puts one end on the bridge and the other
// into the namespace at nsPath, configured as ep says. On error nothing is
// left behind.
func Attach(nsPath string, ep Endpoint) (retErr error) {
	br, err := netlink.LinkByName(ep.Bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", ep.Bridge, err)
	}
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer ns.Close()
	// The peer is born inside the namespace with its final name: moving a
	// link between namespaces waits for an RCU grace period (~15 ms here).
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: ep.HostName, MasterIndex: br.Attrs().Index, MTU: br.Attrs().MTU},
		PeerName: ep.IfName, PeerNamespace: netlink.NsFd(int(ns)), PeerHardwareAddr: ep.MAC}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s: %w", ep.HostName, err)
	}
	defer func() {
		if retErr != nil {
			_ = Detach(ep.HostName)
		}
	}()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if _, err := iface.Configure(h, ep.Config); err != nil {
		return err
	}
	host, err := netlink.LinkByName(ep.HostName)
	if err != nil {
		return err
	}
	// With br_netfilter, DNAT to a published port happens while the frame
	// is still bridged: a container reaching its own published port needs
	// the frame sent back out the port it came in on.
	if err := netlink.LinkSetHairpin(host, true); err != nil {
		return fmt.Errorf("hairpin mode on %s: %w", ep.HostName, err)
	}
	return netlink.LinkSetUp(host)
}

// Detach deletes the veth pair by its host end (both ends go).
func Detach(hostName string) error {
	link, err := netlink.LinkByName(hostName)
	if err != nil {
		return nil
	}
	return netlink.LinkDel(link)
}
