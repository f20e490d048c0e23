// Package networks keeps the network records (the predefined bridge, host
// and none, and user-defined bridge networks), their address pools and
// firewall rules, and connects containers' network namespaces to them.
package networks

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/berth-project/berth/service/events"
	eventtypes "github.com/moby/moby/api/types/events"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/network/firewall"
	"github.com/berth-project/berth/network/ipam"
	"github.com/berth-project/berth/store/metadata"
	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
)

// Drivers.
const (
	DriverBridge = "bridge"
	DriverHost   = "host"
	DriverNull   = "null"
)

// Network is a network's persisted record.
type Network struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Driver  string    `json:"driver"`
	Created time.Time `json:"created"`
	Bridge  string    `json:"bridge,omitempty"`
	// a macvlan network's host interface, and whether berth made it (a
	// dummy or a VLAN link, deleted with the network)
	Parent     string `json:"parent,omitempty"`
	ParentMade bool   `json:"parentMade,omitempty"`
	// the IPv4 subnet in use, its range and gateway
	Subnet  netip.Prefix `json:"subnet,omitzero"`
	IPRange netip.Prefix `json:"ipRange,omitzero"`
	Gateway netip.Addr   `json:"gateway,omitzero"`
	// EnableIPv6 networks have an IPv6 subnet too (dual stack)
	EnableIPv6 bool              `json:"enableIPv6,omitempty"`
	Subnet6    netip.Prefix      `json:"subnet6,omitzero"`
	IPRange6   netip.Prefix      `json:"ipRange6,omitzero"`
	Gateway6   netip.Addr        `json:"gateway6,omitzero"`
	Internal   bool              `json:"internal,omitempty"`
	Labels     map[string]string `json:"labels"`
	Options    map[string]string `json:"options"`
	// IPAM as the create gave it, which inspect shows: the driver's
	// options (nil and empty differ, as in dockerd) and the configured
	// subnets with their auxiliary addresses.
	IPAMOptions map[string]string `json:"ipamOptions"`
	IPAMConfig  []IPAMConfig      `json:"ipamConfig,omitempty"`
	// Version 2 records carry IPAMConfig; older ones are migrated at load.
	Version int `json:"version,omitempty"`
}

// recordVersion is the Network record's current version.
const recordVersion = 2

// IPAMConfig is one subnet as configured.
type IPAMConfig struct {
	Subnet  netip.Prefix          `json:"subnet"`
	IPRange netip.Prefix          `json:"ipRange,omitzero"`
	Gateway netip.Addr            `json:"gateway,omitzero"`
	Aux     map[string]netip.Addr `json:"aux,omitempty"`
}

// Configured returns the configured subnet of a family, nil if none.
func (n *Network) Configured(v6 bool) *IPAMConfig {
	for i := range n.IPAMConfig {
		if n.IPAMConfig[i].Subnet.Addr().Is6() == v6 {
			return &n.IPAMConfig[i]
		}
	}
	return nil
}

// ShownIPAM is inspect's IPAM.Config, built as dockerd's
// buildIPAMResources: per family, the configured subnet as given (a
// gateway only if one was), else the subnet in use and its gateway.
func (n *Network) ShownIPAM() []IPAMConfig {
	var out []IPAMConfig
	for _, v6 := range []bool{false, true} {
		if c := n.Configured(v6); c != nil {
			out = append(out, *c)
			continue
		}
		if !v6 && n.Subnet.IsValid() {
			out = append(out, IPAMConfig{Subnet: n.Subnet, Gateway: n.Gateway})
		}
		if v6 && n.EnableIPv6 && n.Subnet6.IsValid() {
			out = append(out, IPAMConfig{Subnet: n.Subnet6, Gateway: n.Gateway6})
		}
	}
	return out
}

func (n *Network) firewallNetwork() firewall.Network {
	fn := firewall.Network{Bridge: n.Bridge, Subnet: n.Subnet, Internal: n.Internal}
	if n.EnableIPv6 {
		fn.Subnet6 = n.Subnet6
	}
	return fn
}

