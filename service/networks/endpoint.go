package networks

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/berth-project/berth/network/bridge"
	"github.com/berth-project/berth/network/firewall"
	"github.com/containerd/errdefs"
)

// Endpoint is a container's attachment to a network, persisted in the
// container's record.
type Endpoint struct {
	NetworkID  string     `json:"networkID"`
	EndpointID string     `json:"endpointID"`
	IfName     string     `json:"ifName"`
	HostVeth   string     `json:"hostVeth"`
	IP         netip.Addr `json:"ip,omitzero"`
	PrefixLen  int        `json:"prefixLen"`
	Gateway    netip.Addr `json:"gateway,omitzero"`
	MAC        string     `json:"mac"`
	Aliases    []string   `json:"aliases,omitempty"`
}

// JoinRequest asks for an endpoint.
type JoinRequest struct {
	ContainerID string
	Network     string     // name or ID
	IfName      string     // eth0, eth1, …
	IP          netip.Addr // requested address (--ip); zero: allocate
	MAC         string     // requested MAC; empty: derived from the address
	Aliases     []string
	Gateway     bool // route the container's default traffic through this network
}

// Join allocates an address on the network and connects the namespace at
// nsPath to its bridge. Nothing is left behind on error.
func (s *Service) Join(nsPath string, req JoinRequest) (*Endpoint, error) {
	n, err := s.Get(req.Network)
	if err != nil {
		return nil, err
	}
	if n.Driver != DriverBridge {
		return nil, fmt.Errorf("container cannot be connected to network %s (driver %s): %w", n.Name, n.Driver, errdefs.ErrInvalidArgument)
	}
	s.mu.Lock()
	pool := s.pools[n.ID]
	s.mu.Unlock()
	if pool == nil {
		return nil, errNoPool
	}
	var ip netip.Addr
	if req.IP.IsValid() {
		if n.Default() {
			return nil, fmt.Errorf("user specified IP address is supported on user defined networks only: %w", errdefs.ErrInvalidArgument)
		}
		if err := pool.Claim(req.IP, req.ContainerID); err != nil {
			return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
		}
		ip = req.IP
	} else if ip, err = pool.Allocate(req.ContainerID); err != nil {
		return nil, err
	}
	ep := &Endpoint{NetworkID: n.ID, EndpointID: newID(), IfName: req.IfName, HostVeth: bridge.VethName(req.ContainerID, n.ID),
		IP: ip, PrefixLen: n.Subnet.Bits(), Gateway: n.Gateway, Aliases: req.Aliases}
	mac := bridge.MAC(ip)
	if req.MAC != "" {
		if mac, err = net.ParseMAC(req.MAC); err != nil {
			pool.Release(ip)
			return nil, fmt.Errorf("invalid MAC address %s: %w", req.MAC, errdefs.ErrInvalidArgument)
		}
	}
	ep.MAC = mac.String()
	gw := netip.Addr{}
	if req.Gateway && !n.Internal {
		gw = n.Gateway
	}
	err = bridge.Attach(nsPath, bridge.Endpoint{Bridge: n.Bridge, HostName: ep.HostVeth, IfName: ep.IfName,
		Addr: netip.PrefixFrom(ip, n.Subnet.Bits()), Gateway: gw, MAC: mac})
	if err != nil {
		pool.Release(ip)
		return nil, fmt.Errorf("network %s: %w", n.Name, err)
	}
	return ep, nil
}

// Leave disconnects an endpoint and frees its address. Deleting a veth
// waits for an RCU grace period (~15–30 ms), so it happens in the
// background, off the path of a container's exit; the address is freed
// once the link is gone. Remove and Close wait for pending leaves.
func (s *Service) Leave(ep *Endpoint) {
	s.mu.Lock()
	pool := s.pools[ep.NetworkID]
	s.mu.Unlock()
	veth, ip := ep.HostVeth, ep.IP
	s.leaving.Add(1)
	go func() {
		defer s.leaving.Done()
		_ = bridge.Detach(veth)
		if pool != nil && ip.IsValid() {
			pool.Release(ip)
		}
	}()
}

