package networks

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/berth-project/berth/network/firewall"
	"github.com/containerd/errdefs"
)

// Port is one published port of a container, persisted in its record.
type Port struct {
	Proto string `json:"proto"`
	// HostIP zero is every IPv4 address; IPv6's wildcard is "::". A port
	// asked for without a host address is published as both on a
	// dual-stack endpoint (see Publish).
	HostIP   netip.Addr `json:"hostIP,omitzero"`
	HostPort int        `json:"hostPort"`
	CtrPort  int        `json:"ctrPort"`
}

// v6 reports whether the port is published on IPv6 host addresses.
func (p Port) v6() bool { return p.HostIP.Is6() }

func (p Port) hostAddr() string {
	ip := "0.0.0.0"
	if p.HostIP.IsValid() {
		ip = p.HostIP.String()
	}
	return net.JoinHostPort(ip, strconv.Itoa(p.HostPort))
}

func (p Port) key() string { return p.Proto + "/" + p.hostAddr() }

// Wanted is a port as asked for: no HostIP means every address of both
// families.
type Wanted struct {
	Proto    string
	HostIP   netip.Addr // zero: unspecified
	HostPort int        // 0: ephemeral
	// HostPortEnd, above HostPort, makes HostPort-HostPortEnd a range to
	// take the first free port of.
	HostPortEnd int
	CtrPort     int
}

// reservation holds a host port so nothing else binds it while it is
// published (what docker-proxy's listening socket does for dockerd).
type reservation struct {
	ln net.Listener
	pc net.PacketConn
	// owner and port: the container endpoint and port it was taken for;
	// frontend: the frontend holding it now (adoptedFrom: the container
	// it was taken over from)
	owner                 Endpoint
	port                  Port
	frontend, adoptedFrom string
}

func (r *reservation) close() {
	if r.ln != nil {
		r.ln.Close()
	}
	if r.pc != nil {
		r.pc.Close()
	}
}

