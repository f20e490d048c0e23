package firewall

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// Frontend is a set of published ports several containers stand behind:
// new connections to a host port are spread over the backends (round
// robin per connection), connections already made stay where conntrack
// put them. The DNAT is NAT's (nftables); here, in two iptables chains of
// its own, are the forward accepts and hairpin masquerades of all its
// members, so that a switch between members does not touch iptables.
type Frontend struct {
	ID       string // names the chains (8 hex digits are used)
	Bridge   string // the backends' network's bridge
	Ports    []FrontendPort
	Backends []netip.Addr // serving, in this family; none: the ports lead nowhere
	Members  []netip.Addr // every member with an address: backends, previous, candidates
}

// FrontendPort is one published port of a frontend.
type FrontendPort struct {
	Proto    string     // tcp or udp
	HostIP   netip.Addr // unspecified: every host address
	HostPort int
	CtrPort  int
}

// Chain name prefixes of a frontend's chains: DNAT, hairpin masquerade,
// forward accepts. Each is prefix + suffix + "-" + ID.
const (
	prefixFrontend     = "BERTH-FE-"
	prefixFrontendPost = "BERTH-FEP-"
	prefixFrontendFwd  = "BERTH-FEF-"
)

type frontendChains struct{ dnat, post, fwd string }

func (f *Firewall) frontendChains(id string) frontendChains {
	if len(id) > 8 {
		id = id[:8]
	}
	tail := f.suffix + "-" + id
	return frontendChains{prefixFrontend + tail, prefixFrontendPost + tail, prefixFrontendFwd + tail}
}

// frontendJumps are the rules in the daemon's chains that lead into a
// frontend's: one each from the masquerade and forward chains.
func (f *Firewall) frontendJumps(fe Frontend) []rule {
	fc := f.frontendChains(fe.ID)
	return []rule{{"nat", f.post, []string{"-j", fc.post}, false}, {"filter", f.fwd, []string{"-j", fc.fwd}, false}}
}

// frontendRules are the contents of fe's chains: per member and port, the
// hairpin masquerade and the forward accept.
func (f *Firewall) frontendRules(fe Frontend) []rule {
	fc := f.frontendChains(fe.ID)
	var rs []rule
	for _, p := range fe.Ports {
		cp := strconv.Itoa(p.CtrPort)
		for _, b := range fe.Members {
			ctr := netip.PrefixFrom(b, f.fam.host).String()
			rs = append(rs,
				rule{"nat", fc.post, []string{"-s", ctr, "-d", ctr, "-p", p.Proto, "--dport", cp, "-j", "MASQUERADE"}, false},
				rule{"filter", fc.fwd, []string{"-d", ctr, "-o", fe.Bridge, "-p", p.Proto, "--dport", cp, "-j", "ACCEPT"}, false})
		}
	}
	return rs
}

// SetFrontend writes fe's rules in one transaction: its chains are
// created or emptied and filled, and the jumps into them change from
// those of old (nil: none yet) to those of fe. Nothing changes on error.
func (f *Firewall) SetFrontend(fe Frontend, old *Frontend) error {
	return f.SetFrontendRetiring(fe, old, nil)
}

// SetFrontendRetiring is SetFrontend that also deletes, in the same
// transaction, the rules of ports containers published themselves and
// the frontend takes over.
func (f *Firewall) SetFrontendRetiring(fe Frontend, old *Frontend, retire []Port) error {
	fc := f.frontendChains(fe.ID)
	var del, add []rule
	for _, p := range retire {
		del = append(del, f.portRules(p)...)
	}
	if old != nil {
		oldJumps := f.frontendJumps(*old)
		newJumps := f.frontendJumps(fe)
		del, add = append(del, diffRules(oldJumps, newJumps)...), diffRules(newJumps, oldJumps)
	} else {
		add = f.frontendJumps(fe)
	}
	var in bytes.Buffer
	tables := []struct {
		name   string
		chains []string
	}{{"filter", []string{fc.fwd}}, {"nat", []string{fc.post}}}
	contents := f.frontendRules(fe)
	for _, t := range tables {
		fmt.Fprintf(&in, "*%s\n", t.name)
		for _, c := range t.chains {
			fmt.Fprintf(&in, ":%s - [0:0]\n", c) // created, or emptied under --noflush
		}
		writeRules(&in, "-D", t.name, del)
		writeRules(&in, "-A", t.name, contents)
		writeRules(&in, "-A", t.name, add)
		in.WriteString("COMMIT\n")
	}
	return f.restore(&in)
}

