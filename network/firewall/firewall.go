// Package firewall keeps berth's packet filtering and NAT in chains of its
// own (iptables and ip6tables, which are nf_tables underneath on Debian),
// so the host's rules are never touched: outbound masquerade per network, forwarding
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
	"os"
	"strconv"
	"strings"

	"github.com/coreos/go-iptables/iptables"
	"golang.org/x/sys/unix"
)

// Family is an IP family: its tool and the kernel switches its rules need.
type Family struct {
	Name     string // "IPv4", "IPv6"
	proto    iptables.Protocol
	host     int    // a single address's prefix length
	loopback string // OUTPUT's DNAT skips it ("" for none)
	forward  string // the forwarding switch under /proc/sys
}

// The families.
var (
	IPv4 = Family{Name: "IPv4", proto: iptables.ProtocolIPv4, host: 32, forward: "/proc/sys/net/ipv4/ip_forward"}
	// IPv6 has no route_localnet: a connection from ::1 cannot be NATed
	// out of the host's loopback, so OUTPUT's DNAT leaves ::1 alone.
	IPv6 = Family{Name: "IPv6", proto: iptables.ProtocolIPv6, host: 128, loopback: "::1/128", forward: "/proc/sys/net/ipv6/conf/all/forwarding"}
)

// Firewall is one daemon's set of chains in one IP family.
type Firewall struct {
	ipt                                 *iptables.IPTables
	fam                                 Family
	suffix, owner                       string
	dnat, post, fwd, isolate1, isolate2 string
}

// Chain name prefixes; a daemon's chains are prefix + suffix.
const (
	prefixDNAT     = "BERTH-"
	prefixPost     = "BERTH-POST-"
	prefixForward  = "BERTH-FWD-"
	prefixIsolate1 = "BERTH-ISO1-"
	prefixIsolate2 = "BERTH-ISO2-"
	ownerComment   = "berth data-root "
)

// The chains every daemon shares, hooked first into FORWARD in this
// order: each daemon's isolation chain is jumped to from sharedIsolation
// and its accepts from sharedForward, so every daemon's isolation is
// evaluated before any daemon's accepts (Docker's isolation stage comes
// first too), whichever started first, and a daemon that is gone cannot
// let traffic past a live one's isolation.
const (
	sharedIsolation = "BERTH-ISOLATION"
	sharedForward   = "BERTH-FORWARD"
)

// lockPath serializes the daemons' changes to the shared hooks.
var lockPath = "/run/berth-firewall.lock"

// New returns the IPv4 firewall whose chain names end in suffix, owned by
// the daemon of data root owner (the jumps into its chains say so, so that
// a later daemon can tell whose chains it finds).
func New(suffix, owner string) (*Firewall, error) { return NewFor(IPv4, suffix, owner) }

// NewFor is New in the given family.
func NewFor(fam Family, suffix, owner string) (*Firewall, error) {
	ipt, err := iptables.New(iptables.IPFamily(fam.proto), iptables.Timeout(10))
	if err != nil {
		return nil, fmt.Errorf("%s: %w (install the iptables package)", fam.tool(), err)
	}
	return newFirewall(ipt, fam, suffix, owner), nil
}

func (fam Family) tool() string {
	if fam.proto == iptables.ProtocolIPv6 {
		return "ip6tables"
	}
	return "iptables"
}

// Family is the firewall's IP family.
func (f *Firewall) Family() Family { return f.fam }

func newFirewall(ipt *iptables.IPTables, fam Family, suffix, owner string) *Firewall {
	return &Firewall{ipt: ipt, fam: fam, suffix: suffix, owner: owner,
		dnat: prefixDNAT + suffix, post: prefixPost + suffix, fwd: prefixForward + suffix,
		isolate1: prefixIsolate1 + suffix, isolate2: prefixIsolate2 + suffix}
}

type chain struct{ table, name string }

func (f *Firewall) chains() []chain {
	return []chain{{"nat", f.dnat}, {"nat", f.post}, {"filter", f.fwd}, {"filter", f.isolate1}, {"filter", f.isolate2}}
}

// hook is a jump into one of this daemon's chains.
type hook struct {
	table, chain, target string
	match                []string
}

