package firewall

import (
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestRulesComeAndGo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	f, err := New("fwtest")
	if err != nil {
		t.Skip(err)
	}
	if err := f.Init(); err != nil {
		t.Fatal(err)
	}
	defer f.Teardown()
	base, _ := f.Rules() // the RETURNs
	n := Network{Bridge: "brfwtest", Subnet: netip.MustParsePrefix("10.214.0.0/16")}
	p := Port{Proto: "tcp", HostPort: 18080, CtrIP: netip.MustParseAddr("10.214.0.2"), CtrPort: 80, Bridge: n.Bridge}
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
	for _, want := range []string{
		"-A BERTH-POST-fwtest -s 10.214.0.0/16 ! -o brfwtest -j MASQUERADE",
		"--dport 18080 -j DNAT --to-destination 10.214.0.2:80",
		"-A BERTH-ISO2-fwtest -o brfwtest -j DROP",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in\n%s", want, all)
		}
	}
	if strings.Count(all, "MASQUERADE") != 3 {
		t.Errorf("duplicate rules:\n%s", all)
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
	// Init after a crash starts from empty chains, without duplicate jumps
	_ = f.AddNetwork(n)
	if err := f.Init(); err != nil {
		t.Fatal(err)
	}
	if rules, _ := f.Rules(); len(rules) != len(base) {
		t.Fatalf("Init kept rules:\n%s", strings.Join(rules, "\n"))
	}
	out, _ := f.ipt.List("filter", "FORWARD")
	if c := strings.Count(strings.Join(out, "\n"), "BERTH-FWD-fwtest"); c != 1 {
		t.Fatalf("%d jumps to the forward chain", c)
	}
	if err := f.Teardown(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.ipt.ChainExists("nat", f.dnat); ok {
		t.Fatal("chain left after Teardown")
	}
}
