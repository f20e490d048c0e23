package networking

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-project/berth/service/networks"
	"github.com/berth-project/berth/service/networks/sandbox"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// others is a Containers of fixed peers, by ID and by name.
type others []Peer

func (o others) Peer(ref string) (Peer, error) {
	for _, p := range o {
		if p.ID == ref || p.Name == "/"+strings.TrimPrefix(ref, "/") {
			return p, nil
		}
	}
	return Peer{}, fmt.Errorf("No such container: %s: %w", ref, errdefs.ErrNotFound)
}

func (o others) Peers() []sandbox.Peer { return nil }

var peers = others{
	{ID: "dbid", Name: "/db", Hostname: "dbhost", Running: true, Mode: "bridge", OnBridge: true,
		BridgeIP: netip.MustParseAddr("172.17.0.2"), Env: []string{"PASSWORD=x", "PATH=/bin"},
		Exposed: []network.Port{network.MustParsePort("5432/tcp")}},
	{ID: "stoppedid", Name: "/stopped", Mode: "bridge"},
	{ID: "hostid", Name: "/hostnet", Running: true, Mode: "host"},
	{ID: "sidecarid", Name: "/sidecar", Running: true, Mode: "container:dbid"},
	{ID: "noneid", Name: "/isolated", Running: true, Mode: "none"},
}

func TestResolveLinks(t *testing.T) {
	s := New(nil, nil, peers)
	for _, tc := range []struct {
		mode  container.NetworkMode
		links []string
		want  []string // nil: an invalid-argument error
	}{
		{"bridge", []string{"db"}, []string{"dbid:db"}},
		{"bridge", []string{"db:database", "/stopped:/web/old"}, []string{"dbid:database", "stoppedid:old"}},
		{"bridge", []string{"sidecar:side"}, []string{"dbid:side"}}, // through its network's container
		{"bridge", []string{"hostnet"}, nil},
		{"bridge", []string{"missing"}, nil},
		{"bridge", []string{"a:b:c"}, nil},
		{"mynet", []string{"missing:alias"}, []string{"missing:alias"}}, // endpoint links: left as they are
	} {
		hc := &container.HostConfig{NetworkMode: tc.mode, Links: slices.Clone(tc.links)}
		err := s.ResolveLinks(hc)
		switch {
		case tc.want == nil && !errdefs.IsInvalidArgument(err):
			t.Errorf("ResolveLinks(%v) = %v, want an invalid-argument error", tc.links, err)
		case tc.want != nil && (err != nil || !slices.Equal(hc.Links, tc.want)):
			t.Errorf("ResolveLinks(%v) = %v, %v; want %v", tc.links, hc.Links, err, tc.want)
		}
	}
	hc := &container.HostConfig{NetworkMode: "bridge", Links: []string{"missing"}}
	if err := s.ResolveLinks(hc); err == nil || !strings.HasPrefix(err.Error(), "could not get container for missing: No such container: missing") {
		t.Errorf("the error of a missing link: %v", err)
	}
}