// Predefined reports whether the network is one of bridge, host and none.
func (n *Network) Predefined() bool {
	return n.Name == "bridge" || n.Name == "host" || n.Name == "none"
}

// Default reports whether this is the default bridge (no name resolution, --link).
func (n *Network) Default() bool { return n.Name == "bridge" }

// Use is one container's endpoint on a network, for inspect and rm.
type Use struct {
	ContainerID, Name string
	Endpoint          Endpoint
}

// UsersFunc returns the containers with an endpoint on a network.
type UsersFunc func(networkID string) []Use

// Config are the daemon's network settings.
type Config struct {
	DefaultBridge string       // interface of the default bridge, e.g. berth0
	BIP           netip.Prefix // its address and subnet; zero: chosen to avoid the host's routes
	ChainSuffix   string       // makes this daemon's iptables chains its own
	// Owner is this daemon's data root: its bridges and chains say so, and
	// Live tells whether another owner's daemon runs.
	Owner string
	Live  func(dataRoot string) bool
}

// Service owns the networks.
type Service struct {
	cfg     Config
	db      *metadata.DB
	fw      *firewall.Set
	ordered []*Network // the networks Start brings up, in creation order
	users   UsersFunc

	mu     sync.Mutex
	nets   map[string]*Network
	pools  map[string]*ipam.Pool // IPv4, by network ID
	pools6 map[string]*ipam.Pool // IPv6
	ports  map[string]*reservation
	// frontends by ID, and the endpoints of running containers (by
	// container, then network) their rules and names lead to; feMu
	// orders frontend changes (taken before mu)
	fes  map[string]*Frontend
	eps  map[string]map[string]*Endpoint
	feMu sync.Mutex
	// leaving counts endpoints being deleted in the background
	leaving sync.WaitGroup
	events  *events.Bus // nil: no events
}

// SetEvents makes the service publish network events (create, destroy,
// connect, disconnect) on bus, as dockerd does.
func (s *Service) SetEvents(bus *events.Bus) { s.events = bus }

// publish sends a network event: the actor is the network, its attributes
// its name and driver (dockerd's LogNetworkEvent), and the container for
// connect and disconnect.
func (s *Service) publish(action eventtypes.Action, n *Network, containerID string) {
	if s.events == nil || n == nil {
		return
	}
	attrs := map[string]string{"name": n.Name, "type": n.Driver}
	if containerID != "" {
		attrs["container"] = containerID
	}
	s.events.Publish(eventtypes.NetworkEventType, action, n.ID, attrs)
}

