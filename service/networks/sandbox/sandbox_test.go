package sandbox

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-project/berth/service/networks"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

var addr = netip.MustParseAddr

func TestOrder(t *testing.T) {
	ms := map[string]*Membership{"zeta": {}, "bridge": {}, "alpha": {}}
	for _, tc := range []struct {
		mode string
		want []string
	}{
		{"", []string{"bridge", "alpha", "zeta"}},
		{"default", []string{"bridge", "alpha", "zeta"}},
		{"zeta", []string{"zeta", "alpha", "bridge"}},
		{"gone", []string{"alpha", "bridge", "zeta"}},
	} {
		if got := Order(&container.HostConfig{NetworkMode: container.NetworkMode(tc.mode)}, ms); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Order(%q) = %v, want %v", tc.mode, got, tc.want)
		}
	}
}

func TestHosts(t *testing.T) {
	ep := &networks.Endpoint{IP: addr("172.18.0.2"), IP6: addr("fd00::2")}
	for _, tc := range []struct {
		name string
		f    Files
		host string // the host's /etc/hosts
		want string // after the default lines
	}{
		{"no network", Files{Hostname: "h"}, "", "127.0.1.1\th\n"},
		{"endpoint, both families", Files{Hostname: "h", Endpoints: []*networks.Endpoint{ep}}, "", "172.18.0.2\th\nfd00::2\th\n"},
		{"extra hosts and links", Files{Hostname: "h", ExtraHosts: []string{"a:1.2.3.4", "b=5.6.7.8", "gw:host-gateway"}, HostGateway: "172.17.0.1", LinkLines: []string{"172.17.0.3\tdb c1 db1\n"}},
			"", "1.2.3.4\ta\n5.6.7.8\tb\n172.17.0.1\tgw\n172.17.0.3\tdb c1 db1\n127.0.1.1\th\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.f.hosts(hostFiles{hosts: tc.host})
			if got != defaultHosts+tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, defaultHosts+tc.want)
			}
		})
	}
	got := Files{HostNetwork: true, ExtraHosts: []string{"x:9.9.9.9"}}.hosts(hostFiles{hosts: "10.0.0.1 myhost\n"})
	if got != "10.0.0.1 myhost\n9.9.9.9\tx\n" {
		t.Fatalf("host network: got %q", got)
	}
}

