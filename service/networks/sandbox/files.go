package sandbox

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/network/dns"
	"github.com/berth-project/berth/service/networks"
)

// Files is what a container's /etc/hosts and /etc/resolv.conf are made
// of for one run.
type Files struct {
	Hostname string
	// HostNetwork: the container shares the host's network, so it gets
	// the host's hosts file and resolvers as they are.
	HostNetwork bool
	Endpoints   []*networks.Endpoint // the primary first; none: no address of its own
	ExtraHosts  []string             // --add-host "name:ip" (or "name=ip")
	HostGateway string               // what "host-gateway" stands for
	LinkLines   []string             // hosts lines of legacy links (LinkHostsLine)
	DNS         []netip.Addr         // --dns
	DNSSearch   []string             // --dns-search
	DNSOptions  []string             // --dns-option
	// Embedded: the embedded resolver answers the container's queries.
	Embedded bool
}

// hostFiles is what Files starts from: the host's own files.
type hostFiles struct {
	hosts                    string // /etc/hosts, for the host's network
	servers, search, options []string
}

func readHostFiles() hostFiles {
	var h hostFiles
	if b, err := os.ReadFile("/etc/hosts"); err == nil {
		h.hosts = string(b)
	}
	h.servers, h.search, h.options = dns.HostResolvConf("/etc/resolv.conf")
	return h
}

// Write writes hosts and resolv.conf into dir.
func (f Files) Write(dir string) error {
	h := readHostFiles()
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(f.hosts(h)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(f.resolvConf(h)), 0o644)
}

const defaultHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

func (f Files) hosts(h hostFiles) string {
	hosts := defaultHosts
	if f.HostNetwork && h.hosts != "" {
		hosts = h.hosts
	}
	for _, e := range f.ExtraHosts {
		name, ip, ok := strings.Cut(e, ":")
		if !ok {
			name, ip, _ = strings.Cut(e, "=")
		}
		if ip == "host-gateway" {
			ip = f.HostGateway
		}
		hosts += ip + "\t" + name + "\n"
	}
	for _, l := range f.LinkLines {
		hosts += l
	}
	if !f.HostNetwork {
		if len(f.Endpoints) > 0 {
			ep := f.Endpoints[0]
			hosts += ep.IP.String() + "\t" + f.Hostname + "\n"
			if ep.IP6.IsValid() {
				hosts += ep.IP6.String() + "\t" + f.Hostname + "\n"
			}
		} else {
			hosts += "127.0.1.1\t" + f.Hostname + "\n"
		}
	}
	return hosts
}

// resolvConf is dockerd's: the host's resolvers without loopback ones
// (Google's as the fallback), or --dns; on a user-defined network the
// embedded resolver with ndots:0.
func (f Files) resolvConf(h hostFiles) string {
	search, options := h.search, h.options
	var servers []string
	for _, ns := range h.servers {
		if f.HostNetwork || (!strings.HasPrefix(ns, "127.") && ns != "::1") {
			servers = append(servers, ns)
		}
	}
	if len(servers) == 0 && !f.HostNetwork {
		servers = []string{"8.8.8.8", "8.8.4.4"} // Docker's fallback
	}
	if len(f.DNS) > 0 {
		servers = nil
		for _, a := range f.DNS {
			servers = append(servers, a.String())
		}
	}
	if len(f.DNSSearch) > 0 {
		search = f.DNSSearch
	}
	if len(f.DNSOptions) > 0 {
		options = f.DNSOptions
	}
	var rc strings.Builder
	if f.Embedded && len(f.Endpoints) > 0 {
		rc.WriteString("nameserver " + dns.Address + "\n")
		options = append(append([]string{}, options...), "ndots:0")
	} else {
		for _, ns := range servers {
			rc.WriteString("nameserver " + ns + "\n")
		}
	}
	if len(search) > 0 {
		rc.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	if len(options) > 0 {
		rc.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return rc.String()
}

// Upstream is where the embedded resolver forwards what it does not
// answer: --dns, else the host's resolvers.
func Upstream(configured []netip.Addr) []string {
	var out []string
	for _, a := range configured {
		out = append(out, a.String())
	}
	if len(out) == 0 {
		out, _, _ = dns.HostResolvConf("/etc/resolv.conf")
	}
	return out
}