// RemoveFrontend deletes fe's jumps and chains in one transaction.
func (f *Firewall) RemoveFrontend(fe Frontend) error {
	return f.removeFrontendChains(f.frontendChains(fe.ID), f.frontendJumps(fe))
}

func (f *Firewall) removeFrontendChains(fc frontendChains, jumps []rule) error {
	var in bytes.Buffer
	for _, t := range []struct {
		name   string
		chains []string
	}{{"filter", []string{fc.fwd}}, {"nat", []string{fc.dnat, fc.post}}} {
		fmt.Fprintf(&in, "*%s\n", t.name)
		var present []string
		for _, c := range t.chains {
			if ok, _ := f.ipt.ChainExists(t.name, c); ok {
				present = append(present, c)
				fmt.Fprintf(&in, ":%s - [0:0]\n", c)
			}
		}
		for _, r := range jumps {
			if r.table == t.name && f.exists(r) {
				writeRules(&in, "-D", t.name, []rule{r})
			}
		}
		for _, c := range present {
			fmt.Fprintf(&in, "-X %s\n", c)
		}
		in.WriteString("COMMIT\n")
	}
	return f.restore(&in)
}

func (f *Firewall) exists(r rule) bool {
	ok, err := f.ipt.Exists(r.table, r.chain, r.spec...)
	return err == nil && ok
}

// Frontends lists the IDs (as their chains carry them) of this daemon's
// frontends that have chains.
func (f *Firewall) Frontends() ([]string, error) {
	chains, err := f.ipt.ListChains("nat")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range chains {
		for _, prefix := range []string{prefixFrontendPost, prefixFrontend} { // FE-: an older berth's DNAT
			if id, ok := strings.CutPrefix(c, prefix+f.suffix+"-"); ok && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// RemoveFrontendChains removes the chains of frontend id whose record is
// gone (a kill -9 between the record and the rules), and any jump into
// them.
func (f *Firewall) RemoveFrontendChains(id string) error {
	fc := f.frontendChains(id)
	var jumps []rule
	for _, c := range []struct{ table, chain string }{{"nat", f.dnat}, {"nat", f.post}, {"filter", f.fwd}} {
		rs, err := f.ipt.List(c.table, c.chain)
		if err != nil {
			continue
		}
		for _, r := range rs {
			t := jumpTarget(r)
			if t != fc.dnat && t != fc.post && t != fc.fwd {
				continue
			}
			spec, err := splitRule(r)
			if err == nil && len(spec) > 2 {
				jumps = append(jumps, rule{c.table, c.chain, spec[2:], false})
			}
		}
	}
	return f.removeFrontendChains(fc, jumps)
}

// diffRules is the rules of a that b lacks.
func diffRules(a, b []rule) []rule {
	var out []rule
	for _, r := range a {
		found := false
		for _, o := range b {
			if r.table == o.table && r.chain == o.chain && strings.Join(r.spec, " ") == strings.Join(o.spec, " ") {
				found = true
				break
			}
		}
		if !found {
			out = append(out, r)
		}
	}
	return out
}

func writeRules(in *bytes.Buffer, op, table string, rs []rule) {
	for _, r := range rs {
		if r.table != table {
			continue
		}
		in.WriteString(op + " " + r.chain)
		for _, a := range r.spec {
			in.WriteString(" " + quoteRestoreArg(a))
		}
		in.WriteString("\n")
	}
}

// restore feeds in to iptables-restore --noflush: one transaction.
func (f *Firewall) restore(in *bytes.Buffer) error {
	cmd := exec.Command(f.fam.tool()+"-restore", "--noflush", "-w", "10")
	cmd.Stdin = in
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s-restore: %w: %s", f.fam.tool(), err, bytes.TrimSpace(out))
	}
	return nil
}
