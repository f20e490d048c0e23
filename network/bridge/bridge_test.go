package bridge

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-project/berth/network/iface"
	"github.com/berth-project/berth/network/netns"
)

// TestAttachReachable connects a fresh namespace to a fresh bridge and
// talks TCP from the namespace to a listener on the bridge's address. It
// all happens inside a namespace of its own ("host"), so the machine's
// routes and bridges cannot interfere and nothing is left on it.
func TestAttachReachable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	host := filepath.Join(t.TempDir(), "host")
	if err := netns.Create(host); err != nil {
		t.Fatal(err)
	}
	defer netns.Remove(host)
	for _, tc := range []attachCase{
		{name: "IPv4", addr: "10.213.0.2/24"},
		{name: "dual stack", addr: "10.213.0.2/24", gw6: "fd00:213::1/64", addr6: "fd00:213::2/64", linkLocal: []string{"169.254.7.7/16", "fe80::77/64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := netns.Do(host, func() error { return attachReachable(t, tc) }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

type attachCase struct {
	name, addr, gw6, addr6 string
	linkLocal              []string
}

func attachReachable(t *testing.T, tc attachCase) error {
	const br = "berthtest0"
	gw := netip.MustParsePrefix("10.213.0.1/24")
	gws := []netip.Prefix{gw}
	if tc.gw6 != "" {
		gws = append(gws, netip.MustParsePrefix(tc.gw6))
	}
	live := func(root string) bool { return root == "/live" }
	me := Owner{DataRoot: "/me", Live: live}
	if err := Ensure(br, gws, me); err != nil {
		return err
	}
	defer Delete(br)
	if err := Ensure(br, gws, me); err != nil {
		return fmt.Errorf("Ensure is not idempotent: %v", err)
	}
	// a bridge whose owner is gone is adopted; a live owner's is not
	if err := Ensure(br, gws, Owner{DataRoot: "/live", Live: live}); err != nil {
		return fmt.Errorf("adopting a gone owner's bridge: %v", err)
	}
	if err := Ensure(br, gws, me); !errors.Is(err, ErrInUse) {
		return fmt.Errorf("adopted a live owner's bridge: %v", err)
	}
	ns := filepath.Join(t.TempDir(), "ns")
	if err := netns.Create(ns); err != nil {
		return err
	}
	defer netns.Remove(ns)
	ep := Endpoint{Bridge: br, HostName: VethName("ctr", "net"), Config: iface.Config{IfName: "eth0",
		Addr: netip.MustParsePrefix(tc.addr), Gateway: gw.Addr(), MAC: MAC(netip.MustParseAddr("10.213.0.2"))}}
	listen := []string{"10.213.0.1"}
	if tc.addr6 != "" {
		ep.Addr6, ep.Gateway6 = netip.MustParsePrefix(tc.addr6), gws[1].Addr()
		listen = append(listen, gws[1].Addr().String())
	}
	for _, ll := range tc.linkLocal {
		ep.LinkLocal = append(ep.LinkLocal, netip.MustParsePrefix(ll))
	}
	if err := Attach(ns, ep); err != nil {
		return err
	}
	// the bridge keeps its own address whatever its ports' are
	if ifc, err := net.InterfaceByName(br); err != nil || ifc.HardwareAddr.String() != "02:42:0a:d5:00:01" {
		t.Errorf("bridge MAC after a port joined: %v %v", ifc, err)
	}
	for _, ip := range listen {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return err
		}
		defer ln.Close()
		go func() {
			if c, err := ln.Accept(); err == nil {
				c.Write([]byte("hi"))
				c.Close()
			}
		}()
		err = netns.Do(ns, func() error {
			ifc, err := net.InterfaceByName("eth0")
			if err != nil {
				return err
			}
			if ifc.HardwareAddr.String() != "02:42:0a:d5:00:02" {
				t.Errorf("MAC %s", ifc.HardwareAddr)
			}
			addrs, _ := ifc.Addrs()
			for _, want := range append([]string{tc.addr, tc.addr6}, tc.linkLocal...) {
				found := want == ""
				for _, a := range addrs {
					found = found || a.String() == want
				}
				if !found {
					t.Errorf("address %s missing from %v", want, addrs)
				}
			}
			// at once: no duplicate address detection holds the IPv6 address back
			c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			b := make([]byte, 2)
			_, err = c.Read(b)
			if string(b) != "hi" {
				t.Errorf("read %q", b)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	if err := Detach(ep.HostName); err != nil || Exists(ep.HostName) {
		return fmt.Errorf("detach: %v", err)
	}
	if err := Attach(ns, Endpoint{Bridge: "nosuchbridge", HostName: VethName("c2", "n"), Config: iface.Config{IfName: "eth1", Addr: netip.MustParsePrefix("10.0.0.2/24")}}); err == nil {
		return fmt.Errorf("attach to a missing bridge")
	}
	if Exists(VethName("c2", "n")) {
		return fmt.Errorf("failed attach left a veth")
	}
	return nil
}