func TestWithLinkEnv(t *testing.T) {
	s := New(nil, nil, peers)
	web := func(links ...string) *Container {
		return &Container{ID: "webid", Name: "/web", Attachments: &Attachments{},
			Config:     &container.Config{Env: []string{"DB_NAME=mine", "OWN=1"}},
			HostConfig: &container.HostConfig{NetworkMode: "bridge", Links: links}}
	}
	cfg, err := s.WithLinkEnv(web("dbid:db"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"DB_PORT=tcp://172.17.0.2:5432",
		"DB_PORT_5432_TCP=tcp://172.17.0.2:5432", "DB_PORT_5432_TCP_ADDR=172.17.0.2", "DB_PORT_5432_TCP_PORT=5432", "DB_PORT_5432_TCP_PROTO=tcp",
		"DB_NAME=mine", // the container's own wins, in the link's place
		"DB_ENV_PASSWORD=x",
		"OWN=1",
	}
	if !slices.Equal(cfg.Env, want) {
		t.Errorf("env = %q\nwant %q", cfg.Env, want)
	}
	if c := web(); func() bool { cfg, err := s.WithLinkEnv(c); return err != nil || cfg != c.Config }() {
		t.Error("a container without links does not get its own Config")
	}
	if _, err := s.WithLinkEnv(web("stoppedid:old")); err == nil || err.Error() != "Cannot link to a non running container: /stopped AS /web/old" {
		t.Errorf("a stopped link: %v", err)
	}
	if _, err := s.WithLinkEnv(web("noneid:iso")); err == nil || err.Error() != "container noneid not attached to default bridge network" {
		t.Errorf("a link off the bridge: %v", err)
	}
	if cfg, err := s.WithLinkEnv(web("goneid:gone")); err != nil || len(cfg.Env) != 2 {
		t.Errorf("a link to a removed container: %v, %v (it is skipped)", cfg.Env, err)
	}
}

func TestInspectHostConfigAndRemoveLink(t *testing.T) {
	s := New(nil, nil, peers)
	dir := t.TempDir()
	c := &Container{ID: "webid", Name: "/web", Hostname: "webhost", Dir: dir, Attachments: &Attachments{},
		Config: &container.Config{}, HostConfig: &container.HostConfig{NetworkMode: "bridge", Links: []string{"dbid:db", "stoppedid:old"}}}
	if got := s.InspectHostConfig(c).Links; !slices.Equal(got, []string{"/db:/web/db", "/stopped:/web/old"}) {
		t.Errorf("inspect's links = %v", got)
	}
	if len(c.HostConfig.Links) != 2 || c.HostConfig.Links[0] != "dbid:db" {
		t.Errorf("inspect changed the record's links: %v", c.HostConfig.Links)
	}
	if s.RemoveLink(c, true, "nope") {
		t.Error("RemoveLink of an unknown alias reported one removed")
	}
	if !s.RemoveLink(c, true, "old") || !slices.Equal(c.HostConfig.Links, []string{"dbid:db"}) {
		t.Errorf("links after RemoveLink: %v", c.HostConfig.Links)
	}
	hosts, err := os.ReadFile(filepath.Join(dir, "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hosts), "172.17.0.2\tdb dbhost\n") || strings.Contains(string(hosts), "old") {
		t.Errorf("a running container's hosts after RemoveLink:\n%s", hosts)
	}
	c.HostConfig.NetworkMode = "mynet"
	if got := s.InspectHostConfig(c); got != c.HostConfig {
		t.Error("inspect rewrote the endpoint links of a user-defined network")
	}
}

func TestUses(t *testing.T) {
	ep := &networks.Endpoint{IP: netip.MustParseAddr("10.0.0.5")}
	c := &Container{ID: "webid", Name: "/web", Attachments: &Attachments{Networks: map[string]*sandbox.Membership{
		"front": {NetworkID: "n1", Endpoint: ep},
		"back":  {NetworkID: "n2"},
	}}}
	if u := Uses("n1", c); len(u) != 1 || u[0].ContainerID != "webid" || u[0].Name != "web" || u[0].Endpoint.IP != ep.IP {
		t.Errorf("Uses(n1) = %+v", u)
	}
	if u := Uses("n2", c); len(u) != 1 || u[0].Endpoint.IP.IsValid() {
		t.Errorf("Uses(n2) = %+v", u)
	}
	if u := Uses("n3", c); len(u) != 0 {
		t.Errorf("Uses(n3) = %+v", u)
	}
}

func TestPeerOf(t *testing.T) {
	c := &Container{ID: "dbid", Name: "/db", Hostname: "dbhost", Dir: "/d",
		Config:     &container.Config{Env: []string{"A=1"}, ExposedPorts: network.PortSet{network.MustParsePort("5432/tcp"): {}}},
		HostConfig: &container.HostConfig{NetworkMode: "bridge"},
		Attachments: &Attachments{Networks: map[string]*sandbox.Membership{
			"bridge": {Endpoint: &networks.Endpoint{IP: netip.MustParseAddr("172.17.0.2")}}}}}
	p := c.Peer(true, 7)
	if p.ID != "dbid" || p.Name != "/db" || !p.Running || p.Pid != 7 || p.Dir != "/d" || p.Mode != "bridge" ||
		!p.OnBridge || p.BridgeIP.String() != "172.17.0.2" || !slices.Equal(p.Env, []string{"A=1"}) || len(p.Exposed) != 1 {
		t.Errorf("Peer = %+v", p)
	}
	c.Config.Env[0] = "A=2"
	if p.Env[0] != "A=1" {
		t.Error("a peer's environment is the record's, not a copy")
	}
	delete(c.Networks, "bridge")
	if p := c.Peer(false, 0); p.OnBridge {
		t.Errorf("a container off the bridge: %+v", p)
	}
}
