// Package firewall keeps berth's packet filtering and NAT in chains of its
// own (iptables, which is nf_tables underneath on Debian), so the host's
// rules are never touched: outbound masquerade per network, forwarding
// between a bridge and the world, isolation between networks, published
// ports as DNAT (from other hosts, from the host itself and from
// containers: hairpin).
//
// The chain names carry a suffix per daemon, so several daemons (tests) do
// not flush each other's rules. Init empties the chains; the networks
// service then re-adds the rules of what exists, which is how a restart
// after kill -9 ends with neither stale nor duplicate rules.
package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"

	"github.com/coreos/go-iptables/iptables"
)

// Firewall is one daemon's set of chains.
type Firewall struct {
	ipt                                 *iptables.IPTables
	dnat, post, fwd, isolate1, isolate2 string
}

// New returns the firewall whose chain names end in suffix.
func New(suffix string) (*Firewall, error) {
	ipt, err := iptables.New(iptables.IPFamily(iptables.ProtocolIPv4), iptables.Timeout(10))
	if err != nil {
		return nil, fmt.Errorf("iptables: %w (install the iptables package)", err)
	}
	return &Firewall{ipt: ipt,
		dnat: "BERTH-" + suffix, post: "BERTH-POST-" + suffix, fwd: "BERTH-FWD-" + suffix,
		isolate1: "BERTH-ISO1-" + suffix, isolate2: "BERTH-ISO2-" + suffix}, nil
}

type jump struct{ table, chain, target string }

