package sandbox

import (
	"net/netip"
	"strings"

	"github.com/berth-project/berth/internal/ids"
	"github.com/moby/moby/api/types/network"
)

// Peer is what the embedded resolver knows of one container: a copy,
// taken under the container's lock, of its names and running endpoints.
type Peer struct {
	Owner
	Running bool
	// Networks are its memberships of user-defined networks by network ID.
	Networks map[string]PeerNetwork
}

// PeerNetwork is one membership as the resolver sees it.
type PeerNetwork struct {
	Aliases []string // configured aliases, then the endpoint's
	Links   []string // endpoint links, "target:alias"
	IP, IP6 netip.Addr
	Joined  bool // an endpoint exists: the container runs on it
}

// PeerOf copies what the resolver needs of a container.
func PeerOf(o Owner, running bool, ms map[string]*Membership) Peer {
	p := Peer{Owner: o, Running: running, Networks: map[string]PeerNetwork{}}
	for name, m := range ms {
		if name == network.NetworkBridge {
			continue
		}
		pn := PeerNetwork{Aliases: append([]string{}, m.Aliases...), Links: append([]string{}, m.Links...)}
		if ep := m.Endpoint; ep != nil {
			pn.Aliases = append(pn.Aliases, ep.Aliases...)
			pn.IP, pn.IP6, pn.Joined = ep.IP, ep.IP6, true
		}
		p.Networks[m.NetworkID] = pn
	}
	return p
}

// Resolve answers name for self: the addresses, on the user-defined
// networks self is on, of the running containers called name (by name,
// alias, short ID or hostname), or that an endpoint link of self names
// name (such an alias resolves for the linking container only).
func Resolve(self Peer, peers []Peer, name string) []netip.Addr {
	linked := map[string]string{} // network ID → the container a link names by this alias
	for id, pn := range self.Networks {
		for _, l := range pn.Links {
			target, alias, _ := strings.Cut(l, ":")
			if alias == "" {
				alias = target
			}
			if strings.EqualFold(alias, name) {
				linked[id] = strings.TrimPrefix(target, "/")
			}
		}
	}
	var out []netip.Addr
	for _, c := range peers {
		if !c.Running {
			continue
		}
		for id, pn := range c.Networks {
			if _, mine := self.Networks[id]; !mine || !pn.Joined {
				continue
			}
			match := c.Name == name || ids.Short(c.ID) == name || strings.EqualFold(c.Hostname, name)
			if t, ok := linked[id]; ok && (c.Name == t || c.ID == t || ids.Short(c.ID) == t) {
				match = true
			}
			for _, a := range pn.Aliases {
				match = match || strings.EqualFold(a, name)
			}
			if match {
				out = append(out, pn.IP)
				if pn.IP6.IsValid() {
					out = append(out, pn.IP6)
				}
			}
		}
	}
	return out
}
