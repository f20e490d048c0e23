package firewall

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"

	"github.com/coreos/go-iptables/iptables"
)

// Network is what the rules of one bridge network need.
type Network struct {
	Bridge   string
	Subnet   netip.Prefix // IPv4
	Subnet6  netip.Prefix // IPv6; zero: the network is IPv4-only
	Internal bool         // no traffic in or out of the subnet
}

// subnet is the network's subnet in f's family (zero: none).
func (f *Firewall) subnet(n Network) netip.Prefix {
	if f.fam.proto == iptables.ProtocolIPv6 {
		return n.Subnet6
	}
	return n.Subnet
}

type rule struct {
	table, chain string
	spec         []string
	insert       bool // at the top (before the RETURN)
}

func (f *Firewall) networkRules(n Network) []rule {
	br := n.Bridge
	if !f.subnet(n).IsValid() {
		// no addresses of this family: only the isolation, should a
		// container configure some itself
		if n.Internal {
			return []rule{
				{"filter", f.isolate1, []string{"-i", br, "!", "-o", br, "-j", "DROP"}, true},
				{"filter", f.isolate1, []string{"-o", br, "!", "-i", br, "-j", "DROP"}, true},
			}
		}
		return []rule{
			{"filter", f.isolate1, []string{"-i", br, "!", "-o", br, "-j", f.isolate2}, true},
			{"filter", f.isolate2, []string{"-o", br, "-j", "DROP"}, true},
		}
	}
	sub := f.subnet(n).String()
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
			return fmt.Errorf("%s -t %s -A %s %v: %w", f.fam.tool(), r.table, r.chain, r.spec, err)
		}
	}
	return nil
}

func (f *Firewall) del(rs []rule) error {
	if f.restoreDelete(rs) == nil {
		return nil
	}
	// one was gone already (or there is no iptables-restore): one by one
	var errs []error
	for _, r := range rs {
		errs = append(errs, f.ipt.DeleteIfExists(r.table, r.chain, r.spec...))
	}
	return errors.Join(errs...)
}

// AddNetwork adds a bridge network's rules; in IPv4 it lets the bridge
// route 127.0.0.1 (so ports published on localhost reach containers), in
// IPv6 it turns forwarding on for a network with an IPv6 subnet.
func (f *Firewall) AddNetwork(n Network) error {
	if err := f.add(f.networkRules(n)); err != nil {
		_ = f.del(f.networkRules(n))
		return err
	}
	if f.fam.proto == iptables.ProtocolIPv4 {
		_ = os.WriteFile("/proc/sys/net/ipv4/conf/"+n.Bridge+"/route_localnet", []byte("1"), 0o644)
	} else if n.Subnet6.IsValid() {
		if err := f.enableForwarding(); err != nil {
			_ = f.del(f.networkRules(n))
			return fmt.Errorf("IPv6 forwarding: %w", err)
		}
	}
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
	dest := net.JoinHostPort(p.CtrIP.String(), cp) // [fd00::2]:80 in IPv6
	dnat := []string{"-p", p.Proto}
	if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
		dnat = append(dnat, "-d", netip.PrefixFrom(p.HostIP, f.fam.host).String())
	}
	dnat = append(dnat, "--dport", hp, "-j", "DNAT", "--to-destination", dest)
	ctr := netip.PrefixFrom(p.CtrIP, f.fam.host).String()
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
	chains := f.chains()
	ids, _ := f.Frontends()
	for _, id := range ids {
		fc := f.frontendChains(id)
		chains = append(chains, chain{"nat", fc.dnat}, chain{"nat", fc.post}, chain{"filter", fc.fwd})
	}
	for _, c := range chains {
		rs, err := f.ipt.List(c.table, c.name)
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