func (f *Firewall) jumps() []struct {
	jump
	spec []string
} {
	return []struct {
		jump
		spec []string
	}{
		{jump{"nat", "PREROUTING", f.dnat}, []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", f.dnat}},
		{jump{"nat", "OUTPUT", f.dnat}, []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", f.dnat}},
		{jump{"nat", "POSTROUTING", f.post}, []string{"-j", f.post}},
		{jump{"filter", "FORWARD", f.isolate1}, []string{"-j", f.isolate1}},
		{jump{"filter", "FORWARD", f.fwd}, []string{"-j", f.fwd}},
	}
}

// Init creates the chains (empty) and the jumps into them, and turns on
// IPv4 forwarding.
func (f *Firewall) Init() error {
	for _, c := range []struct{ table, chain string }{{"nat", f.dnat}, {"nat", f.post}, {"filter", f.fwd}, {"filter", f.isolate1}, {"filter", f.isolate2}} {
		if err := f.ipt.ClearChain(c.table, c.chain); err != nil { // creates it if missing
			return fmt.Errorf("iptables chain %s: %w", c.chain, err)
		}
	}
	// FORWARD: isolation first, then our accepts, both before the host's rules
	js := f.jumps()
	for i := len(js) - 1; i >= 0; i-- {
		j := js[i]
		ok, err := f.ipt.Exists(j.table, j.chain, j.spec...)
		if err != nil {
			return err
		}
		if !ok {
			if err := f.ipt.Insert(j.table, j.chain, 1, j.spec...); err != nil {
				return fmt.Errorf("iptables jump to %s: %w", j.target, err)
			}
		}
	}
	if err := f.ipt.Append("filter", f.isolate1, "-j", "RETURN"); err != nil {
		return err
	}
	if err := f.ipt.Append("filter", f.isolate2, "-j", "RETURN"); err != nil {
		return err
	}
	return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644)
}

// Teardown removes the jumps and the chains.
func (f *Firewall) Teardown() error {
	var errs []error
	for _, j := range f.jumps() {
		errs = append(errs, f.ipt.DeleteIfExists(j.table, j.chain, j.spec...))
	}
	for _, c := range []struct{ table, chain string }{{"nat", f.dnat}, {"nat", f.post}, {"filter", f.fwd}, {"filter", f.isolate1}, {"filter", f.isolate2}} {
		if ok, _ := f.ipt.ChainExists(c.table, c.chain); ok {
			errs = append(errs, f.ipt.ClearAndDeleteChain(c.table, c.chain))
		}
	}
	return errors.Join(errs...)
}

// Network is what the rules of one bridge network need.
type Network struct {
	Bridge   string
	Subnet   netip.Prefix
	Internal bool // no traffic in or out of the subnet
}

type rule struct {
	table, chain string
	spec         []string
	insert       bool // at the top (before the RETURN)
}

func (f *Firewall) networkRules(n Network) []rule {
	br, sub := n.Bridge, n.Subnet.String()
	if n.Internal {
		return []rule{
			{"filter", f.isolate1, []string{"-i", br, "!", "-d", sub, "-j", "DROP"}, true},
			{"filter", f.isolate1, []string{"-o", br, "!", "-s", sub, "-j", "DROP"}, true},
			{"filter", f.fwd, []string{"-i", br, "-o", br, "-j", "ACCEPT"}, false},
		}
	}
	return []rule{
		{"nat", f.post, []string{"-s", sub, "!", "-o", br, "-j", "MASQUERADE"}, false},
		// connections to published ports from the host itself (127.0.0.1)
		{"nat", f.post, []string{"-o", br, "-m", "addrtype", "--src-type", "LOCAL", "-j", "MASQUERADE"}, false},
		{"filter", f.isolate1, []string{"-i", br, "!", "-o", br, "-j", f.isolate2}, true},
		{"filter", f.isolate2, []string{"-o", br, "-j", "DROP"}, true},
		{"filter", f.fwd, []string{"-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"}, false},
		{"filter", f.fwd, []string{"-i", br, "-j", "ACCEPT"}, false},
	}
}

func (f *Firewall) add(rs []rule) error {
	for _, r := range rs {
		var err error
		if r.insert {
			err = f.ipt.InsertUnique(r.table, r.chain, 1, r.spec...)
		} else {
			err = f.ipt.AppendUnique(r.table, r.chain, r.spec...)
		}
		if err != nil {
			return fmt.Errorf("iptables -t %s -A %s %v: %w", r.table, r.chain, r.spec, err)
		}
	}
	return nil
}

func (f *Firewall) del(rs []rule) error {
	var errs []error
	for _, r := range rs {
		errs = append(errs, f.ipt.DeleteIfExists(r.table, r.chain, r.spec...))
	}
	return errors.Join(errs...)
}

// AddNetwork adds a bridge network's rules and lets the bridge route
// 127.0.0.1 (so ports published on localhost reach containers).
func (f *Firewall) AddNetwork(n Network) error {
	if err := f.add(f.networkRules(n)); err != nil {
		_ = f.del(f.networkRules(n))
		return err
	}
	_ = os.WriteFile("/proc/sys/net/ipv4/conf/"+n.Bridge+"/route_localnet", []byte("1"), 0o644)
	return nil
}

// RemoveNetwork deletes a bridge network's rules.
func (f *Firewall) RemoveNetwork(n Network) error { return f.del(f.networkRules(n)) }

// Port is one published port.
type Port struct {
	Proto    string     // tcp or udp
	HostIP   netip.Addr // unspecified: every host address
	HostPort int
	CtrIP    netip.Addr
	CtrPort  int
	Bridge   string
}

func (f *Firewall) portRules(p Port) []rule {
	hp, cp := strconv.Itoa(p.HostPort), strconv.Itoa(p.CtrPort)
	dest := p.CtrIP.String() + ":" + cp
	dnat := []string{"-p", p.Proto}
	if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
		dnat = append(dnat, "-d", p.HostIP.String()+"/32")
	}
	dnat = append(dnat, "--dport", hp, "-j", "DNAT", "--to-destination", dest)
	ctr := p.CtrIP.String() + "/32"
	return []rule{
		{"nat", f.dnat, dnat, false},
		// hairpin: a container reaching its own published port
		{"nat", f.post, []string{"-s", ctr, "-d", ctr, "-p", p.Proto, "--dport", cp, "-j", "MASQUERADE"}, false},
		{"filter", f.fwd, []string{"-d", ctr, "-o", p.Bridge, "-p", p.Proto, "--dport", cp, "-j", "ACCEPT"}, false},
	}
}

// AddPort publishes a port.
func (f *Firewall) AddPort(p Port) error {
	if err := f.add(f.portRules(p)); err != nil {
		_ = f.del(f.portRules(p))
		return err
	}
	return nil
}

// RemovePort unpublishes a port.
func (f *Firewall) RemovePort(p Port) error { return f.del(f.portRules(p)) }

// Rules lists the rules in berth's chains ("-A CHAIN …" lines), for
// tests and leak checks.
func (f *Firewall) Rules() ([]string, error) {
	var out []string
	for _, c := range []struct{ table, chain string }{{"nat", f.dnat}, {"nat", f.post}, {"filter", f.fwd}, {"filter", f.isolate1}, {"filter", f.isolate2}} {
		rs, err := f.ipt.List(c.table, c.chain)
		if err != nil {
			continue
		}
		for _, r := range rs {
			if len(r) > 3 && r[:3] == "-A " {
				out = append(out, r)
			}
		}
	}
	return out, nil
}
