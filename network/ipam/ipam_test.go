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
		{"fd00::/64", "", ""},
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
