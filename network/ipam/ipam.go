// Package ipam hands out addresses of a network's subnet and picks subnets
// for new networks. A pool holds no state of its own on disk: the networks
// service rebuilds it at start from the endpoints it persisted (Claim), so
// an address is never handed out twice, even across a kill -9.
package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
)

// ErrExhausted means every address of the range is in use.
var ErrExhausted = errors.New("no available IPv4 addresses on this network's address pools")

// Pool allocates the addresses of one subnet.
type Pool struct {
	Subnet  netip.Prefix
	Range   netip.Prefix // where dynamic addresses come from (the subnet by default)
	Gateway netip.Addr

	mu   sync.Mutex
	used map[netip.Addr]string // address → owner
	next netip.Addr            // allocation goes round the range from here
}

// NewPool makes a pool; ipRange and gateway may be zero (the subnet and
// its first address).
func NewPool(subnet, ipRange netip.Prefix, gateway netip.Addr) (*Pool, error) {
	subnet = subnet.Masked()
	if !subnet.Addr().Is4() {
		return nil, fmt.Errorf("only IPv4 subnets are supported: %s", subnet)
	}
	if subnet.Bits() > 30 {
		return nil, fmt.Errorf("subnet %s is too small", subnet)
	}
	if !ipRange.IsValid() {
		ipRange = subnet
	}
	ipRange = ipRange.Masked()
	if !subnet.Contains(ipRange.Addr()) || ipRange.Bits() < subnet.Bits() {
		return nil, fmt.Errorf("ip-range %s is not within subnet %s", ipRange, subnet)
	}
	if !gateway.IsValid() {
		gateway = subnet.Addr().Next()
	}
	if !subnet.Contains(gateway) {
		return nil, fmt.Errorf("gateway %s is not within subnet %s", gateway, subnet)
	}
	p := &Pool{Subnet: subnet, Range: ipRange, Gateway: gateway, used: map[netip.Addr]string{}}
	p.used[gateway] = "gateway"
	p.next = ipRange.Addr().Next()
	return p, nil
}

// broadcast is the last address of the subnet.
func (p *Pool) broadcast() netip.Addr {
	a := p.Subnet.Addr().As4()
	bits := p.Subnet.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= (1 << (32 - bits)) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (p *Pool) usable(a netip.Addr) bool {
	return p.Subnet.Contains(a) && a != p.Subnet.Addr() && a != p.broadcast()
}

// Allocate returns a free address of the range for owner. It goes round
// the range rather than reusing the lowest free address, so an address
// just released is not handed straight to the next container.
func (p *Pool) Allocate(owner string) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.next
	for i := 0; ; i++ {
		if !p.Range.Contains(a) {
			a = p.Range.Addr()
		}
		if _, taken := p.used[a]; !taken && p.usable(a) {
			p.used[a] = owner
			p.next = a.Next()
			return a, nil
		}
		a = a.Next()
		if i > 1<<(32-p.Range.Bits()) {
			return netip.Addr{}, ErrExhausted
		}
	}
}

// Claim takes a given address (--ip, or an endpoint restored at start).
func (p *Pool) Claim(a netip.Addr, owner string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.usable(a) {
		return fmt.Errorf("invalid address %s: it does not belong to any of this network's subnets", a)
	}
	if o, taken := p.used[a]; taken && o != owner {
		return fmt.Errorf("Address already in use")
	}
	p.used[a] = owner
	return nil
}

// Release returns an address to the pool.
func (p *Pool) Release(a netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a != p.Gateway {
		delete(p.used, a)
	}
}

// InUse returns the owner of every allocated address but the gateway's.
func (p *Pool) InUse() map[netip.Addr]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[netip.Addr]string{}
	for a, o := range p.used {
		if a != p.Gateway {
			out[a] = o
		}
	}
	return out
}

// Candidates are the default address pools, in Docker's order: the
// 172.17–31/16 networks, then 192.168.0–240/20.
func Candidates() []netip.Prefix {
	var out []netip.Prefix
	for b := 17; b <= 31; b++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(b), 0, 0}), 16))
	}
	for c := 0; c <= 240; c += 16 {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(c), 0}), 20))
	}
	return out
}

// ChooseSubnet returns the first candidate that overlaps none of taken
// (the host's routes and the other networks).
func ChooseSubnet(taken []netip.Prefix) (netip.Prefix, error) {
	for _, c := range Candidates() {
		if !OverlapsAny(c, taken) {
			return c, nil
		}
	}
	return netip.Prefix{}, errors.New("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
}

// OverlapsAny reports whether p overlaps one of others.
func OverlapsAny(p netip.Prefix, others []netip.Prefix) bool {
	for _, o := range others {
		if p.Overlaps(o) {
			return true
		}
	}
	return false
}
