package networks

import (
	"net/netip"
	"strings"
	"testing"
)

func TestValidateIPAM(t *testing.T) {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	for _, tc := range []struct {
		name string
		cfgs []IPAMConfig
		v6   bool
		want string // "" for valid
	}{
		{"dual stack", []IPAMConfig{{Subnet: p("10.1.0.0/24")}, {Subnet: p("fd00:1::/64"), Gateway: a("fd00:1::1")}}, true, ""},
		{"IPv6 ignored without IPv6", []IPAMConfig{{Subnet: p("fd00:1::1/64"), Gateway: a("10.0.0.1")}}, false, ""},
		{"host bits", []IPAMConfig{{Subnet: p("fd00:1::1/64")}}, true, "invalid subnet fd00:1::1/64: it should be fd00:1::/64"},
		{"range outside", []IPAMConfig{{Subnet: p("10.1.0.0/24"), IPRange: p("10.2.0.0/25")}}, false, "invalid ip-range 10.2.0.0/25: parent subnet 10.1.0.0/24 doesn't contain ip-range"},
		{"range family", []IPAMConfig{{Subnet: p("10.1.0.0/24"), IPRange: p("fd00::/80")}}, false, "invalid ip-range fd00::/80: parent subnet is an IPv4 block"},
		{"range bigger", []IPAMConfig{{Subnet: p("10.1.0.0/24"), IPRange: p("10.1.0.0/16")}}, false, "CIDR block is bigger than its parent subnet 10.1.0.0/24"},
		{"gateway family", []IPAMConfig{{Subnet: p("fd00:1::/64"), Gateway: a("10.0.0.1")}}, true, "invalid gateway 10.0.0.1: parent subnet is an IPv6 block"},
		{"aux outside", []IPAMConfig{{Subnet: p("10.1.0.0/24"), Aux: map[string]netip.Addr{"host": a("10.9.0.1")}}}, false, "invalid auxiliary address host: parent subnet 10.1.0.0/24 doesn't contain this address"},
		{"two errors", []IPAMConfig{{Subnet: p("10.1.0.1/24"), Gateway: a("10.2.0.1")}}, false, "* invalid subnet 10.1.0.1/24: it should be 10.1.0.0/24\n* invalid gateway 10.2.0.1"},
		{"no subnet", []IPAMConfig{{Gateway: a("10.2.0.1")}}, false, "invalid subnet : invalid CIDR block notation"},
		{"two IPv4", []IPAMConfig{{Subnet: p("10.1.0.0/24")}, {Subnet: p("10.2.0.0/24")}}, false, "bridge driver doesn't support multiple subnets"},
		{"two IPv6", []IPAMConfig{{Subnet: p("fd00:1::/64")}, {Subnet: p("fd00:2::/64")}}, true, "bridge driver doesn't support multiple subnets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validateIPAM(tc.cfgs, tc.v6)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// ShownIPAM is dockerd's buildIPAMResources: configured subnets as
// given, else the subnet in use with its gateway.
func TestShownIPAM(t *testing.T) {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	inUse := Network{Subnet: p("172.18.0.0/16"), Gateway: a("172.18.0.1"), Subnet6: p("fd12::/64"), Gateway6: a("fd12::1")}
	for _, tc := range []struct {
		name string
		mod  func(n *Network)
		want string
	}{
		{"chosen IPv4", func(n *Network) {}, "172.18.0.0/16,,172.18.0.1"},
		{"chosen dual", func(n *Network) { n.EnableIPv6 = true }, "172.18.0.0/16,,172.18.0.1 fd12::/64,,fd12::1"},
		{"configured without gateway", func(n *Network) {
			n.IPAMConfig = []IPAMConfig{{Subnet: p("172.18.0.0/16"), IPRange: p("172.18.5.0/24")}}
		}, "172.18.0.0/16,172.18.5.0/24,"},
		{"configured IPv6 shown without IPv6", func(n *Network) {
			n.IPAMConfig = []IPAMConfig{{Subnet: p("fd12::/64")}}
		}, "172.18.0.0/16,,172.18.0.1 fd12::/64,,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := inUse
			tc.mod(&n)
			var got []string
			for _, c := range n.ShownIPAM() {
				got = append(got, prefixString(c.Subnet)+","+prefixString(c.IPRange)+","+addrString(c.Gateway))
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("got %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