// New loads the networks, creates the predefined ones, and rebuilds the
// bridges and firewall rules (restarting from empty chains, so nothing a
// crash left is duplicated or stale). Endpoints of running containers are
// given back with Restore.
func New(cfg Config, db *metadata.DB) (*Service, error) {
	if cfg.DefaultBridge == "" {
		cfg.DefaultBridge = "berth0"
	}
	s := &Service{cfg: cfg, db: db, users: func(string) []Use { return nil },
		nets: map[string]*Network{}, pools: map[string]*ipam.Pool{}, pools6: map[string]*ipam.Pool{}, ports: map[string]*reservation{},
		fes: map[string]*Frontend{}, eps: map[string]map[string]*Endpoint{}}
	err := db.ForEach(metadata.Networks, func(id string, raw []byte) error {
		var n Network
		if err := json.Unmarshal(raw, &n); err != nil {
			return fmt.Errorf("network %s: %w", id, err)
		}
		if n.Version < recordVersion {
			// an older berth kept only the subnet in use: show it as
			// configured, as it was shown then (and --ip stays allowed)
			if !n.Predefined() && n.Subnet.IsValid() {
				n.IPAMConfig = []IPAMConfig{{Subnet: n.Subnet, IPRange: n.IPRange, Gateway: n.Gateway}}
				n.IPAMOptions = map[string]string{}
			}
			n.Version = recordVersion
		}
		s.nets[id] = &n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load networks: %w", err)
	}
	for _, p := range []struct{ name, driver string }{{"bridge", DriverBridge}, {"host", DriverHost}, {"none", DriverNull}} {
		if n := s.byName(p.name); n != nil {
			continue
		}
		n := &Network{ID: newID(), Name: p.name, Driver: p.driver, Created: time.Now().UTC(), Labels: map[string]string{}, Options: map[string]string{}, Version: recordVersion}
		if p.driver == DriverBridge {
			n.Bridge = cfg.DefaultBridge
			n.Options = map[string]string{"com.docker.network.bridge.name": cfg.DefaultBridge, "com.docker.network.bridge.default_bridge": "true"}
		}
		s.nets[n.ID] = n
	}
	def := s.byName("bridge")
	if cfg.BIP.IsValid() {
		def.Subnet, def.Gateway = cfg.BIP.Masked(), cfg.BIP.Addr()
	}
	if !def.Subnet.IsValid() {
		sub, err := ipam.ChooseSubnet(s.takenLocked(def.ID))
		if err != nil {
			return nil, err
		}
		def.Subnet, def.Gateway = sub, sub.Addr().Next()
	}
	// in creation order, so the rules come back in the same order after a restart
	ordered := make([]*Network, 0, len(s.nets))
	for _, n := range s.nets {
		ordered = append(ordered, n)
	}
	sort.Slice(ordered, func(i, j int) bool {
		if !ordered[i].Created.Equal(ordered[j].Created) {
			return ordered[i].Created.Before(ordered[j].Created)
		}
		return ordered[i].Name < ordered[j].Name
	})
	for _, n := range ordered {
		if err := s.db.Put(metadata.Networks, n.ID, n); err != nil {
			return nil, err
		}
	}
	s.ordered = ordered
	if err := s.loadFrontends(); err != nil {
		return nil, err
	}
	return s, nil
}

// Start sets up the host for the networks New loaded: this daemon's
// firewall chains, and each bridge with its pools and rules. It runs
// once, after the API listens (iptables takes most of a start-up), and
// before anything uses the networks.
func (s *Service) Start() error {
	fw, err := firewall.NewSet(s.cfg.ChainSuffix, s.cfg.Owner)
	if err != nil {
		return err
	}
	if err := fw.Init(); err != nil {
		return err
	}
	// Chains of daemons whose data root is gone can only get in the way.
	if _, err := fw.RemoveStale(func(owner string) bool { _, err := os.Stat(owner); return os.IsNotExist(err) }); err != nil {
		fmt.Fprintf(os.Stderr, "berthd: remove stale firewall chains: %v\n", err)
	}
	s.fw = fw
	for _, n := range s.ordered {
		if driverOf(n) != nil {
			if err := s.bringUp(n); err != nil {
				return fmt.Errorf("network %s: %w", n.Name, err)
			}
		}
	}
	s.ordered = nil
	s.feMu.Lock()
	s.mu.Lock()
	errs := s.startFrontends()
	s.mu.Unlock()
	s.feMu.Unlock()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintf(os.Stderr, "berthd: %v\n", err)
		}
	}
	return nil
}

// SetUsers tells the service how to find the endpoints on a network.
func (s *Service) SetUsers(fn UsersFunc) { s.users = fn }

