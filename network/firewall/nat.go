package firewall

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// NAT keeps the frontends' DNAT in an nftables table of its own, written
// over netlink in one transaction: a switch of backends takes about a
// millisecond, where an iptables-restore run takes 20-45 ms here. Its
// chains hook in just before iptables' nat chains (priority dstnat - 1):
// a connection it translates is not translated again there. The
// forward accepts and hairpin masquerades stay in iptables (Firewall),
// for all members, so a switch between members changes this table only.
//
// It writes over one lasting netlink socket: closing a socket that
// committed a batch waits for the kernel (an RCU grace period, 8-18 ms
// here), which a socket per Apply put on every switch's path.
type NAT struct {
	table string

	mu   sync.Mutex
	conn *nftables.Conn // lasting; nil until the first Apply or after an error
}

// natPriority runs the frontends' DNAT before iptables' (dstnat, -100).
var natPriority = nftables.ChainPriorityRef(*nftables.ChainPriorityNATDest - 1)

// NewNAT returns the frontends' NAT of the daemon whose chains end in suffix.
func NewNAT(suffix string) *NAT { return &NAT{table: "berth-" + suffix} }

// natRule is one DNAT rule of a frontend's chain, in a form tests can read.
type natRule struct {
	Proto    string
	HostIP   netip.Addr // zero: every local address
	HostPort int
	Every    int // > 1: every Every-th new connection that gets this far
	To       netip.AddrPort
}

// natRules spreads new connections to each port over the backends as
// Firewall does with the statistic match: rule i takes every (n-i)-th of
// the connections that reach it (numgen inc mod n-i == 0), the last takes
// the rest, so each backend has an even share.
func natRules(fe Frontend) []natRule {
	var out []natRule
	n := len(fe.Backends)
	for _, p := range fe.Ports {
		for i, b := range fe.Backends {
			r := natRule{Proto: p.Proto, HostIP: p.HostIP, HostPort: p.HostPort, To: netip.AddrPortFrom(b, uint16(p.CtrPort))}
			if rest := n - i; rest > 1 {
				r.Every = rest
			}
			out = append(out, r)
		}
	}
	return out
}

func (r natRule) String() string {
	host := "*"
	if r.HostIP.IsValid() {
		host = r.HostIP.String()
	}
	s := fmt.Sprintf("%s %s:%d", r.Proto, host, r.HostPort)
	if r.Every > 1 {
		s += fmt.Sprintf(" every %d", r.Every)
	}
	return s + " -> " + r.To.String()
}

// Apply makes the table hold the DNAT of fes, in one netlink transaction.
// The table and its two base chains stay (deleting a base chain
// unregisters its hooks, which waits for an RCU grace period: a rebuilt
// table took 4-16 ms here); their rules and the frontends' chains are
// flushed and refilled, and the chains of frontends gone are deleted.
func (n *NAT) Apply(fes []Frontend) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		c, err := nftables.New(nftables.AsLasting())
		if err != nil {
			return err
		}
		n.conn = c
	}
	if err := n.apply(n.conn, fes); err != nil {
		// a failed exchange may leave replies behind: start afresh
		_ = n.conn.CloseLasting()
		n.conn = nil
		return err
	}
	return nil
}

func (n *NAT) apply(c *nftables.Conn, fes []Frontend) error {
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: n.table}
	existing := map[string]bool{}
	if chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4); err == nil {
		for _, ch := range chains {
			if ch.Table.Name == n.table {
				existing[ch.Name] = true
			}
		}
	}
	c.AddTable(t)
	var bases []*nftables.Chain
	for _, h := range []struct {
		name string
		hook *nftables.ChainHook
	}{{"prerouting", nftables.ChainHookPrerouting}, {"output", nftables.ChainHookOutput}} {
		base := &nftables.Chain{Name: h.name, Table: t, Type: nftables.ChainTypeNAT, Hooknum: h.hook, Priority: natPriority}
		if !existing[h.name] {
			c.AddChain(base)
		}
		c.FlushChain(base)
		bases = append(bases, base)
	}
	keep := map[string]bool{"prerouting": true, "output": true}
	for _, fe := range fes {
		if len(fe.Backends) == 0 {
			continue // its ports lead nowhere: iptables' reservation answers nothing
		}
		ch := &nftables.Chain{Name: "fe-" + shortID(fe.ID), Table: t}
		keep[ch.Name] = true
		if existing[ch.Name] {
			c.FlushChain(ch)
		} else {
			c.AddChain(ch)
		}
		for _, r := range natRules(fe) {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: dnatExprs(r)})
		}
		for _, p := range fe.Ports {
			for _, base := range bases {
				c.AddRule(&nftables.Rule{Table: t, Chain: base, Exprs: append(matchPort(p.Proto, p.HostIP, p.HostPort),
					&expr.Verdict{Kind: expr.VerdictJump, Chain: ch.Name})})
			}
		}
	}
	for name := range existing {
		if !keep[name] {
			ch := &nftables.Chain{Name: name, Table: t}
			c.FlushChain(ch)
			c.DelChain(ch)
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table %s: %w", n.table, err)
	}
	return nil
}

// Close closes the lasting socket (Apply opens another if called again).
func (n *NAT) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		return nil
	}
	err := n.conn.CloseLasting()
	n.conn = nil
	return err
}

// Remove deletes the table (a missing one is not an error).
func (n *NAT) Remove() error {
	if err := n.Close(); err != nil {
		return err
	}
	c, err := nftables.New()
	if err != nil {
		return err
	}
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: n.table}
	c.AddTable(t)
	c.DelTable(t)
	return c.Flush()
}

// Rules lists the table's frontend chains and rules ("fe-ID: N rules"),
// for tests and leak checks; none when there is no table.
func (n *NAT) Rules() ([]string, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, err
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ch := range chains {
		if ch.Table.Name != n.table || !strings.HasPrefix(ch.Name, "fe-") {
			continue
		}
		rs, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("nft %s %s: %d rules", n.table, ch.Name, len(rs)))
	}
	return out, nil
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// matchPort matches new connections to a local address's port (fib daddr
// type local, as iptables' addrtype LOCAL): nothing the host forwards
// elsewhere is caught.
func matchPort(proto string, hostIP netip.Addr, port int) []expr.Any {
	es := []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
	}
	if hostIP.IsValid() && !hostIP.IsUnspecified() {
		a := hostIP.As4()
		es = append(es,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a[:]})
	}
	l4 := byte(unix.IPPROTO_TCP)
	if proto == "udp" {
		l4 = unix.IPPROTO_UDP
	}
	return append(es,
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{l4}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(port))})
}

func dnatExprs(r natRule) []expr.Any {
	es := matchPort(r.Proto, r.HostIP, r.HostPort)[2:] // the base chain checked the address type
	if r.Every > 1 {
		es = append(es,
			&expr.Numgen{Register: 1, Modulus: uint32(r.Every), Type: unix.NFT_NG_INCREMENTAL},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)})
	}
	a := r.To.Addr().As4()
	port := make([]byte, 2)
	binary.BigEndian.PutUint16(port, r.To.Port())
	return append(es,
		&expr.Immediate{Register: 1, Data: a[:]},
		&expr.Immediate{Register: 2, Data: port},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true})
}