// reserve binds the port (filling in an ephemeral one). IPv6 sockets are
// IPv6-only, beside the IPv4 one.
func reserve(p *Port) (*reservation, error) {
	fam := "4"
	if p.v6() {
		fam = "6"
	}
	addr := p.hostAddr()
	r := &reservation{}
	var err error
	if p.Proto == "udp" {
		r.pc, err = net.ListenPacket("udp"+fam, addr)
		if err == nil && p.HostPort == 0 {
			p.HostPort = r.pc.LocalAddr().(*net.UDPAddr).Port
		}
	} else {
		r.ln, err = net.Listen("tcp"+fam, addr)
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

// Publish reserves the host ports (an ephemeral one where HostPort is 0)
// and adds their DNAT rules towards ep, and returns the ports published.
// A port without a host address is published on IPv4 and, for an
// endpoint with an IPv6 address, on IPv6 too, with the same host port
// (dockerd binds both). An IPv6 host address needs an IPv6 endpoint:
// berth has no userland proxy to carry it to an IPv4-only container, so
// such a port is left out. Nothing is left on error.
func (s *Service) Publish(ep *Endpoint, wanted []Wanted) (_ []Port, retErr error) {
	s.mu.Lock()
	n := s.nets[ep.NetworkID]
	s.mu.Unlock()
	if n == nil || n.Driver != DriverBridge {
		return nil, nil // no NAT off a bridge: dockerd publishes nothing on macvlan either
	}
	var done []Port
	defer func() {
		if retErr != nil {
			s.Unpublish(ep, done)
		}
	}()
	for _, w := range wanted {
		if w.HostIP.Is6() && !ep.IP6.IsValid() {
			continue
		}
		s.mu.Lock()
		held := s.frontendHolds(ep.ContainerID, Port{Proto: w.Proto, HostIP: w.HostIP, HostPort: w.HostPort})
		s.mu.Unlock()
		if held { // a frontend the container stands behind publishes it
			continue
		}
		ports, err := s.publishRange(ep, w)
		done = append(done, ports...)
		if err != nil {
			return nil, err
		}
	}
	return done, nil
}

// publishRange publishes w at its host port or, for a range, at the first
// port of it that is free.
func (s *Service) publishRange(ep *Endpoint, w Wanted) ([]Port, error) {
	last := max(w.HostPortEnd, w.HostPort)
	for hp := w.HostPort; ; hp++ {
		p := Port{Proto: w.Proto, HostIP: w.HostIP, HostPort: hp, CtrPort: w.CtrPort}
		var ports []Port
		var err error
		if p.HostIP.IsValid() || !ep.IP6.IsValid() {
			err = s.publishOne(ep, &p)
			ports = []Port{p}
		} else {
			ports, err = s.publishBoth(ep, p)
		}
		switch {
		case err == nil:
			return ports, nil
		case hp < last && errdefs.IsConflict(err):
			continue
		case hp > w.HostPort: // a whole range taken, in dockerd's words
			return nil, fmt.Errorf("driver failed programming external connectivity on endpoint %s: all ports are allocated: %w",
				ep.EndpointID[:12], errdefs.ErrConflict)
		default:
			return nil, err
		}
	}
}

// publishBoth publishes p on IPv4 and IPv6; an ephemeral port free in
// IPv4 but taken in IPv6 is given up for another, a few times.
func (s *Service) publishBoth(ep *Endpoint, p Port) ([]Port, error) {
	for try := 0; ; try++ {
		p4 := p
		if err := s.publishOne(ep, &p4); err != nil {
			return nil, err
		}
		p6 := p4
		p6.HostIP = netip.IPv6Unspecified()
		err := s.publishOne(ep, &p6)
		if err == nil {
			return []Port{p4, p6}, nil
		}
		s.Unpublish(ep, []Port{p4})
		if p.HostPort != 0 || !errdefs.IsConflict(err) || try == 10 {
			return nil, err
		}
	}
}

// Republish takes back ports published before a daemon restart.
func (s *Service) Republish(ep *Endpoint, ports []Port) error {
	for i := range ports {
		s.mu.Lock()
		held := s.frontendHolds(ep.ContainerID, ports[i])
		s.mu.Unlock()
		if held {
			continue
		}
		if err := s.publishOne(ep, &ports[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) publishOne(ep *Endpoint, p *Port) error {
	n, err := s.Get(ep.NetworkID)
	if err != nil {
		return err
	}
	r, err := reserve(p)
	if err != nil {
		return fmt.Errorf("driver failed programming external connectivity on endpoint %s: %w", ep.EndpointID[:12], err)
	}
	fp := s.firewallPort(ep, n, *p)
	if r.ln != nil && p.v6() {
		// IPv6 has no route_localnet: a connection from the host to ::1
		// is not NATed, it reaches this socket, which carries it over
		go proxyLoopback(r.ln, net.JoinHostPort(fp.CtrIP.String(), strconv.Itoa(p.CtrPort)))
	}
	r.owner, r.port = *ep, *p
	s.mu.Lock()
	s.ports[p.key()] = r
	s.mu.Unlock()
	if err := s.fw.AddPort(fp); err != nil {
		s.release(*p)
		_ = s.fw.RemovePort(fp)
		return err
	}
	return nil
}

func (s *Service) firewallPort(ep *Endpoint, n *Network, p Port) firewall.Port {
	ctr := ep.IP
	if p.v6() {
		ctr = ep.IP6
	}
	return firewall.Port{Proto: p.Proto, HostIP: p.HostIP, HostPort: p.HostPort, CtrIP: ctr, CtrPort: p.CtrPort, Bridge: n.Bridge}
}

func (s *Service) release(p Port) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.ports[p.key()]; r != nil && r.frontend == "" {
		r.close()
		delete(s.ports, p.key())
	}
}

// Unpublish removes the rules and releases the host ports.
func (s *Service) Unpublish(ep *Endpoint, ports []Port) {
	n, _ := s.Get(ep.NetworkID)
	for _, p := range ports {
		s.mu.Lock()
		r := s.ports[p.key()]
		s.mu.Unlock()
		if r != nil && r.frontend != "" {
			continue // a frontend took it over: its rules and socket are the frontend's
		}
		if n != nil {
			_ = s.fw.RemovePort(s.firewallPort(ep, n, p))
		}
		s.release(p)
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
