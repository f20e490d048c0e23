package macvlan

import (
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/berth-project/berth/network/iface"
	"github.com/vishvananda/netlink"
)

func TestParseMode(t *testing.T) {
	for _, c := range []struct {
		in   string
		want netlink.MacvlanMode
		err  bool
	}{
		{"", netlink.MACVLAN_MODE_BRIDGE, false},
		{"bridge", netlink.MACVLAN_MODE_BRIDGE, false},
		{"private", netlink.MACVLAN_MODE_PRIVATE, false},
		{"vepa", netlink.MACVLAN_MODE_VEPA, false},
		{"passthru", netlink.MACVLAN_MODE_PASSTHRU, false},
		{"l2", 0, true},
	} {
		got, err := ParseMode(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseMode(%q) = %v, %v", c.in, got, err)
		}
	}
}

// TestAttachParents: a dummy parent made when none is named, a VLAN link
// made for IF.VLAN, a link attached in a namespace with its address and
// route, and all of it gone again.
func TestAttachParents(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root (links and namespaces)")
	}
	const id = "0123456789abcdef"
	dummy, made, err := EnsureParent("", id)
	if err != nil || !made || dummy != "dm-0123456789ab" {
		t.Fatalf("dummy parent: %q %v %v", dummy, made, err)
	}
	defer DeleteParent(dummy)
	if again, made, err := EnsureParent("", id); err != nil || made || again != dummy {
		t.Fatalf("dummy parent again: %q %v %v", again, made, err)
	}
	// an explicit parent: one end of a veth pair (this kernel may have no
	// dummy links); IF.VLAN where the kernel has 802.1Q
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "bmvtest0"}, PeerName: "bmvtest1"}); err != nil {
		t.Fatal(err)
	}
	defer DeleteParent("bmvtest0")
	parent, made, err := EnsureParent("bmvtest0", id)
	if err != nil || made || parent != "bmvtest0" {
		t.Fatalf("an existing parent: %q %v %v", parent, made, err)
	}
	if vlan, made, err := EnsureParent("bmvtest0.7", id); err == nil {
		if l, err := netlink.LinkByName(vlan); err != nil || !made || l.Type() != "vlan" || l.(*netlink.Vlan).VlanId != 7 {
			t.Fatalf("vlan link: %v %v", l, err)
		}
		if err := DeleteParent(vlan); err != nil {
			t.Fatal(err)
		}
	} else if !strings.Contains(err.Error(), "CONFIG_VLAN_8021Q") {
		t.Fatalf("vlan parent: %v", err)
	}
	for parent, want := range map[string]string{
		"nosuchif0":     "invalid subinterface vlan name nosuchif0, example formatting is eth0.10",
		"nosuchif0.10":  "-o parent interface does was not found on the host: nosuchif0",
		"bmvtest0.x":    "unable to parse a valid vlan id from: x (ex. eth0.10 for vlan 10)",
		"bmvtest0.5000": "vlan id must be between 1-4094, received: 5000",
	} {
		if _, _, err := EnsureParent(parent, id); err == nil || err.Error() != want {
			t.Errorf("parent %s: %v, want %q", parent, err, want)
		}
	}
	ns := t.TempDir() + "/ns"
	if out, err := exec.Command("sh", "-c", "touch "+ns+" && unshare --net="+ns+" true").CombinedOutput(); err != nil {
		t.Skipf("unshare --net: %v %s", err, out)
	}
	defer exec.Command("umount", ns).Run()
	ep := Endpoint{Parent: parent, Config: iface.Config{IfName: "eth0", Addr: netip.MustParsePrefix("10.239.0.5/24"), Gateway: netip.MustParseAddr("10.239.0.1")}}
	if err := Attach(ns, ep); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("nsenter", "--net="+ns, "ip", "-o", "addr", "show", "eth0").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "10.239.0.5/24") {
		t.Fatalf("inside: %s %v", out, err)
	}
	if out, _ := exec.Command("nsenter", "--net="+ns, "ip", "route").CombinedOutput(); !strings.Contains(string(out), "default via 10.239.0.1 dev eth0") {
		t.Fatalf("routes inside: %s", out)
	}
	if err := Attach(ns, ep); err == nil {
		t.Fatal("a second eth0 in the namespace was made")
	}
	if err := Detach(ns, "eth0"); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("nsenter", "--net="+ns, "ip", "-o", "link").CombinedOutput(); strings.Contains(string(out), "eth0") {
		t.Fatalf("eth0 left after Detach: %s", out)
	}
	if err := DeleteParent(dummy); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName(dummy); err == nil {
		t.Fatal("the parent made is still there")
	}
}
