package networking

import (
	"net/netip"
	"strings"

	"github.com/berth-project/berth/network/dns"
	"github.com/berth-project/berth/service/networks"
	"github.com/berth-project/berth/service/networks/sandbox"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// A container's network is its memberships (Attachments.Networks), wired
// by package sandbox while it runs. This package is the glue between a
// container's record and the networks: the container's namespace and
// files, its peers for the resolver, connect and disconnect, legacy
// links. It keeps no state of its own: the record keeps the attachments,
// the container its resolver, and the containers service locks both.

// Attachments are a container's networks as its record keeps them.
type Attachments struct {
	// Networks are the container's memberships by network name.
	Networks map[string]*sandbox.Membership `json:"networks,omitempty"`
	// Ports are the ports published for the current run.
	Ports []networks.Port `json:"ports,omitempty"`
}

// Resolver is a running container's embedded DNS server, on
// user-defined networks only.
type Resolver struct {
	srv *dns.Server
}

// Container is one container as its network glue works on it: a view,
// built under the container's lock, that every function taking one
// expects to be held. Attachments and Resolver are the container's own,
// changed in place.
type Container struct {
	ID, Name   string // Name with its leading "/"
	Hostname   string
	Dir        string // where its hosts and resolv.conf are written
	NetnsPath  string // its pinned network namespace while it runs
	Config     *container.Config
	HostConfig *container.HostConfig
	*Attachments
	Resolver *Resolver
}

// Owner names c for package sandbox.
func (c *Container) Owner() sandbox.Owner {
	return sandbox.Owner{ID: c.ID, Name: strings.TrimPrefix(c.Name, "/"), Hostname: c.Hostname}
}

// Peer is a container as another one's network sees it: what
// container:<name> network modes and legacy links read of it, copied
// under its lock.
type Peer struct {
	ID       string
	Name     string // with its leading "/"
	Hostname string
	Running  bool
	Pid      int    // its init's, while it runs
	Dir      string // where its hosts and resolv.conf are
	Mode     container.NetworkMode
	// OnBridge says it has an endpoint on the default bridge, at BridgeIP.
	OnBridge bool
	BridgeIP netip.Addr
	Env      []string       // Config.Env
	Exposed  []network.Port // Config.ExposedPorts
}

// Peer copies what the other containers' networks read of c, which runs
// (pid its init's) or not.
func (c *Container) Peer(running bool, pid int) Peer {
	p := Peer{ID: c.ID, Name: c.Name, Hostname: c.Hostname, Running: running, Pid: pid, Dir: c.Dir}
	if c.HostConfig != nil {
		p.Mode = c.HostConfig.NetworkMode
	}
	if m := c.Networks[network.NetworkBridge]; m != nil && m.Endpoint != nil {
		p.OnBridge, p.BridgeIP = true, m.Endpoint.IP
	}
	if c.Config != nil {
		p.Env = append([]string{}, c.Config.Env...)
		for port := range c.Config.ExposedPorts {
			p.Exposed = append(p.Exposed, port)
		}
	}
	return p
}

func (p Peer) owner() sandbox.Owner {
	return sandbox.Owner{ID: p.ID, Name: strings.TrimPrefix(p.Name, "/"), Hostname: p.Hostname}
}

// Containers is what a container's network needs of the other
// containers; each is read under its own lock.
type Containers interface {
	// Peer describes the container ref (full ID, name or unique ID
	// prefix), with the containers service's errors.
	Peer(ref string) (Peer, error)
	// Peers are every container as the embedded resolver sees it.
	Peers() []sandbox.Peer
}

// NetnsMaker pins a new network namespace with lo up at a path
// (netns.Pool, which makes them ahead).
type NetnsMaker interface {
	Create(path string) error
}

// Service wires containers' networks.
type Service struct {
	networks   *networks.Service
	wiring     *sandbox.Wiring
	netns      NetnsMaker // nil: netns.Create
	containers Containers
}

// New returns the glue between the containers cs describes and nets;
// netns, if not nil, makes their namespaces.
func New(nets *networks.Service, netns NetnsMaker, cs Containers) *Service {
	return &Service{networks: nets, wiring: sandbox.NewWiring(nets), netns: netns, containers: cs}
}
