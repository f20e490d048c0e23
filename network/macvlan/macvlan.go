// Package macvlan connects network namespaces to a host interface through
// macvlan links, and makes the parent interfaces Docker's macvlan driver
// makes: a dummy when none is named, an 802.1Q link for "IF.VLAN".
package macvlan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-project/berth/network/iface"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ParseMode reads the macvlan_mode option (empty: bridge, the default).
func ParseMode(s string) (netlink.MacvlanMode, error) {
	switch s {
	case "", "bridge":
		return netlink.MACVLAN_MODE_BRIDGE, nil
	case "private":
		return netlink.MACVLAN_MODE_PRIVATE, nil
	case "vepa":
		return netlink.MACVLAN_MODE_VEPA, nil
	case "passthru":
		return netlink.MACVLAN_MODE_PASSTHRU, nil
	}
	return 0, fmt.Errorf("requested macvlan mode '%s' is not valid, 'bridge' mode is the macvlan driver default", s)
}

// DummyName is the parent Docker makes for a macvlan network without
// one: dm- and the network ID's first 12 characters.
func DummyName(networkID string) string {
	if len(networkID) > 12 {
		networkID = networkID[:12]
	}
	return "dm-" + networkID
}

// EnsureParent makes sure the parent interface exists and is up: an
// existing one is used as it is; none named gets a dummy (DummyName), or
// on a kernel without dummy links a veth pair of that name whose peer
// carries nothing off the host either; a missing "IF.VLAN" whose IF
// exists gets an 802.1Q link. made says whether it created the link, which
// the network then owns (DeleteParent).
func EnsureParent(parent, networkID string) (name string, made bool, err error) {
	if parent == "" {
		parent = DummyName(networkID)
		if _, err := netlink.LinkByName(parent); err != nil {
			err := netlink.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: parent}})
			if errors.Is(err, unix.EOPNOTSUPP) {
				peer := "dp-" + parent[len("dm-"):]
				err = netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: parent}, PeerName: peer})
				if err == nil { // up, so that the pair has a carrier, which macvlan links follow
					if err = setUp(peer); err != nil {
						_ = DeleteParent(parent)
					}
				}
			}
			if err != nil {
				return "", false, fmt.Errorf("create the parent %s: %w", parent, err)
			}
			made = true
		}
	} else if _, err := netlink.LinkByName(parent); err != nil {
		// dockerd's words, its typo included
		base, vlan, ok := strings.Cut(parent, ".")
		if !ok {
			return "", false, fmt.Errorf("invalid subinterface vlan name %s, example formatting is eth0.10", parent)
		}
		id, err := strconv.Atoi(vlan)
		if err != nil {
			return "", false, fmt.Errorf("unable to parse a valid vlan id from: %s (ex. eth0.10 for vlan 10)", vlan)
		}
		if id < 1 || id > 4094 {
			return "", false, fmt.Errorf("vlan id must be between 1-4094, received: %d", id)
		}
		lower, err := netlink.LinkByName(base)
		if err != nil {
			return "", false, fmt.Errorf("-o parent interface does was not found on the host: %s", base)
		}
		if err := netlink.LinkAdd(&netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: parent, ParentIndex: lower.Attrs().Index}, VlanId: id}); err != nil {
			if errors.Is(err, unix.EOPNOTSUPP) {
				err = fmt.Errorf("%w (the kernel has no 802.1Q VLAN support: CONFIG_VLAN_8021Q)", err)
			}
			return "", false, fmt.Errorf("create the vlan link %s: %w", parent, err)
		}
		made = true
	}
	if err := setUp(parent); err != nil {
		if made {
			_ = DeleteParent(parent)
		}
		return "", false, fmt.Errorf("parent %s: %w", parent, err)
	}
	return parent, made, nil
}

func setUp(name string) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	return netlink.LinkSetUp(link)
}

// DeleteParent removes a parent EnsureParent made; a missing one is not
// an error.
func DeleteParent(name string) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return nil
	}
	return netlink.LinkDel(link)
}

// Endpoint is one interface of a namespace on a parent.
type Endpoint struct {
	Parent string
	Mode   netlink.MacvlanMode
	iface.Config
}

// Attach creates a macvlan link on the parent inside the namespace at
// nsPath, configured as ep says. It is born there with its final name (a
// link moved between namespaces waits for an RCU grace period). On error
// nothing is left behind.
func Attach(nsPath string, ep Endpoint) error {
	parent, err := netlink.LinkByName(ep.Parent)
	if err != nil {
		return fmt.Errorf("parent %s: %w", ep.Parent, err)
	}
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer ns.Close()
	link := &netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: ep.IfName, ParentIndex: parent.Attrs().Index, MTU: parent.Attrs().MTU,
		HardwareAddr: ep.MAC, Namespace: netlink.NsFd(int(ns))}, Mode: ep.Mode}
	if err := netlink.LinkAdd(link); err != nil {
		return fmt.Errorf("create macvlan link on %s: %w", ep.Parent, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if in, err := iface.Configure(h, ep.Config); err != nil {
		if in != nil {
			_ = h.LinkDel(in)
		} else {
			_ = Detach(nsPath, ep.IfName)
		}
		return err
	}
	return nil
}

// Detach deletes the interface from the namespace at nsPath; a namespace
// or interface already gone is not an error (a link dies with its
// namespace).
func Detach(nsPath, ifName string) error {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(ifName)
	if err != nil {
		return nil
	}
	return h.LinkDel(link)
}