func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Service) byName(name string) *Network {
	for _, n := range s.nets {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// bringUp makes the network's pools and its driver's host side (the
// bridge and its rules, a macvlan network's parent).
func (s *Service) bringUp(n *Network) error {
	pool, pool6, err := n.newPools()
	if err != nil {
		return err
	}
	if err := driverOf(n).up(s, n); err != nil {
		return err
	}
	s.pools[n.ID] = pool
	if pool6 != nil {
		s.pools6[n.ID] = pool6
	}
	return nil
}

// newPools makes the network's address pools with its auxiliary
// addresses reserved (pool6 is nil for an IPv4-only network).
func (n *Network) newPools() (pool, pool6 *ipam.Pool, err error) {
	if pool, err = ipam.NewPool(n.Subnet, n.IPRange, n.Gateway); err != nil {
		return nil, nil, err
	}
	if n.EnableIPv6 {
		if pool6, err = ipam.NewPool(n.Subnet6, n.IPRange6, n.Gateway6); err != nil {
			return nil, nil, err
		}
	}
	for _, c := range n.IPAMConfig {
		p := pool
		if c.Subnet.Addr().Is6() {
			if p = pool6; p == nil {
				continue
			}
		}
		for name, a := range c.Aux {
			if err := p.Reserve(a, name); err != nil {
				return nil, nil, err
			}
		}
	}
	return pool, pool6, nil
}

// takenLocked lists the prefixes a new network must not overlap: the
// host's routes (but those of our own bridges) and the other networks.
func (s *Service) takenLocked(except string) []netip.Prefix {
	ours := map[string]bool{}
	var out []netip.Prefix
	for id, n := range s.nets {
		if n.Bridge != "" {
			ours[n.Bridge] = true
		}
		if id != except && n.Subnet.IsValid() {
			out = append(out, n.Subnet)
		}
		if id != except && n.EnableIPv6 && n.Subnet6.IsValid() {
			out = append(out, n.Subnet6)
		}
	}
	routes, _ := netlink.RouteList(nil, netlink.FAMILY_ALL)
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil && ours[l.Attrs().Name] {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		a, ok := netip.AddrFromSlice(r.Dst.IP)
		if !ok || ones == 0 || (a.Is6() && !a.Is4In6() && a.IsLinkLocalUnicast()) {
			continue // every interface has fe80::/64
		}
		if a.Is4In6() || len(r.Dst.IP) == 4 {
			a = a.Unmap()
		}
		out = append(out, netip.PrefixFrom(a, ones))
	}
	return out
}

// NotFound is Docker's error for an unknown network.
func NotFound(ref string) error {
	return fmt.Errorf("network %s not found: %w", ref, errdefs.ErrNotFound)
}

// Get finds a network by name, full ID or unique ID prefix.
func (s *Service) Get(ref string) (*Network, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.getLocked(ref)
}

func (s *Service) getLocked(ref string) (*Network, error) {
	if ref == "" {
		return nil, NotFound(ref)
	}
	if n, ok := s.nets[ref]; ok {
		return n, nil
	}
	if n := s.byName(ref); n != nil {
		return n, nil
	}
	var found *Network
	for id, n := range s.nets {
		if strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, fmt.Errorf("network %s is ambiguous (%d matches found on name): %w", ref, 2, errdefs.ErrInvalidArgument)
			}
			found = n
		}
	}
	if found == nil {
		return nil, NotFound(ref)
	}
	return found, nil
}

func (s *Service) tearDown(n *Network) {
	driverOf(n).down(s, n)
	delete(s.pools, n.ID)
	delete(s.pools6, n.ID)
}

// Remove deletes a user-defined network without endpoints.
func (s *Service) Remove(ref string) error {
	n, err := s.Get(ref)
	if err != nil {
		return err
	}
	if n.Predefined() {
		return fmt.Errorf("%s is a pre-defined network and cannot be removed: %w", n.Name, errdefs.ErrPermissionDenied)
	}
	s.mu.Lock()
	for _, f := range s.fes {
		if f.Network == n.ID {
			s.mu.Unlock()
			return fmt.Errorf("error while removing network: network %s is in use by frontend %s: %w", n.Name, f.Name, errdefs.ErrConflict)
		}
	}
	s.mu.Unlock()
	if active := s.activeUsers(n.ID); len(active) > 0 {
		var eps []string
		for _, u := range active {
			eps = append(eps, fmt.Sprintf(`name:"%s" id:"%s"`, u.Name, u.Endpoint.EndpointID[:12]))
		}
		return fmt.Errorf("error while removing network: network %s has active endpoints (%s): %w", n.Name, strings.Join(eps, ", "), errdefs.ErrPermissionDenied)
	}
	// The rules and the bridge go while the last endpoints' veths are
	// deleted (the bridge's delete and each veth's wait for an RCU grace
	// period; side by side they share them); the addresses are released
	// once the veths are gone. Bridge and rules before the record: a crash
	// in between leaves a record whose bridge the next start brings back,
	// never a bridge without a record.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		driverOf(n).down(s, n)
	}()
	s.leaving.Wait()
	<-gone
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pools, n.ID)
	delete(s.pools6, n.ID)
	if err := s.db.Delete(metadata.Networks, n.ID); err != nil {
		return err
	}
	delete(s.nets, n.ID)
	s.publish("destroy", n, "")
	return nil
}

