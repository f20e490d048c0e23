// Package ipam hands out addresses of a network's subnet (IPv4 or IPv6)
// and picks subnets for new networks. A pool holds no state of its own on disk: the networks
// service rebuilds it at start from the endpoints it persisted (Claim), so
// an address is never handed out twice, even across a kill -9.
package ipam

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
)

// ErrExhausted and ErrExhausted6 mean every address of the range is in use.
var (
	ErrExhausted  = errors.New("no available IPv4 addresses on this network's address pools")
	ErrExhausted6 = errors.New("no available IPv6 addresses on this network's address pools")
)

// Pool allocates the addresses of one subnet.
type Pool struct {
	Subnet  netip.Prefix
	Range   netip.Prefix // where dynamic addresses come from (the subnet by default)
	Gateway netip.Addr

	mu   sync.Mutex
	used map[netip.Addr]string // address → owner
	next netip.Addr            // allocation goes round the range from here
}

// NewPool makes a pool of an IPv4 or IPv6 subnet; ipRange and gateway may
// be zero (the subnet and its first address).
func NewPool(subnet, ipRange netip.Prefix, gateway netip.Addr) (*Pool, error) {
	subnet = subnet.Masked()
	if !subnet.IsValid() || subnet.Addr().Is4In6() {
		return nil, fmt.Errorf("invalid subnet %s", subnet)
	}
	if subnet.Bits() > subnet.Addr().BitLen()-2 {
		return nil, fmt.Errorf("subnet %s is too small", subnet)
	}
	if !ipRange.IsValid() {
		ipRange = subnet
	}
	ipRange = ipRange.Masked()
	if ipRange.Addr().Is4() != subnet.Addr().Is4() || !subnet.Contains(ipRange.Addr()) || ipRange.Bits() < subnet.Bits() {
		return nil, fmt.Errorf("ip-range %s is not within subnet %s", ipRange, subnet)
	}
	if !gateway.IsValid() {
		gateway = subnet.Addr().Next()
	}
	if gateway.Is4() != subnet.Addr().Is4() || !subnet.Contains(gateway) {
		return nil, fmt.Errorf("gateway %s is not within subnet %s", gateway, subnet)
	}
	p := &Pool{Subnet: subnet, Range: ipRange, Gateway: gateway, used: map[netip.Addr]string{}}
	p.used[gateway] = "gateway"
	p.next = ipRange.Addr().Next()
	return p, nil
}

// last is the subnet's last address (IPv4's broadcast).
func last(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// usable: in the subnet, not its network address and, in IPv4, not its
// broadcast address (IPv6 has none, as libnetwork's allocator).
func (p *Pool) usable(a netip.Addr) bool {
	if !p.Subnet.Contains(a) || a == p.Subnet.Addr() {
		return false
	}
	return !a.Is4() || a != last(p.Subnet)
}

// IsIPv6 reports the pool's family.
func (p *Pool) IsIPv6() bool { return p.Subnet.Addr().Is6() }

func (p *Pool) exhausted() error {
	if p.IsIPv6() {
		return ErrExhausted6
	}
	return ErrExhausted
}

// Allocate returns a free address of the range for owner. It goes round
// the range rather than reusing the lowest free address, so an address
// just released is not handed straight to the next container.
func (p *Pool) Allocate(owner string) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.next
	// a range's size, capped: an IPv6 /64 is never gone round
	hostBits := p.Range.Addr().BitLen() - p.Range.Bits()
	limit := uint64(1) << min(hostBits, 24)
	for i := uint64(0); ; i++ {
		if !p.Range.Contains(a) {
			a = p.Range.Addr()
		}
		if _, taken := p.used[a]; !taken && p.usable(a) {
			p.used[a] = owner
			p.next = a.Next()
			return a, nil
		}
		a = a.Next()
		if i > limit {
			return netip.Addr{}, p.exhausted()
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

// Reserve takes an address no container may have (an auxiliary address
// of the network). It must be in the subnet; outside the range is fine.
func (p *Pool) Reserve(a netip.Addr, name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.Subnet.Contains(a) {
		return fmt.Errorf("auxiliary address: (%s:%s) must belong to the master pool: %s", name, a, p.Subnet)
	}
	if _, taken := p.used[a]; !taken {
		p.used[a] = reservedOwner
	}
	return nil
}

// reservedOwner owns the auxiliary addresses; Release leaves them.
const reservedOwner = "\x00reserved"

// Release returns an address to the pool.
func (p *Pool) Release(a netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a != p.Gateway && p.used[a] != reservedOwner {
		delete(p.used, a)
	}
}

// InUse returns the owner of every allocated address but the gateway's.
func (p *Pool) InUse() map[netip.Addr]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[netip.Addr]string{}
	for a, o := range p.used {
		if a != p.Gateway && o != reservedOwner {
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

// ULABase is the /48 of unique local addresses (RFC 4193) that IPv6
// subnets of networks without one are taken from: dockerd derives its
// Global ID from its host ID, berth from seed (the data root), so daemons
// side by side get different ones.
func ULABase(seed string) netip.Prefix {
	sum := sha256.Sum256([]byte(seed))
	gid := binary.BigEndian.Uint64(sum[:]) & (1<<40 - 1)
	b := [16]byte{0xfd}
	for i := 0; i < 5; i++ {
		b[1+i] = byte(gid >> (32 - 8*i))
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), 48)
}

// ChooseSubnet6 returns the first /64 of base that overlaps none of taken.
func ChooseSubnet6(base netip.Prefix, taken []netip.Prefix) (netip.Prefix, error) {
	b := base.Masked().Addr().As16()
	for i := 0; i < 1<<(64-base.Bits()) && i < 1<<16; i++ {
		b[6], b[7] = byte(i>>8), byte(i)
		c := netip.PrefixFrom(netip.AddrFrom16(b), 64)
		if !OverlapsAny(c, taken) {
			return c, nil
		}
	}
	return netip.Prefix{}, errors.New("could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network")
}
