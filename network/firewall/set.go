package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
)

// Set is one daemon's chains in both IP families. The IPv6 half is
// missing where the host has no ip6tables or no IPv6: IPv4 networks work
// as before and IPv6 ones are refused with the reason.
type Set struct {
	v4, v6 *Firewall
	noV6   error
	nat    *NAT // the frontends' DNAT (nftables)
}

// NewSet returns the IPv4 and, if the host can, the IPv6 firewall of
// suffix and owner (see New).
func NewSet(suffix, owner string) (*Set, error) {
	v4, err := NewFor(IPv4, suffix, owner)
	if err != nil {
		return nil, err
	}
	s := &Set{v4: v4, nat: NewNAT(suffix)}
	s.v6, s.noV6 = NewFor(IPv6, suffix, owner)
	return s, nil
}

func (s *Set) all() []*Firewall {
	if s.v6 == nil {
		return []*Firewall{s.v4}
	}
	return []*Firewall{s.v4, s.v6}
}

// IPv6 says why IPv6 networks cannot have rules (nil: they can).
func (s *Set) IPv6() error {
	if s.noV6 != nil {
		return fmt.Errorf("IPv6 networks need ip6tables: %w", s.noV6)
	}
	return nil
}

// Init runs Init in each family; an IPv6 failure (a kernel without IPv6
// netfilter) disables IPv6 networks rather than the daemon.
func (s *Set) Init() error {
	if err := s.v4.Init(); err != nil {
		return err
	}
	if s.v6 != nil {
		if err := s.v6.Init(); err != nil {
			s.v6, s.noV6 = nil, err
		}
	}
	return nil
}

// RemoveStale runs RemoveStale in each family.
func (s *Set) RemoveStale(gone func(owner string) bool) ([]Other, error) {
	var out []Other
	var errs []error
	for _, f := range s.all() {
		removed, err := f.RemoveStale(gone)
		out = append(out, removed...)
		errs = append(errs, err)
		if f == s.v4 {
			for _, o := range removed { // its frontends' DNAT too
				errs = append(errs, NewNAT(o.Suffix).Remove())
			}
		}
	}
	return out, errors.Join(errs...)
}

// Teardown runs Teardown in each family.
func (s *Set) Teardown() error {
	var errs []error
	for _, f := range s.all() {
		errs = append(errs, f.Teardown())
	}
	errs = append(errs, s.nat.Remove())
	return errors.Join(errs...)
}

// AddNetwork adds the network's rules in both families (in IPv6 only the
// isolation for an IPv4-only network). Nothing is left on error.
func (s *Set) AddNetwork(n Network) error {
	if n.Subnet6.IsValid() && s.v6 == nil {
		return s.IPv6()
	}
	for i, f := range s.all() {
		if err := f.AddNetwork(n); err != nil {
			for _, done := range s.all()[:i] {
				_ = done.RemoveNetwork(n)
			}
			return err
		}
	}
	return nil
}

// RemoveNetwork deletes the network's rules in both families, at once:
// each family's tables are their own (one iptables-restore apiece, 25–35
// ms here), so neither waits for the other.
func (s *Set) RemoveNetwork(n Network) error {
	fws := s.all()
	errs := make([]error, len(fws))
	var wg sync.WaitGroup
	for i, f := range fws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.RemoveNetwork(n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// of is the firewall of an address's family.
func (s *Set) of(a netip.Addr) (*Firewall, error) {
	if a.Is4() {
		return s.v4, nil
	}
	if s.v6 == nil {
		return nil, s.IPv6()
	}
	return s.v6, nil
}

// AddPort publishes a port in the family of its container address.
func (s *Set) AddPort(p Port) error {
	f, err := s.of(p.CtrIP)
	if err != nil {
		return err
	}
	return f.AddPort(p)
}

// RemovePort unpublishes a port.
func (s *Set) RemovePort(p Port) error {
	f, err := s.of(p.CtrIP)
	if err != nil {
		return nil
	}
	return f.RemovePort(p)
}

// ApplyNAT writes the DNAT of every frontend in one transaction.
func (s *Set) ApplyNAT(fes []Frontend) error { return s.nat.Apply(fes) }

// NATRules lists the frontends' DNAT chains (tests, leak checks).
func (s *Set) NATRules() ([]string, error) { return s.nat.Rules() }

// SetFrontend writes a frontend's rules (IPv4: its backends' addresses
// there) in one transaction; see Firewall.SetFrontend.
func (s *Set) SetFrontend(fe Frontend, old *Frontend) error { return s.v4.SetFrontend(fe, old) }

// SetFrontendRetiring is SetFrontend that also deletes the rules of
// ports containers published themselves (see Firewall.SetFrontendRetiring).
func (s *Set) SetFrontendRetiring(fe Frontend, old *Frontend, retire []Port) error {
	return s.v4.SetFrontendRetiring(fe, old, retire)
}

// RemoveFrontend deletes a frontend's rules.
func (s *Set) RemoveFrontend(fe Frontend) error { return s.v4.RemoveFrontend(fe) }

// Frontends lists the frontends that have chains.
func (s *Set) Frontends() ([]string, error) { return s.v4.Frontends() }

// RemoveFrontendChains removes a frontend's chains by ID alone.
func (s *Set) RemoveFrontendChains(id string) error { return s.v4.RemoveFrontendChains(id) }