// Settle waits for the background part of Leave calls.
func (s *Service) Settle() { s.leaving.Wait() }

// Restore takes back the address of an endpoint that survived a daemon
// restart (its container kept running).
func (s *Service) Restore(containerID string, ep *Endpoint) error {
	s.mu.Lock()
	pool := s.pools[ep.NetworkID]
	s.mu.Unlock()
	if pool == nil {
		return errNoPool
	}
	return pool.Claim(ep.IP, containerID)
}

// Port is one published port of a container, persisted in its record.
type Port struct {
	Proto    string     `json:"proto"`
	HostIP   netip.Addr `json:"hostIP,omitzero"` // zero: every address
	HostPort int        `json:"hostPort"`
	CtrPort  int        `json:"ctrPort"`
}

func (p Port) key() string {
	ip := "0.0.0.0"
	if p.HostIP.IsValid() {
		ip = p.HostIP.String()
	}
	return p.Proto + "/" + net.JoinHostPort(ip, strconv.Itoa(p.HostPort))
}

// reservation holds a host port so nothing else binds it while it is
// published (what docker-proxy's listening socket does for dockerd).
type reservation struct {
	ln net.Listener
	pc net.PacketConn
}

func (r *reservation) close() {
	if r.ln != nil {
		r.ln.Close()
	}
	if r.pc != nil {
		r.pc.Close()
	}
}

func reserve(p *Port) (*reservation, error) {
	ip := "0.0.0.0"
	if p.HostIP.IsValid() {
		ip = p.HostIP.String()
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(p.HostPort))
	r := &reservation{}
	var err error
	if p.Proto == "udp" {
		r.pc, err = net.ListenPacket("udp4", addr)
		if err == nil && p.HostPort == 0 {
			p.HostPort = r.pc.LocalAddr().(*net.UDPAddr).Port
		}
	} else {
		r.ln, err = net.Listen("tcp4", addr)
		if err == nil && p.HostPort == 0 {
			p.HostPort = r.ln.Addr().(*net.TCPAddr).Port
		}
	}
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("Bind for %s failed: port is already allocated: %w", addr, errdefs.ErrConflict)
		}
		return nil, err
	}
	return r, nil
}

// Publish reserves the host ports (an ephemeral one where HostPort is 0,
// filled in) and adds their DNAT rules towards ep. Nothing is left on error.
func (s *Service) Publish(ep *Endpoint, ports []Port) (retErr error) {
	n, err := s.Get(ep.NetworkID)
	if err != nil {
		return err
	}
	var done []Port
	defer func() {
		if retErr != nil {
			s.Unpublish(ep, done)
		}
	}()
	for i := range ports {
		p := &ports[i]
		r, err := reserve(p)
		if err != nil {
			return fmt.Errorf("driver failed programming external connectivity on endpoint %s: %w", ep.EndpointID[:12], err)
		}
		s.mu.Lock()
		s.ports[p.key()] = r
		s.mu.Unlock()
		done = append(done, *p)
		if err := s.fw.AddPort(firewall.Port{Proto: p.Proto, HostIP: p.HostIP, HostPort: p.HostPort, CtrIP: ep.IP, CtrPort: p.CtrPort, Bridge: n.Bridge}); err != nil {
			return err
		}
	}
	return nil
}

// Unpublish removes the rules and releases the host ports.
func (s *Service) Unpublish(ep *Endpoint, ports []Port) {
	n, _ := s.Get(ep.NetworkID)
	for _, p := range ports {
		if n != nil {
			_ = s.fw.RemovePort(firewall.Port{Proto: p.Proto, HostIP: p.HostIP, HostPort: p.HostPort, CtrIP: ep.IP, CtrPort: p.CtrPort, Bridge: n.Bridge})
		}
		s.mu.Lock()
		if r := s.ports[p.key()]; r != nil {
			r.close()
			delete(s.ports, p.key())
		}
		s.mu.Unlock()
	}
}

// Close releases every port reservation (daemon shutdown; running
// containers keep their DNAT rules until the next start reconciles them).
func (s *Service) Close() {
	s.leaving.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, r := range s.ports {
		r.close()
		delete(s.ports, k)
	}
}
