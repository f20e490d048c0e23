package firewall

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestRulesComeAndGo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tc := range []struct {
		fam     Family
		network Network
		ctr     string
		want    []string
		hook    string // in nat OUTPUT
	}{
		{IPv4, Network{Bridge: "brfwtest", Subnet: netip.MustParsePrefix("10.214.0.0/16")}, "10.214.0.2", []string{
			"-A BERTH-POST-fwtest -s 10.214.0.0/16 ! -o brfwtest -j MASQUERADE",
			"--dport 18080 -j DNAT --to-destination 10.214.0.2:80",
			"-A BERTH-POST-fwtest -s 10.214.0.2/32 -d 10.214.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
			"-A BERTH-ISO2-fwtest -o brfwtest -j DROP",
		}, "-m addrtype --dst-type LOCAL"},
		{IPv6, Network{Bridge: "brfwtest", Subnet: netip.MustParsePrefix("10.214.0.0/16"), Subnet6: netip.MustParsePrefix("fd00:214::/64")}, "fd00:214::2", []string{
			"-A BERTH-POST-fwtest -s fd00:214::/64 ! -o brfwtest -j MASQUERADE",
			"--dport 18080 -j DNAT --to-destination [fd00:214::2]:80",
			"-A BERTH-POST-fwtest -s fd00:214::2/128 -d fd00:214::2/128 -p tcp -m tcp --dport 80 -j MASQUERADE",
			"-A BERTH-ISO2-fwtest -o brfwtest -j DROP",
		}, "! -d ::1/128 -m addrtype --dst-type LOCAL"},
	} {
		t.Run(tc.fam.Name, func(t *testing.T) {
			f, err := NewFor(tc.fam, "fwtest", "/var/lib/berth-fwtest")
			if err != nil {
				t.Skip(err)
			}
			if err := f.Init(); err != nil {
				t.Fatal(err)
			}
			defer f.Teardown()
			base, _ := f.Rules() // the RETURNs
			n := tc.network
			p := Port{Proto: "tcp", HostPort: 18080, CtrIP: netip.MustParseAddr(tc.ctr), CtrPort: 80, Bridge: n.Bridge}
			if err := f.AddNetwork(n); err != nil {
				t.Fatal(err)
			}
			if err := f.AddNetwork(n); err != nil { // idempotent
				t.Fatal(err)
			}
			if err := f.AddPort(p); err != nil {
				t.Fatal(err)
			}
			rules, _ := f.Rules()
			all := strings.Join(rules, "\n")
			for _, want := range tc.want {
				if !strings.Contains(all, want) {
					t.Errorf("missing %q in\n%s", want, all)
				}
			}
			if strings.Count(all, "MASQUERADE") != 3 {
				t.Errorf("duplicate rules:\n%s", all)
			}
			out, _ := f.ipt.List("nat", "OUTPUT")
			if hooks := strings.Join(out, "\n"); !strings.Contains(hooks, tc.hook+` -m comment --comment "berth data-root /var/lib/berth-fwtest" -j BERTH-fwtest`) {
				t.Errorf("OUTPUT hook: want %q in\n%s", tc.hook, hooks)
			}
			if err := f.RemovePort(p); err != nil {
				t.Fatal(err)
			}
			if err := f.RemoveNetwork(n); err != nil {
				t.Fatal(err)
			}
			if rules, _ := f.Rules(); len(rules) != len(base) {
				t.Fatalf("rules left:\n%s", strings.Join(rules, "\n"))
			}
			if err := f.RemoveNetwork(n); err != nil { // idempotent: the batch fails, one by one finds none
				t.Fatal(err)
			}
			// a rule gone already: the others still go
			if err := f.AddNetwork(n); err != nil {
				t.Fatal(err)
			}
			first := f.networkRules(n)[0]
			if err := f.ipt.Delete(first.table, first.chain, first.spec...); err != nil {
				t.Fatal(err)
			}
			if err := f.RemoveNetwork(n); err != nil {
				t.Fatal(err)
			}
			if rules, _ := f.Rules(); len(rules) != len(base) {
				t.Fatalf("rules left after a partial remove:\n%s", strings.Join(rules, "\n"))
			}
			// Init after a crash starts from empty chains, without duplicate jumps
			_ = f.AddNetwork(n)
			if err := f.Init(); err != nil {
				t.Fatal(err)
			}
			if rules, _ := f.Rules(); len(rules) != len(base) {
				t.Fatalf("Init kept rules:\n%s", strings.Join(rules, "\n"))
			}
			out, _ = f.ipt.List("filter", sharedForward)
			if c := strings.Count(strings.Join(out, "\n"), "BERTH-FWD-fwtest"); c != 1 {
				t.Fatalf("%d jumps to the forward chain", c)
			}
			if err := f.Teardown(); err != nil {
				t.Fatal(err)
			}
			if ok, _ := f.ipt.ChainExists("nat", f.dnat); ok {
				t.Fatal("chain left after Teardown")
			}
		})
	}
}