// List returns the networks matching the filters (name, id, driver,
// label, type=custom|builtin, dangling), sorted by name.
func (s *Service) List(filters map[string][]string) ([]*Network, error) {
	for k := range filters {
		switch k {
		case "name", "id", "driver", "label", "type", "dangling", "scope":
		default:
			return nil, fmt.Errorf("invalid filter '%s': %w", k, errdefs.ErrInvalidArgument)
		}
	}
	s.mu.Lock()
	all := make([]*Network, 0, len(s.nets))
	for _, n := range s.nets {
		all = append(all, n)
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	out := []*Network{}
	for _, n := range all {
		if s.matches(n, filters) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (s *Service) matches(n *Network, f map[string][]string) bool {
	any := func(key string, ok func(string) bool) bool {
		if len(f[key]) == 0 {
			return true
		}
		for _, v := range f[key] {
			if ok(v) {
				return true
			}
		}
		return false
	}
	driver := n.Driver
	for _, l := range f["label"] {
		k, v, hasV := strings.Cut(l, "=")
		if got, ok := n.Labels[k]; !ok || (hasV && got != v) {
			return false
		}
	}
	return any("name", func(v string) bool { return strings.Contains(n.Name, v) }) &&
		any("id", func(v string) bool { return strings.HasPrefix(n.ID, v) }) &&
		any("driver", func(v string) bool { return v == driver }) &&
		any("scope", func(v string) bool { return v == "local" }) &&
		any("type", func(v string) bool { return (v == "builtin") == n.Predefined() }) &&
		any("dangling", func(v string) bool {
			return (v == "true" || v == "1") == (!n.Predefined() && len(s.activeUsers(n.ID)) == 0)
		})
}

// Prune removes user-defined networks without endpoints.
func (s *Service) Prune(labels []string) ([]string, error) {
	nets, err := s.List(map[string][]string{"label": labels})
	if err != nil {
		return nil, err
	}
	deleted := []string{}
	for _, n := range nets {
		if n.Predefined() || len(s.activeUsers(n.ID)) > 0 {
			continue
		}
		if err := s.Remove(n.ID); err != nil {
			if errdefs.IsPermissionDenied(err) || errdefs.IsNotFound(err) {
				continue
			}
			return deleted, err
		}
		deleted = append(deleted, n.Name)
	}
	if s.events != nil {
		s.events.Publish(eventtypes.NetworkEventType, "prune", "", map[string]string{"reclaimed": "0"})
	}
	return deleted, nil
}

// Users returns the endpoints on a network.
func (s *Service) Users(id string) []Use { return s.users(id) }

// Active reports whether the use has an endpoint (its container runs).
func (u Use) Active() bool { return u.Endpoint.EndpointID != "" }

// activeUsers are the uses with an endpoint: a network is in use while a
// container on it runs, as in dockerd (a stopped container has no
// endpoint, so it does not keep its networks from rm or prune).
func (s *Service) activeUsers(id string) []Use {
	var out []Use
	for _, u := range s.users(id) {
		if u.Active() {
			out = append(out, u)
		}
	}
	return out
}
