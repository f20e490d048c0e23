// Package dns is the embedded resolver of user-defined networks: a server
// on 127.0.0.11:53 (UDP and TCP) inside each such container's network
// namespace that answers the names of containers on its networks and
// forwards everything else to the host's resolvers. The listening sockets
// are made inside the namespace; the forwarding ones are berthd's own, in
// the host's namespace, so the host's resolvers are reachable as usual.
package dns

import (
	"bufio"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/network/netns"
	"github.com/miekg/dns"
)

// Address is where containers find the resolver (Docker's).
const Address = "127.0.0.11"

// LookupFunc answers A and AAAA queries: the addresses (IPv4 and IPv6) of
// name as the container asking sees it (nil: not a container name,
// forward it).
type LookupFunc func(name string) []netip.Addr

// Server is one container's resolver.
type Server struct {
	udp, tcp *dns.Server
	wg       sync.WaitGroup
}

// Start serves in the network namespace at nsPath.
func Start(nsPath string, lookup LookupFunc, upstream []string) (*Server, error) {
	var pc net.PacketConn
	var ln net.Listener
	err := netns.Do(nsPath, func() error {
		var err error
		if pc, err = net.ListenPacket("udp4", Address+":53"); err != nil {
			return err
		}
		if ln, err = net.Listen("tcp4", Address+":53"); err != nil {
			pc.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h := &handler{lookup: lookup, upstream: upstream}
	s := &Server{udp: &dns.Server{PacketConn: pc, Handler: h}, tcp: &dns.Server{Listener: ln, Handler: h}}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		s.wg.Add(1)
		go func(srv *dns.Server) {
			defer s.wg.Done()
			_ = srv.ActivateAndServe()
		}(srv)
	}
	return s, nil
}

// Stop closes the sockets.
func (s *Server) Stop() {
	_ = s.udp.Shutdown()
	_ = s.tcp.Shutdown()
	s.wg.Wait()
}

type handler struct {
	lookup   LookupFunc
	upstream []string
}

func (h *handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
		if addrs := h.lookup(name); addrs != nil && q.Qclass == dns.ClassINET {
			m := new(dns.Msg)
			m.SetReply(req)
			m.Authoritative, m.RecursionAvailable = true, true
			m.Answer = answers(q, addrs)
			// other types, or no address of the type asked: an empty
			// answer (NODATA), as Docker
			_ = w.WriteMsg(m)
			return
		}
	}
	proto := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		proto = "tcp"
	}
	c := &dns.Client{Net: proto, Timeout: 4 * time.Second}
	for _, up := range h.upstream {
		resp, _, err := c.Exchange(req, net.JoinHostPort(up, "53"))
		if err == nil {
			_ = w.WriteMsg(resp)
			return
		}
	}
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeServerFailure)
	_ = w.WriteMsg(m)
}

// HostResolvConf reads the host's resolv.conf: nameservers, search
// domains and options.
func HostResolvConf(path string) (servers, search, options []string) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		switch fs[0] {
		case "nameserver":
			servers = append(servers, fs[1])
		case "search", "domain":
			search = fs[1:]
		case "options":
			options = append(options, fs[1:]...)
		}
	}
	return servers, search, options
}

// answers are the A (IPv4) or AAAA (IPv6) records of addrs for q.
func answers(q dns.Question, addrs []netip.Addr) []dns.RR {
	var out []dns.RR
	for _, a := range addrs {
		hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 600}
		switch {
		case q.Qtype == dns.TypeA && a.Is4():
			out = append(out, &dns.A{Hdr: hdr, A: net.IP(a.AsSlice())})
		case q.Qtype == dns.TypeAAAA && a.Is6():
			out = append(out, &dns.AAAA{Hdr: hdr, AAAA: net.IP(a.AsSlice())})
		}
	}
	return out
}