func (f *Firewall) hooks() []hook {
	local := []string{"-m", "addrtype", "--dst-type", "LOCAL"}
	fromHost := local
	if f.fam.loopback != "" {
		fromHost = append([]string{"!", "-d", f.fam.loopback}, local...)
	}
	return []hook{
		{"nat", "PREROUTING", f.dnat, local},
		{"nat", "OUTPUT", f.dnat, fromHost},
		{"nat", "POSTROUTING", f.post, nil},
		{"filter", sharedIsolation, f.isolate1, nil},
		{"filter", sharedForward, f.fwd, nil},
	}
}

// hookChains are the chains that can jump into a daemon's own: those of
// hooks, and FORWARD, where an older berth hooked its filter chains.
var hookChains = []chain{{"nat", "PREROUTING"}, {"nat", "OUTPUT"}, {"nat", "POSTROUTING"},
	{"filter", sharedIsolation}, {"filter", sharedForward}, {"filter", "FORWARD"}}

func (f *Firewall) hookSpec(h hook) []string {
	spec := append([]string{}, h.match...)
	if f.owner != "" {
		spec = append(spec, "-m", "comment", "--comment", ownerComment+f.owner)
	}
	return append(spec, "-j", h.target)
}

// Init creates the chains (empty) and the jumps into them, and turns on
// IPv4 forwarding (IPv6 forwarding waits for the first IPv6 network).
func (f *Firewall) Init() error {
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := f.hookShared(); err != nil {
		return err
	}
	for _, c := range f.chains() {
		if err := f.ipt.ClearChain(c.table, c.name); err != nil { // creates it if missing
			return fmt.Errorf("%s chain %s: %w", f.fam.tool(), c.name, err)
		}
	}
	if err := f.unhook(); err != nil {
		return err
	}
	for _, h := range f.hooks() {
		if err := f.ipt.Insert(h.table, h.chain, 1, f.hookSpec(h)...); err != nil {
			return fmt.Errorf("%s jump to %s: %w", f.fam.tool(), h.target, err)
		}
	}
	if err := f.ipt.Append("filter", f.isolate1, "-j", "RETURN"); err != nil {
		return err
	}
	if err := f.ipt.Append("filter", f.isolate2, "-j", "RETURN"); err != nil {
		return err
	}
	if f.fam.proto == iptables.ProtocolIPv6 {
		return nil
	}
	return f.enableForwarding()
}

func (f *Firewall) enableForwarding() error {
	if b, err := os.ReadFile(f.fam.forward); err == nil && strings.TrimSpace(string(b)) == "1" {
		return nil
	}
	return os.WriteFile(f.fam.forward, []byte("1"), 0o644)
}

// hookShared makes the shared chains and puts their jumps first in
// FORWARD, sharedIsolation then sharedForward, above whatever an older
// berth (or a gone daemon) left there. New jumps go in before old ones are
// deleted, so isolation never lapses.
func (f *Firewall) hookShared() error {
	for _, c := range []string{sharedIsolation, sharedForward} {
		if ok, err := f.ipt.ChainExists("filter", c); err != nil {
			return err
		} else if !ok {
			if err := f.ipt.NewChain("filter", c); err != nil {
				return fmt.Errorf("%s chain %s: %w", f.fam.tool(), c, err)
			}
		}
	}
	rules, err := f.forwardRules()
	if err != nil {
		return err
	}
	if len(rules) >= 2 && jumpTarget(rules[0]) == sharedIsolation && jumpTarget(rules[1]) == sharedForward {
		return nil
	}
	if err := f.ipt.Insert("filter", "FORWARD", 1, "-j", sharedForward); err != nil {
		return err
	}
	if err := f.ipt.Insert("filter", "FORWARD", 1, "-j", sharedIsolation); err != nil {
		return err
	}
	// the older jumps, now below: delete them by number, bottom up
	for i := len(rules) - 1; i >= 0; i-- {
		if t := jumpTarget(rules[i]); t == sharedIsolation || t == sharedForward {
			if err := f.ipt.Delete("filter", "FORWARD", strconv.Itoa(i+3)); err != nil {
				return err
			}
		}
	}
	return nil
}

// forwardRules lists FORWARD's rules ("-A FORWARD …").
func (f *Firewall) forwardRules() ([]string, error) {
	all, err := f.ipt.List("filter", "FORWARD")
	if err != nil {
		return nil, err
	}
	var rules []string
	for _, r := range all {
		if strings.HasPrefix(r, "-A ") {
			rules = append(rules, r)
		}
	}
	return rules, nil
}

