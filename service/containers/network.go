package containers

import (
	"path/filepath"

	"github.com/berth-project/berth/service/containers/networking"
	"github.com/berth-project/berth/service/networks"
	"github.com/berth-project/berth/service/networks/sandbox"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
)

// A container's network is its memberships (Record.Attachments), wired
// by package sandbox while it runs; package networking is the glue
// (namespace, files, resolver, connect, disconnect, legacy links). This
// file gives it the containers, each under its lock.

func (c *Container) netnsPath() string { return filepath.Join(c.runDir, "netns") }

// net is c as package networking works on it; callers hold c.mu.
func (c *Container) net() *networking.Container {
	return &networking.Container{ID: c.ID, Name: c.Name, Hostname: c.Hostname, Dir: c.dir, NetnsPath: c.netnsPath(),
		Config: c.Config, HostConfig: c.HostConfig, Attachments: &c.Attachments, Resolver: &c.resolver}
}

// peers are the containers as package networking sees the others.
type peers struct{ s *Service }

// Peer describes ref for container:<name> modes and legacy links.
func (p peers) Peer(ref string) (networking.Peer, error) {
	c, err := p.s.Get(ref)
	if err != nil {
		return networking.Peer{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.net().Peer(c.running(), c.State.Pid), nil
}

// Peers are every container as the embedded resolver sees it.
func (p peers) Peers() []sandbox.Peer {
	all := p.s.all()
	out := make([]sandbox.Peer, 0, len(all))
	for _, c := range all {
		c.mu.Lock()
		out = append(out, sandbox.PeerOf(c.net().Owner(), c.running(), c.Networks))
		c.mu.Unlock()
	}
	return out
}

// networkUsers returns the containers with a membership of a network.
func (s *Service) networkUsers(id string) []networks.Use {
	var out []networks.Use
	for _, c := range s.all() {
		c.mu.Lock()
		out = append(out, networking.Uses(id, c.net())...)
		c.mu.Unlock()
	}
	return out
}

// Connect joins a container to a network (at once if it runs, at its next
// start otherwise).
func (s *Service) Connect(ref, netRef string, es *network.EndpointSettings) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	n, err := s.networks.Get(netRef)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.net.Connect(c.net(), c.running(), n, es); err != nil {
		return err
	}
	return s.save(c)
}

// Disconnect removes a container from a network.
func (s *Service) Disconnect(ref, netRef string, force bool) error {
	c, err := s.Get(ref)
	if err != nil {
		if force && errdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	n, err := s.networks.Get(netRef)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.net.Disconnect(c.net(), n); err != nil {
		return err
	}
	return s.save(c)
}
