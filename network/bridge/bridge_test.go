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
	if err := netns.Do(host, func() error { return attachReachable(t) }); err != nil {
		t.Fatal(err)
	}
}

func attachReachable(t *testing.T) error {
	const br = "berthtest0"
	gw := netip.MustParsePrefix("10.213.0.1/24")
	live := func(root string) bool { return root == "/live" }
	me := Owner{DataRoot: "/me", Live: live}
	if err := Ensure(br, gw, me); err != nil {
		return err
	}
	defer Delete(br)
	if err := Ensure(br, gw, me); err != nil {
		return fmt.Errorf("Ensure is not idempotent: %v", err)
	}
	// a bridge whose owner is gone is adopted; a live owner's is not
	if err := Ensure(br, gw, Owner{DataRoot: "/live", Live: live}); err != nil {
		return fmt.Errorf("adopting a gone owner's bridge: %v", err)
	}
	if err := Ensure(br, gw, me); !errors.Is(err, ErrInUse) {
		return fmt.Errorf("adopted a live owner's bridge: %v", err)
	}
	ns := filepath.Join(t.TempDir(), "ns")
	if err := netns.Create(ns); err != nil {
		return err
	}
	defer netns.Remove(ns)
	ep := Endpoint{Bridge: br, HostName: VethName("ctr", "net"), IfName: "eth0",
		Addr: netip.MustParsePrefix("10.213.0.2/24"), Gateway: gw.Addr(), MAC: MAC(netip.MustParseAddr("10.213.0.2"))}
	if err := Attach(ns, ep); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "10.213.0.1:0")
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
	if err := Detach(ep.HostName); err != nil || Exists(ep.HostName) {
		return fmt.Errorf("detach: %v", err)
	}
	if err := Attach(ns, Endpoint{Bridge: "nosuchbridge", HostName: VethName("c2", "n"), IfName: "eth1", Addr: netip.MustParsePrefix("10.0.0.2/24")}); err == nil {
		return fmt.Errorf("attach to a missing bridge")
	}
	if Exists(VethName("c2", "n")) {
		return fmt.Errorf("failed attach left a veth")
	}
	return nil
}
