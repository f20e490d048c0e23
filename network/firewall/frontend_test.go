package firewall

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestFrontendRules(t *testing.T) {
	f := newFirewall(nil, IPv4, "abc123", "/var/lib/berth")
	a, b, c := netip.MustParseAddr("10.1.0.2"), netip.MustParseAddr("10.1.0.3"), netip.MustParseAddr("10.1.0.4")
	port := FrontendPort{Proto: "tcp", HostPort: 8080, CtrPort: 80}
	local := FrontendPort{Proto: "udp", HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 5353, CtrPort: 53}
	dnat := func(fe Frontend) []string {
		var out []string
		for _, r := range f.frontendRules(fe) {
			if r.chain == "BERTH-FE-abc123-0123abcd" {
				out = append(out, strings.Join(r.spec, " "))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		fe   Frontend
		want []string
	}{
		{"one backend", Frontend{ID: "0123abcdef", Bridge: "br1", Ports: []FrontendPort{port}, Backends: []netip.Addr{a}},
			[]string{"-p tcp --dport 8080 -j DNAT --to-destination 10.1.0.2:80"}},
		{"three share evenly", Frontend{ID: "0123abcd", Bridge: "br1", Ports: []FrontendPort{port}, Backends: []netip.Addr{a, b, c}},
			[]string{
				"-p tcp --dport 8080 -m statistic --mode nth --every 3 --packet 0 -j DNAT --to-destination 10.1.0.2:80",
				"-p tcp --dport 8080 -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination 10.1.0.3:80",
				"-p tcp --dport 8080 -j DNAT --to-destination 10.1.0.4:80",
			}},
		{"a host address", Frontend{ID: "0123abcd", Bridge: "br1", Ports: []FrontendPort{local}, Backends: []netip.Addr{a}},
			[]string{"-p udp -d 127.0.0.1/32 --dport 5353 -j DNAT --to-destination 10.1.0.2:53"}},
		{"no backend", Frontend{ID: "0123abcd", Bridge: "br1", Ports: []FrontendPort{port}}, nil},
	} {
		if got := dnat(tc.fe); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
	fe := Frontend{ID: "0123abcd", Bridge: "br1", Ports: []FrontendPort{port, local}, Backends: []netip.Addr{a}}
	if n := len(f.frontendRules(fe)); n != 6 { // per port: DNAT, hairpin, accept
		t.Errorf("%d rules, want 6", n)
	}
	moved := fe
	moved.Ports = []FrontendPort{port}
	if del := diffRules(f.frontendJumps(fe), f.frontendJumps(moved)); len(del) != 1 || !strings.Contains(strings.Join(del[0].spec, " "), "--dport 5353") {
		t.Errorf("jumps to delete when a port goes: %v", del)
	}
}
