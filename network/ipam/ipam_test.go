package ipam

import (
	"errors"
	"net/netip"
	"testing"
)

func TestAllocateGoesRoundAndNeverTwice(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("10.9.0.0/29"), netip.Prefix{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Gateway != netip.MustParseAddr("10.9.0.1") {
		t.Fatalf("gateway %s", p.Gateway)
	}
	// .0 network, .1 gateway, .7 broadcast: .2–.6 are usable
	var got []string
	for i := 0; i < 5; i++ {
		a, err := p.Allocate("c")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a.String())
	}
	want := []string{"10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocated %v, want %v", got, want)
		}
	}
	if _, err := p.Allocate("c"); !errors.Is(err, ErrExhausted) {
		t.Fatalf("full pool: %v", err)
	}
	p.Release(netip.MustParseAddr("10.9.0.3"))
	p.Release(netip.MustParseAddr("10.9.0.5"))
	// round robin: .3 was freed first but the cursor is past it
	if a, _ := p.Allocate("c"); a.String() != "10.9.0.3" {
		t.Fatalf("after wrap: %s", a)
	}
	if a, _ := p.Allocate("c"); a.String() != "10.9.0.5" {
		t.Fatalf("next: %s", a)
	}
}

func TestClaimAndRange(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("10.1.5.0/24"), netip.MustParseAddr("10.1.0.254"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := p.Allocate("x"); a.String() != "10.1.5.1" {
		t.Fatalf("range start: %s", a)
	}
	if err := p.Claim(netip.MustParseAddr("10.1.9.9"), "y"); err != nil {
		t.Fatalf("claim outside the range but in the subnet: %v", err)
	}
	if err := p.Claim(netip.MustParseAddr("10.1.9.9"), "z"); err == nil {
		t.Fatal("claimed twice")
	}
	if err := p.Claim(netip.MustParseAddr("10.1.9.9"), "y"); err != nil {
		t.Fatalf("re-claim by its owner (restore): %v", err)
	}
	for _, bad := range []string{"10.2.0.1", "10.1.0.254", "10.1.255.255", "10.1.0.0"} {
		if err := p.Claim(netip.MustParseAddr(bad), "w"); err == nil {
			t.Errorf("claimed %s", bad)
		}
	}
	for _, tc := range []struct{ subnet, rng, gw string }{
		{"10.0.0.0/16", "10.1.0.0/24", ""},
		{"10.0.0.0/16", "", "10.1.0.1"},
		{"10.0.0.0/31", "", ""},
		{"fd00::/64", "fd01::/80", ""},
		{"fd00::/64", "", "fd01::1"},
		{"fd00::/64", "10.0.0.0/24", ""},
		{"fd00::/64", "", "10.0.0.1"},
		{"10.0.0.0/16", "", "fd00::1"},
		{"fd00::/127", "", ""},
	} {
		var r netip.Prefix
		var g netip.Addr
		if tc.rng != "" {
			r = netip.MustParsePrefix(tc.rng)
		}
		if tc.gw != "" {
			g = netip.MustParseAddr(tc.gw)
		}
		if _, err := NewPool(netip.MustParsePrefix(tc.subnet), r, g); err == nil {
			t.Errorf("NewPool(%v) accepted", tc)
		}
	}
}

func TestChooseSubnet(t *testing.T) {
	got, err := ChooseSubnet([]netip.Prefix{netip.MustParsePrefix("172.17.0.0/16"), netip.MustParsePrefix("172.18.5.0/24")})
	if err != nil || got.String() != "172.19.0.0/16" {
		t.Fatalf("got %s %v", got, err)
	}
	if _, err := ChooseSubnet([]netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}); err == nil {
		t.Fatal("everything taken: want an error")
	}
}

func TestIPv6Pool(t *testing.T) {
	for _, tc := range []struct {
		name, subnet, rng, gw string
		want                  []string // the first allocations
	}{
		{"whole subnet", "fd00:1::/64", "", "", []string{"fd00:1::2", "fd00:1::3"}},
		{"gateway given", "fd00:1::/64", "", "fd00:1::2", []string{"fd00:1::1", "fd00:1::3"}},
		{"range", "fd00:1::/64", "fd00:1::8:0/112", "", []string{"fd00:1::8:1", "fd00:1::8:2"}},
		{"tiny, no broadcast in IPv6", "fd00:1::/126", "", "", []string{"fd00:1::2", "fd00:1::3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r netip.Prefix
			var g netip.Addr
			if tc.rng != "" {
				r = netip.MustParsePrefix(tc.rng)
			}
			if tc.gw != "" {
				g = netip.MustParseAddr(tc.gw)
			}
			p, err := NewPool(netip.MustParsePrefix(tc.subnet), r, g)
			if err != nil {
				t.Fatal(err)
			}
			if !p.IsIPv6() {
				t.Fatal("not IPv6")
			}
			for _, w := range tc.want {
				a, err := p.Allocate("c")
				if err != nil || a.String() != w {
					t.Fatalf("allocated %s %v, want %s", a, err, w)
				}
			}
		})
	}
	p, _ := NewPool(netip.MustParsePrefix("fd00:1::/126"), netip.Prefix{}, netip.Addr{})
	p.Allocate("a")
	p.Allocate("b")
	if _, err := p.Allocate("c"); !errors.Is(err, ErrExhausted6) {
		t.Fatalf("full IPv6 pool: %v", err)
	}
	if err := p.Claim(netip.MustParseAddr("fd00:1::"), "x"); err == nil {
		t.Fatal("claimed the subnet's own address")
	}
}

func TestReserveAux(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("10.9.0.0/29"), netip.MustParsePrefix("10.9.0.0/30"), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"10.9.0.2", true}, // in the range: never handed out
		{"10.9.0.6", true}, // outside the range, in the subnet
		{"10.9.1.1", false},
	} {
		if err := p.Reserve(netip.MustParseAddr(tc.addr), "host"); (err == nil) != tc.ok {
			t.Errorf("Reserve(%s): %v", tc.addr, err)
		}
	}
	if a, err := p.Allocate("c"); err != nil || a.String() != "10.9.0.3" {
		t.Fatalf("allocated %s %v past the reserved .2", a, err)
	}
	if err := p.Claim(netip.MustParseAddr("10.9.0.6"), "c"); err == nil {
		t.Fatal("claimed an auxiliary address")
	}
	p.Release(netip.MustParseAddr("10.9.0.2"))
	if _, ok := p.InUse()[netip.MustParseAddr("10.9.0.2")]; ok {
		t.Fatal("InUse lists an auxiliary address")
	}
	if err := p.Claim(netip.MustParseAddr("10.9.0.2"), "d"); err == nil {
		t.Fatal("Release freed an auxiliary address")
	}
}

func TestChooseSubnet6(t *testing.T) {
	base := ULABase("/var/lib/berth")
	if base.Bits() != 48 || base.Addr().As16()[0] != 0xfd || base != ULABase("/var/lib/berth") || base == ULABase("/other") {
		t.Fatalf("ULA base %s", base)
	}
	first, err := ChooseSubnet6(base, nil)
	if err != nil || first.Bits() != 64 || !base.Contains(first.Addr()) {
		t.Fatalf("first %s %v", first, err)
	}
	second, err := ChooseSubnet6(base, []netip.Prefix{first, netip.MustParsePrefix("10.0.0.0/8")})
	if err != nil || second == first || !base.Contains(second.Addr()) {
		t.Fatalf("second %s %v", second, err)
	}
	if _, err := ChooseSubnet6(base, []netip.Prefix{base}); err == nil {
		t.Fatal("everything taken: want an error")
	}
}
