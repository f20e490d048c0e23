package firewall

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestNATRules(t *testing.T) {
	a, b, c := netip.MustParseAddr("10.1.0.2"), netip.MustParseAddr("10.1.0.3"), netip.MustParseAddr("10.1.0.4")
	port := FrontendPort{Proto: "tcp", HostPort: 8080, CtrPort: 80}
	local := FrontendPort{Proto: "udp", HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 5353, CtrPort: 53}
	for _, tc := range []struct {
		name string
		fe   Frontend
		want []string
	}{
		{"one backend", Frontend{Ports: []FrontendPort{port}, Backends: []netip.Addr{a}},
			[]string{"tcp *:8080 -> 10.1.0.2:80"}},
		{"three share evenly", Frontend{Ports: []FrontendPort{port}, Backends: []netip.Addr{a, b, c}},
			[]string{"tcp *:8080 every 3 -> 10.1.0.2:80", "tcp *:8080 every 2 -> 10.1.0.3:80", "tcp *:8080 -> 10.1.0.4:80"}},
		{"a host address", Frontend{Ports: []FrontendPort{local}, Backends: []netip.Addr{a}},
			[]string{"udp 127.0.0.1:5353 -> 10.1.0.2:53"}},
		{"no backend", Frontend{Ports: []FrontendPort{port}}, nil},
	} {
		var got []string
		for _, r := range natRules(tc.fe) {
			got = append(got, r.String())
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
		for _, r := range natRules(tc.fe) {
			if es := dnatExprs(r); len(es) < 7 {
				t.Errorf("%s: %d expressions for %s", tc.name, len(es), r)
			}
		}
	}
}

func TestFrontendMemberRules(t *testing.T) {
	f := newFirewall(nil, IPv4, "abc123", "/var/lib/berth")
	a, b := netip.MustParseAddr("10.1.0.2"), netip.MustParseAddr("10.1.0.3")
	port := FrontendPort{Proto: "tcp", HostPort: 8080, CtrPort: 80}
	fe := Frontend{ID: "0123abcdef", Bridge: "br1", Ports: []FrontendPort{port}, Backends: []netip.Addr{a}, Members: []netip.Addr{a, b}}
	var got []string
	for _, r := range f.frontendRules(fe) {
		got = append(got, r.table+" "+r.chain+" "+strings.Join(r.spec, " "))
	}
	want := []string{
		"nat BERTH-FEP-abc123-0123abcd -s 10.1.0.2/32 -d 10.1.0.2/32 -p tcp --dport 80 -j MASQUERADE",
		"filter BERTH-FEF-abc123-0123abcd -d 10.1.0.2/32 -o br1 -p tcp --dport 80 -j ACCEPT",
		"nat BERTH-FEP-abc123-0123abcd -s 10.1.0.3/32 -d 10.1.0.3/32 -p tcp --dport 80 -j MASQUERADE",
		"filter BERTH-FEF-abc123-0123abcd -d 10.1.0.3/32 -o br1 -p tcp --dport 80 -j ACCEPT",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("member rules:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	moved := fe
	moved.Members = []netip.Addr{b}
	if del := diffRules(f.frontendRules(fe), f.frontendRules(moved)); len(del) != 2 {
		t.Errorf("rules to drop when a member goes: %v", del)
	}
}