// unhook deletes every jump into this daemon's chains, whatever its
// matches (an older berth wrote them without the owner comment).
func (f *Firewall) unhook() error {
	ours := map[string]bool{}
	for _, c := range f.chains() {
		ours[c.name] = true
	}
	var errs []error
	for _, from := range hookChains {
		rules, err := f.ipt.List(from.table, from.name)
		if err != nil {
			continue // a shared chain not made yet
		}
		for _, r := range rules {
			if !strings.HasPrefix(r, "-A ") || !ours[jumpTarget(r)] {
				continue
			}
			spec, err := splitRule(r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			errs = append(errs, f.ipt.DeleteIfExists(from.table, from.name, spec[2:]...))
		}
	}
	return errors.Join(errs...)
}

// Teardown removes the jumps and the chains (the shared chains stay, as
// Docker's DOCKER-USER does).
func (f *Firewall) Teardown() error {
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	return f.teardown()
}

func (f *Firewall) teardown() error {
	errs := []error{f.unhook()}
	if ids, err := f.Frontends(); err == nil {
		for _, id := range ids {
			errs = append(errs, f.RemoveFrontendChains(id))
		}
	}
	for _, c := range f.chains() {
		if ok, _ := f.ipt.ChainExists(c.table, c.name); ok {
			errs = append(errs, f.ipt.ClearAndDeleteChain(c.table, c.name))
		}
	}
	return errors.Join(errs...)
}

// lock takes the host-wide lock on the shared hooks.
func lock() (func(), error) {
	fd, err := unix.Open(lockPath, unix.O_CREAT|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("firewall lock: %w", err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("firewall lock: %w", err)
	}
	return func() { unix.Close(fd) }, nil
}

// Other is another daemon's set of chains.
type Other struct {
	Suffix string
	Owner  string // its data root
}

// Others lists the other daemons' chain sets hooked into the shared
// chains. Chains an older berth hooked into FORWARD without an owner are
// not listed: nothing tells whose they are, and the shared chains come
// before them.
func (f *Firewall) Others() ([]Other, error) {
	seen := map[string]bool{f.suffix: true}
	var out []Other
	for _, c := range []struct{ chain, prefix string }{{sharedIsolation, prefixIsolate1}, {sharedForward, prefixForward}} {
		rules, err := f.ipt.List("filter", c.chain)
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			suffix, ok := strings.CutPrefix(jumpTarget(r), c.prefix)
			owner := ruleOwner(r)
			if !ok || seen[suffix] || owner == "" {
				continue
			}
			seen[suffix] = true
			out = append(out, Other{Suffix: suffix, Owner: owner})
		}
	}
	return out, nil
}

// RemoveStale tears down the chains of the other daemons whose data root
// gone says is gone, and returns what it removed.
func (f *Firewall) RemoveStale(gone func(owner string) bool) ([]Other, error) {
	unlock, err := lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	others, err := f.Others()
	if err != nil {
		return nil, err
	}
	var removed []Other
	var errs []error
	for _, o := range others {
		if !gone(o.Owner) {
			continue
		}
		if err := newFirewall(f.ipt, f.fam, o.Suffix, o.Owner).teardown(); err != nil {
			errs = append(errs, fmt.Errorf("chains %s: %w", o.Suffix, err))
			continue
		}
		removed = append(removed, o)
	}
	return removed, errors.Join(errs...)
}

// jumpTarget is the chain an "-A CHAIN … -j TARGET" line jumps to.
func jumpTarget(rule string) string {
	f := strings.Fields(rule)
	for i := len(f) - 2; i >= 0; i-- {
		if f[i] == "-j" {
			return f[i+1]
		}
	}
	return ""
}

// ruleOwner reads the owner comment of a listed rule.
func ruleOwner(rule string) string {
	spec, err := splitRule(rule)
	if err != nil {
		return ""
	}
	for i := 0; i+1 < len(spec); i++ {
		if spec[i] == "--comment" && strings.HasPrefix(spec[i+1], ownerComment) {
			return strings.TrimPrefix(spec[i+1], ownerComment)
		}
	}
	return ""
}

// splitRule splits an iptables -S line into words, undoing its quoting
// ("…" around words with spaces, \" and \\ inside them).
func splitRule(rule string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(rule); i++ {
		c := rule[i]
		switch {
		case quoted && c == '\\' && i+1 < len(rule):
			i++
			cur.WriteByte(rule[i])
		case c == '"':
			quoted, inWord = !quoted, true
		case c == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unbalanced quotes in rule %q", rule)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