// An IPv4-only network has only isolation rules in IPv6; a dual-stack one
// is refused without an IPv6 firewall; ports go to their family's chains.
func TestSetFamilies(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	s, err := NewSet("fwset", "/var/lib/berth-fwset")
	if err != nil || s.IPv6() != nil {
		t.Skip(err, s.IPv6())
	}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	defer s.Teardown()
	v4only := Network{Bridge: "brfwset4", Subnet: netip.MustParsePrefix("10.215.0.0/16")}
	dual := Network{Bridge: "brfwset6", Subnet: netip.MustParsePrefix("10.216.0.0/16"), Subnet6: netip.MustParsePrefix("fd00:216::/64")}
	for _, n := range []Network{v4only, dual} {
		if err := s.AddNetwork(n); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []Port{
		{Proto: "tcp", HostPort: 18081, CtrIP: netip.MustParseAddr("10.216.0.2"), CtrPort: 80, Bridge: dual.Bridge},
		{Proto: "tcp", HostIP: netip.IPv6Unspecified(), HostPort: 18081, CtrIP: netip.MustParseAddr("fd00:216::2"), CtrPort: 80, Bridge: dual.Bridge},
	} {
		if err := s.AddPort(p); err != nil {
			t.Fatal(err)
		}
	}
	r4, _ := s.v4.Rules()
	r6, _ := s.v6.Rules()
	all4, all6 := strings.Join(r4, "\n"), strings.Join(r6, "\n")
	for _, tc := range []struct {
		rules, want string
		present     bool
	}{
		{all6, "-A BERTH-ISO1-fwset -i brfwset4 ! -o brfwset4 -j BERTH-ISO2-fwset", true},
		{all6, "-A BERTH-ISO2-fwset -o brfwset4 -j DROP", true},
		{all6, "-A BERTH-FWD-fwset -i brfwset4 -j ACCEPT", false},
		{all6, "-A BERTH-FWD-fwset -i brfwset6 -j ACCEPT", true},
		{all6, "--to-destination [fd00:216::2]:80", true},
		{all6, "10.216.0.2", false},
		{all4, "--to-destination 10.216.0.2:80", true},
		{all4, "fd00:216::2", false},
	} {
		if strings.Contains(tc.rules, tc.want) != tc.present {
			t.Errorf("%q present: want %v in\n%s", tc.want, tc.present, tc.rules)
		}
	}
	only4 := &Set{v4: s.v4, noV6: errors.New("no ip6tables")}
	if err := only4.AddNetwork(Network{Bridge: "brfwset7", Subnet6: netip.MustParsePrefix("fd00:217::/64")}); err == nil {
		t.Fatal("an IPv6 network without an IPv6 firewall")
	}
	for _, n := range []Network{v4only, dual} {
		if err := s.RemoveNetwork(n); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSplitRule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`-A FORWARD -j BERTH-ISO1-abc`, []string{"-A", "FORWARD", "-j", "BERTH-ISO1-abc"}},
		{`-A FORWARD -m comment --comment "berth data-root /var/lib/my berth" -j X`,
			[]string{"-A", "FORWARD", "-m", "comment", "--comment", "berth data-root /var/lib/my berth", "-j", "X"}},
		{`-A FORWARD -m comment --comment "a \"q\" b" -j X`, []string{"-A", "FORWARD", "-m", "comment", "--comment", `a "q" b`, "-j", "X"}},
	} {
		got, err := splitRule(tc.in)
		if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("splitRule(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := splitRule(`-A X --comment "open`); err == nil {
		t.Error("unbalanced quote accepted")
	}
}

// The shared isolation chain comes first in FORWARD, before the shared
// accepts and before what an older berth hooked there, whichever daemon
// starts when; chains whose owner is gone are removed, others kept.
func TestIsolationBeforeAccepts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	a, err := New("fwtsta", "/var/lib/berth-a")
	if err != nil {
		t.Skip(err)
	}
	b, _ := New("fwtstb", "/var/lib/berth-b")
	legacy, _ := New("fwtstl", "")
	defer a.Teardown()
	defer b.Teardown()
	defer legacy.Teardown()
	// an older berth's accept chain, hooked at the top of FORWARD
	if err := a.ipt.NewChain("filter", legacy.fwd); err != nil {
		t.Fatal(err)
	}
	if err := a.ipt.Insert("filter", "FORWARD", 1, "-j", legacy.fwd); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*Firewall{a, b, a} { // a restarts after b
		if err := f.Init(); err != nil {
			t.Fatal(err)
		}
	}
	rules, _ := a.forwardRules()
	if len(rules) < 3 || jumpTarget(rules[0]) != sharedIsolation || jumpTarget(rules[1]) != sharedForward {
		t.Fatalf("FORWARD does not start with the shared chains:\n%s", strings.Join(rules, "\n"))
	}
	all := strings.Join(rules, "\n")
	if strings.Count(all, "-j "+sharedIsolation) != 1 || strings.Count(all, "-j "+sharedForward) != 1 || strings.Count(all, "-j "+legacy.fwd) != 1 {
		t.Fatalf("jumps duplicated or lost:\n%s", all)
	}
	iso, _ := a.ipt.List("filter", sharedIsolation)
	if n := strings.Count(strings.Join(iso, "\n"), "-j "+a.isolate1); n != 1 {
		t.Fatalf("%d jumps to %s", n, a.isolate1)
	}
	others, err := a.Others()
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{}
	for _, o := range others {
		owners[o.Suffix] = o.Owner
	}
	_, self := owners["fwtsta"]
	if owners["fwtstb"] != "/var/lib/berth-b" || self {
		t.Fatalf("others: %+v", others)
	}
	removed, err := a.RemoveStale(func(owner string) bool { return owner == "/var/lib/berth-b" })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range removed {
		if strings.HasPrefix(r.Suffix, "fwtst") {
			got = append(got, r.Suffix)
		}
	}
	if strings.Join(got, ",") != "fwtstb" {
		t.Fatalf("removed %v", got)
	}
	if ok, _ := a.ipt.ChainExists("filter", b.fwd); ok {
		t.Fatalf("%s left", b.fwd)
	}
	if ok, _ := a.ipt.ChainExists("filter", a.fwd); !ok {
		t.Fatal("RemoveStale removed its own chains")
	}
}