func TestResolvConf(t *testing.T) {
	ep := []*networks.Endpoint{{IP: addr("172.18.0.2")}}
	host := hostFiles{servers: []string{"127.0.0.53", "10.0.0.1"}, search: []string{"lan"}, options: []string{"edns0"}}
	for _, tc := range []struct {
		name string
		f    Files
		h    hostFiles
		want string
	}{
		{"loopback resolvers dropped", Files{}, host, "nameserver 10.0.0.1\nsearch lan\noptions edns0\n"},
		{"only loopback: Google's", Files{}, hostFiles{servers: []string{"127.0.0.53", "::1"}}, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"host network keeps all", Files{HostNetwork: true}, host, "nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch lan\noptions edns0\n"},
		{"--dns, --dns-search, --dns-option", Files{DNS: []netip.Addr{addr("1.1.1.1")}, DNSSearch: []string{"x.y"}, DNSOptions: []string{"rotate"}}, host,
			"nameserver 1.1.1.1\nsearch x.y\noptions rotate\n"},
		{"embedded resolver", Files{Embedded: true, Endpoints: ep}, host, "nameserver 127.0.0.11\nsearch lan\noptions edns0 ndots:0\n"},
		{"embedded without endpoint", Files{Embedded: true}, host, "nameserver 10.0.0.1\nsearch lan\noptions edns0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.resolvConf(tc.h); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	if host.options[0] != "edns0" || len(host.options) != 1 {
		t.Fatalf("the host's options were changed: %v", host.options)
	}
}

func TestResolve(t *testing.T) {
	joined := func(netID, ip string, aliases ...string) map[string]*Membership {
		return map[string]*Membership{netID: {NetworkID: netID, Aliases: aliases, Endpoint: &networks.Endpoint{IP: addr(ip)}}}
	}
	self := PeerOf(Owner{ID: "aaaaaaaaaaaaaaaa1", Name: "self"}, true,
		map[string]*Membership{"n1": {NetworkID: "n1", Links: []string{"db:database"}}})
	peers := []Peer{
		self,
		PeerOf(Owner{ID: "bbbbbbbbbbbbbbbb2", Name: "db", Hostname: "dbhost"}, true, joined("n1", "10.0.0.2", "pg")),
		PeerOf(Owner{ID: "cccccccccccccccc3", Name: "other"}, true, joined("n2", "10.1.0.3")),
		PeerOf(Owner{ID: "dddddddddddddddd4", Name: "stopped"}, false, joined("n1", "10.0.0.4")),
		PeerOf(Owner{ID: "eeeeeeeeeeeeeeee5", Name: "web"}, true, joined("bridge", "172.17.0.5")),
	}
	for _, tc := range []struct {
		name string
		want []netip.Addr
	}{
		{"db", []netip.Addr{addr("10.0.0.2")}},
		{"PG", []netip.Addr{addr("10.0.0.2")}},
		{"dbhost", []netip.Addr{addr("10.0.0.2")}},
		{"bbbbbbbbbbbb", []netip.Addr{addr("10.0.0.2")}},
		{"database", []netip.Addr{addr("10.0.0.2")}}, // the endpoint link's alias
		{"other", nil},   // not on a network self is on
		{"stopped", nil}, // not running
		{"web", nil},     // the default bridge has no names
	} {
		if got := Resolve(self, peers, tc.name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Resolve(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPublished(t *testing.T) {
	p80, _ := network.ParsePort("80/tcp")
	p53, _ := network.ParsePort("53/udp")
	cfg := &container.Config{ExposedPorts: network.PortSet{p80: {}, p53: {}}}
	got, err := Published(cfg, &container.HostConfig{PublishAllPorts: true, PortBindings: network.PortMap{p80: {{HostIP: addr("127.0.0.1"), HostPort: "8080-8090"}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []networks.Wanted{{Proto: "udp", CtrPort: 53}, {Proto: "tcp", HostIP: addr("127.0.0.1"), HostPort: 8080, HostPortEnd: 8090, CtrPort: 80}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"99999", "90-80", "80-99999", "0-10", "x"} {
		_, err = Published(cfg, &container.HostConfig{PortBindings: network.PortMap{p80: {{HostPort: bad}}}})
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("host port %q: %v", bad, err)
		}
	}
}

func TestValidate(t *testing.T) {
	user := &networks.Network{Name: "u", IPAMConfig: []networks.IPAMConfig{{Subnet: netip.MustParsePrefix("10.5.0.0/16")}}}
	bridge := &networks.Network{Name: "bridge"}
	for _, tc := range []struct {
		name string
		n    *networks.Network
		es   *network.EndpointSettings
		want string // "" for valid
	}{
		{"nothing asked", bridge, nil, ""},
		{"address in the subnet", user, &network.EndpointSettings{IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: addr("10.5.0.9")}}, ""},
		{"address outside", user, &network.EndpointSettings{IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: addr("10.6.0.9")}}, "no configured subnet or ip-range contain the IP address 10.6.0.9"},
		{"address on the default bridge", bridge, &network.EndpointSettings{IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: addr("172.17.0.9")}}, "user specified IP address is supported on user defined networks only"},
		{"alias on the default bridge", bridge, &network.EndpointSettings{Aliases: []string{"x"}}, "network-scoped alias is supported only for containers in user defined networks"},
		{"v6 given as v4", user, &network.EndpointSettings{IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: addr("fd00::1")}}, "invalid IPv4 address: fd00::1"},
		{"sysctl not per interface", user, &network.EndpointSettings{DriverOpts: map[string]string{"com.docker.network.endpoint.sysctls": "net.ipv4.conf.eth0.forwarding=1"}}, "unrecognised network interface sysctl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.n, tc.es)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errdefs.IsInvalidArgument(err)):
				t.Fatalf("got %v, want an invalid-argument error with %q", err, tc.want)
			}
		})
	}
}

func TestPortSummaries(t *testing.T) {
	p80, _ := network.ParsePort("80/tcp")
	p81, _ := network.ParsePort("81/tcp")
	got := PortSummaries([]networks.Port{{Proto: "tcp", HostPort: 32768, CtrPort: 80}}, network.PortSet{p80: {}, p81: {}})
	want := []container.PortSummary{{IP: netip.IPv4Unspecified(), PrivatePort: 80, PublicPort: 32768, Type: "tcp"}, {PrivatePort: 81, Type: "tcp"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	pm := PortMap([]networks.Port{{Proto: "tcp", HostIP: addr("::"), HostPort: 32768, CtrPort: 80}}, network.PortSet{p81: {}})
	if len(pm) != 2 || pm[p81] != nil || pm[p80][0].HostIP != addr("::") || pm[p80][0].HostPort != "32768" {
		t.Fatalf("PortMap = %+v", pm)
	}
}
