package networks

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/berth-project/berth/network/conntrack"
	"github.com/berth-project/berth/network/firewall"
	"github.com/berth-project/berth/store/metadata"
	"github.com/containerd/errdefs"
	eventtypes "github.com/moby/moby/api/types/events"
)

// FrontendEventType is the type of the events frontends publish.
const FrontendEventType eventtypes.Type = "frontend"

// Frontend is a group of published ports and DNS names that several
// containers stand behind (berth's blue/green deploys): new connections to
// its host ports, and lookups of its aliases, reach its backends; a switch
// moves them to other containers in one firewall transaction, and
// connections already made finish where they are.
type Frontend struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Labels  map[string]string `json:"labels"`
	Network string            `json:"network"` // ID: the ports lead to the backends' addresses on it
	Ports   []FrontendPort    `json:"ports"`
	// Aliases resolve, on every network a backend is on, to the
	// backends only (they hide the same names of the other members).
	Aliases  []string `json:"aliases"`
	Backends []string `json:"backends"` // container IDs serving now
	// Previous is the set switched away from, kept for a rollback;
	// Candidates an update under way (started, not serving yet).
	Previous   []string `json:"previous"`
	Candidates []string `json:"candidates"`
	// Addrs are the backends' addresses on Network, kept so that the
	// rules can be rebuilt from the record alone after a restart.
	Addrs map[string]netip.Addr `json:"addrs"`
	// Adopted are the ports, by key, taken over from the member
	// containers that published them: given back when the frontend
	// lets them go.
	Adopted    map[string]Adoption `json:"adopted,omitempty"`
	Generation int                 `json:"generation"` // counts switches
	Created    time.Time           `json:"created"`
	Updated    time.Time           `json:"updated"`
}

// Adoption is a port a container published itself and a frontend took
// over: its endpoint and port, to give back.
type Adoption struct {
	Owner Endpoint `json:"owner"`
	Port  Port     `json:"port"`
}

// FrontendPort is one published port of a frontend.
type FrontendPort struct {
	Proto      string     `json:"proto"`
	HostIP     netip.Addr `json:"hostIP,omitzero"` // zero: every IPv4 address
	HostPort   int        `json:"hostPort"`
	TargetPort int        `json:"targetPort"`
}

func (p FrontendPort) port() Port {
	return Port{Proto: p.Proto, HostIP: p.HostIP, HostPort: p.HostPort, CtrPort: p.TargetPort}
}

// FrontendSpec asks for a frontend.
type FrontendSpec struct {
	Name       string
	Labels     map[string]string
	Network    string // name or ID of a bridge network
	Ports      []FrontendPort
	Aliases    []string
	Backends   []string // full container IDs
	Candidates []string
}

// FrontendChange changes a frontend's spec; nil fields stay.
type FrontendChange struct {
	Ports      *[]FrontendPort
	Aliases    *[]string
	Labels     *map[string]string
	Candidates *[]string
}

// members are all the containers a frontend's ports belong to: they do
// not publish those ports themselves.
func (f *Frontend) members() []string {
	return slices.Concat(f.Backends, f.Previous, f.Candidates)
}

func (f *Frontend) clone() *Frontend {
	c := *f
	c.Labels = maps(f.Labels)
	c.Ports = slices.Clone(f.Ports)
	c.Aliases = slices.Clone(f.Aliases)
	c.Backends, c.Previous, c.Candidates = slices.Clone(f.Backends), slices.Clone(f.Previous), slices.Clone(f.Candidates)
	c.Addrs = map[string]netip.Addr{}
	for k, v := range f.Addrs {
		c.Addrs[k] = v
	}
	c.Adopted = map[string]Adoption{}
	for k, v := range f.Adopted {
		c.Adopted[k] = v
	}
	return &c
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

var validFrontendName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// FrontendNotFound is the error for a frontend that does not exist.
func FrontendNotFound(ref string) error {
	return fmt.Errorf("frontend %s not found: %w", ref, errdefs.ErrNotFound)
}

// loadFrontends reads the records (New).
func (s *Service) loadFrontends() error {
	return s.db.ForEach(metadata.Frontends, func(id string, raw []byte) error {
		var f Frontend
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("frontend %s: %w", id, err)
		}
		if f.Addrs == nil {
			f.Addrs = map[string]netip.Addr{}
		}
		s.fes[f.ID] = &f
		return nil
	})
}

// startFrontends takes back the frontends' ports and rebuilds their rules
// from the records (Start), and removes the chains of frontends whose
// record is gone.
func (s *Service) startFrontends() []error {
	var errs []error
	known := map[string]bool{}
	for _, f := range s.sortedFrontends() {
		known[f.ID[:8]] = true
		for _, p := range f.Ports {
			pp := p.port()
			r, err := reserve(&pp)
			if err != nil {
				errs = append(errs, fmt.Errorf("frontend %s: %w", f.Name, err))
				continue
			}
			r.frontend = f.ID
			if a, ok := f.Adopted[pp.key()]; ok {
				r.owner, r.port, r.adoptedFrom = a.Owner, a.Port, a.Owner.ContainerID
			}
			s.ports[pp.key()] = r
		}
		if err := s.fw.SetFrontend(s.firewallFrontend(f), nil); err != nil {
			errs = append(errs, fmt.Errorf("frontend %s: %w", f.Name, err))
		}
	}
	if err := s.applyNAT(nil, ""); err != nil {
		errs = append(errs, err)
	}
	ids, err := s.fw.Frontends()
	if err != nil {
		return append(errs, err)
	}
	for _, id := range ids {
		if !known[id] {
			errs = append(errs, s.fw.RemoveFrontendChains(id))
		}
	}
	return errs
}

func (s *Service) sortedFrontends() []*Frontend {
	out := make([]*Frontend, 0, len(s.fes))
	for _, f := range s.fes {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// firewallFrontend is what the firewall needs of f: its ports and its
// serving backends' addresses.
func (s *Service) firewallFrontend(f *Frontend) firewall.Frontend {
	fe := firewall.Frontend{ID: f.ID}
	if n := s.nets[f.Network]; n != nil {
		fe.Bridge = n.Bridge
	}
	for _, p := range f.Ports {
		fe.Ports = append(fe.Ports, firewall.FrontendPort{Proto: p.Proto, HostIP: p.HostIP, HostPort: p.HostPort, CtrPort: p.TargetPort})
	}
	for _, id := range f.Backends {
		if a, ok := f.Addrs[id]; ok {
			fe.Backends = append(fe.Backends, a)
		}
	}
	for _, id := range f.members() {
		if a, ok := f.Addrs[id]; ok && !slices.Contains(fe.Members, a) {
			fe.Members = append(fe.Members, a)
		}
	}
	// in address order: a switch between members leaves iptables alone
	slices.SortFunc(fe.Members, func(a, b netip.Addr) int { return a.Compare(b) })
	return fe
}

// applyNAT writes the DNAT of every frontend, with f (when not nil) in
// place of its record (and without the one whose ID is gone). Callers
// hold mu.
func (s *Service) applyNAT(f *Frontend, gone string) error {
	var all []firewall.Frontend
	for _, x := range s.sortedFrontends() {
		if x.ID == gone || (f != nil && x.ID == f.ID) {
			continue
		}
		all = append(all, s.firewallFrontend(x))
	}
	if f != nil {
		all = append(all, s.firewallFrontend(f))
	}
	return s.fw.ApplyNAT(all)
}

// sameMembers reports whether two frontends' iptables part (ports,
// member addresses) is the same.
func sameMembers(a, b firewall.Frontend) bool {
	return slices.Equal(a.Ports, b.Ports) && slices.Equal(a.Members, b.Members) && a.Bridge == b.Bridge
}

func (s *Service) frontendLocked(ref string) (*Frontend, error) {
	if f := s.fes[ref]; f != nil {
		return f, nil
	}
	for _, f := range s.fes {
		if f.Name == ref {
			return f, nil
		}
	}
	var found *Frontend
	for id, f := range s.fes {
		if len(ref) >= 3 && strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, fmt.Errorf("frontend %s is ambiguous: %w", ref, errdefs.ErrInvalidArgument)
			}
			found = f
		}
	}
	if found == nil {
		return nil, FrontendNotFound(ref)
	}
	return found, nil
}

// lockFrontend takes the frontend locks (feMu, then mu) and finds ref;
// unlock releases them.
func (s *Service) lockFrontend(ref string) (f *Frontend, unlock func(), err error) {
	s.feMu.Lock()
	s.mu.Lock()
	unlock = func() { s.mu.Unlock(); s.feMu.Unlock() }
	if f, err = s.frontendLocked(ref); err != nil {
		unlock()
		return nil, nil, err
	}
	return f, unlock, nil
}

// Frontend returns a copy of a frontend by name or ID.
func (s *Service) Frontend(ref string) (*Frontend, error) {
	f, unlock, err := s.lockFrontend(ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return f.clone(), nil
}

// Frontends lists copies of the frontends, by name; filters: name=,
// label=key or key=value.
func (s *Service) Frontends(filters map[string][]string) []*Frontend {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Frontend
	for _, f := range s.sortedFrontends() {
		if names := filters["name"]; len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(f.Name, n) }) {
			continue
		}
		ok := true
		for _, l := range filters["label"] {
			k, v, hasV := strings.Cut(l, "=")
			got, present := f.Labels[k]
			ok = ok && present && (!hasV || got == v)
		}
		if ok {
			out = append(out, f.clone())
		}
	}
	return out
}

// checkPorts normalizes and checks a frontend's ports.
func checkFrontendPorts(ports []FrontendPort) ([]FrontendPort, error) {
	out := make([]FrontendPort, 0, len(ports))
	seen := map[string]bool{}
	for _, p := range ports {
		if p.Proto == "" {
			p.Proto = "tcp"
		}
		if p.Proto != "tcp" && p.Proto != "udp" {
			return nil, fmt.Errorf("invalid protocol %q: %w", p.Proto, errdefs.ErrInvalidArgument)
		}
		if p.HostPort < 1 || p.HostPort > 65535 || p.TargetPort < 1 || p.TargetPort > 65535 {
			return nil, fmt.Errorf("invalid port %d:%d/%s: a frontend publishes fixed host ports: %w", p.HostPort, p.TargetPort, p.Proto, errdefs.ErrInvalidArgument)
		}
		if p.HostIP.IsValid() && !p.HostIP.Is4() {
			return nil, fmt.Errorf("invalid host address %s: frontends publish IPv4 ports: %w", p.HostIP, errdefs.ErrInvalidArgument)
		}
		if p.HostIP.IsValid() && p.HostIP.IsUnspecified() {
			p.HostIP = netip.Addr{}
		}
		k := p.port().key()
		if seen[k] {
			return nil, fmt.Errorf("port %s is published twice: %w", k, errdefs.ErrInvalidArgument)
		}
		seen[k] = true
		out = append(out, p)
	}
	return out, nil
}

// takePorts reserves f's ports that old (nil: none) does not hold. A port a
// member container publishes itself is taken over (its rules go in the
// frontend's transaction: retire). It returns what to undo on failure.
func (s *Service) takePorts(f, old *Frontend) (taken []string, retire []firewall.Port, err error) {
	held := map[string]bool{}
	if old != nil {
		for _, p := range old.Ports {
			held[p.port().key()] = true
		}
	}
	members := f.members()
	defer func() {
		if err != nil {
			s.releasePorts(taken)
			taken, retire = nil, nil
		}
	}()
	for _, p := range f.Ports {
		pp := p.port()
		k := pp.key()
		if held[k] {
			continue
		}
		if r := s.ports[k]; r != nil {
			if r.frontend != "" || !slices.Contains(members, r.owner.ContainerID) {
				return taken, nil, fmt.Errorf("Bind for %s failed: port is already allocated: %w", pp.hostAddr(), errdefs.ErrConflict)
			}
			// a member's own port: the frontend takes it over
			if n := s.nets[r.owner.NetworkID]; n != nil {
				retire = append(retire, s.firewallPort(&r.owner, n, r.port))
			}
			r.frontend, r.adoptedFrom = f.ID, r.owner.ContainerID
			if f.Adopted == nil {
				f.Adopted = map[string]Adoption{}
			}
			f.Adopted[k] = Adoption{Owner: r.owner, Port: r.port}
			taken = append(taken, k)
			continue
		}
		r, err := reserve(&pp)
		if err != nil {
			return taken, nil, err
		}
		r.frontend = f.ID
		s.ports[k] = r
		taken = append(taken, k)
	}
	return taken, retire, nil
}

// releasePorts gives up reservations a frontend took; one taken over from
// a container goes back to it.
func (s *Service) releasePorts(keys []string) {
	for _, k := range keys {
		r := s.ports[k]
		if r == nil {
			continue
		}
		if r.adoptedFrom != "" {
			// back to the container it was taken from, with its rules,
			// if that still runs on its endpoint
			r.frontend, r.adoptedFrom = "", ""
			ep := s.eps[r.owner.ContainerID][r.owner.NetworkID]
			if n := s.nets[r.owner.NetworkID]; ep != nil && ep.EndpointID == r.owner.EndpointID && n != nil {
				if s.fw.AddPort(s.firewallPort(&r.owner, n, r.port)) == nil {
					continue
				}
			}
		}
		r.close()
		delete(s.ports, k)
	}
}

// addrsOf fills f.Addrs for its members with an endpoint on its network
// and checks that every backend has one.
func (s *Service) addrsOf(f *Frontend) error {
	for _, id := range f.members() {
		if ep := s.eps[id][f.Network]; ep != nil {
			f.Addrs[id] = ep.IP
		} else {
			delete(f.Addrs, id)
		}
	}
	for _, id := range f.Backends {
		if _, ok := f.Addrs[id]; !ok {
			return fmt.Errorf("container %s is not running on network %s: %w", shortID(id), f.Network, errdefs.ErrConflict)
		}
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// CreateFrontend makes a frontend: its ports are reserved (a port a
// member publishes itself is taken over, in the same firewall
// transaction), its rules written, its record committed.
func (s *Service) CreateFrontend(spec FrontendSpec) (*Frontend, error) {
	if !validFrontendName.MatchString(spec.Name) {
		return nil, fmt.Errorf("invalid frontend name %q, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", spec.Name, errdefs.ErrInvalidArgument)
	}
	ports, err := checkFrontendPorts(spec.Ports)
	if err != nil {
		return nil, err
	}
	s.feMu.Lock()
	defer s.feMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.fes {
		if f.Name == spec.Name {
			return nil, fmt.Errorf("frontend with name %s already exists: %w", spec.Name, errdefs.ErrConflict)
		}
	}
	n, err := s.getLocked(spec.Network)
	if err != nil {
		return nil, err
	}
	if n.Driver != DriverBridge {
		return nil, fmt.Errorf("network %s (driver %s) cannot carry a frontend: %w", n.Name, n.Driver, errdefs.ErrInvalidArgument)
	}
	now := time.Now().UTC()
	f := &Frontend{ID: newID(), Name: spec.Name, Labels: maps(spec.Labels), Network: n.ID, Ports: ports,
		Aliases: slices.Clone(spec.Aliases), Backends: slices.Clone(spec.Backends), Candidates: slices.Clone(spec.Candidates),
		Addrs: map[string]netip.Addr{}, Created: now, Updated: now}
	if err := s.addrsOf(f); err != nil {
		return nil, err
	}
	taken, retire, err := s.takePorts(f, nil)
	if err != nil {
		return nil, err
	}
	if err := s.db.Put(metadata.Frontends, f.ID, f); err != nil {
		s.releasePorts(taken)
		return nil, err
	}
	// the DNAT first: it comes before iptables', so a port taken over
	// from a member is never without a translation
	undo := func() {
		_ = s.db.Delete(metadata.Frontends, f.ID)
		_ = s.applyNAT(nil, f.ID)
		_ = s.fw.RemoveFrontend(s.firewallFrontend(f))
		s.releasePorts(taken)
	}
	if err := s.applyNAT(f, ""); err != nil {
		undo()
		return nil, err
	}
	if err := s.fw.SetFrontendRetiring(s.firewallFrontend(f), nil, retire); err != nil {
		undo()
		return nil, err
	}
	s.fes[f.ID] = f
	s.publishFrontend("create", f, nil)
	return f.clone(), nil
}

// UpdateFrontend changes a frontend's ports, aliases, labels or
// candidates in one firewall transaction. Candidates named mark an update
// under way ("update start").
func (s *Service) UpdateFrontend(ref string, ch FrontendChange) (*Frontend, error) {
	old, unlock, err := s.lockFrontend(ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	f := old.clone()
	if ch.Ports != nil {
		if f.Ports, err = checkFrontendPorts(*ch.Ports); err != nil {
			return nil, err
		}
	}
	if ch.Aliases != nil {
		f.Aliases = slices.Clone(*ch.Aliases)
	}
	if ch.Labels != nil {
		f.Labels = maps(*ch.Labels)
	}
	if ch.Candidates != nil {
		f.Candidates = slices.Clone(*ch.Candidates)
	}
	f.Updated = time.Now().UTC()
	_ = s.addrsOf(f) // backends are unchanged: they had addresses
	if err := s.apply(f, old); err != nil {
		return nil, err
	}
	action, attrs := eventtypes.Action("update"), map[string]string{}
	if ch.Candidates != nil && len(*ch.Candidates) > 0 {
		action = "update start"
		attrs["candidates"] = strings.Join(shortIDs(f.Candidates), ",")
	}
	s.publishFrontend(action, f, attrs)
	return f.clone(), nil
}

// SwitchFrontend moves a frontend's ports and aliases to backends in one
// firewall transaction: new connections go to them, connections already
// made stay where they are. previous (nil: the backends switched from) is
// kept for a rollback; a backend stops being a candidate.
func (s *Service) SwitchFrontend(ref string, backends, previous []string, rollback bool) (*Frontend, error) {
	old, unlock, err := s.lockFrontend(ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	f := old.clone()
	f.Backends = slices.Clone(backends)
	if previous == nil {
		previous = old.Backends
	}
	f.Previous = slices.DeleteFunc(slices.Clone(previous), func(id string) bool { return slices.Contains(backends, id) })
	f.Candidates = slices.DeleteFunc(f.Candidates, func(id string) bool { return slices.Contains(backends, id) })
	if err := s.addrsOf(f); err != nil {
		return nil, err
	}
	f.Generation++
	f.Updated = time.Now().UTC()
	if err := s.apply(f, old); err != nil {
		return nil, err
	}
	action := eventtypes.Action("switch")
	if rollback {
		action = "rollback"
	}
	s.publishFrontend(action, f, map[string]string{"from": strings.Join(shortIDs(old.Backends), ","), "to": strings.Join(shortIDs(f.Backends), ",")})
	return f.clone(), nil
}

// apply writes f (replacing old) to the firewall and the record; on error
// nothing changed. Callers hold feMu and mu.
func (s *Service) apply(f, old *Frontend) error {
	taken, retire, err := s.takePorts(f, old)
	if err != nil {
		return err
	}
	// the ports it no longer has
	keep := map[string]bool{}
	for _, p := range f.Ports {
		keep[p.port().key()] = true
	}
	var gone []string
	for _, p := range old.Ports {
		if k := p.port().key(); !keep[k] {
			gone = append(gone, k)
			delete(f.Adopted, k)
		}
	}
	// the record first, then the rules: the event that follows is then
	// stamped once new connections go where the record says (and a crash
	// between the two comes back as the record says)
	if err := s.db.Put(metadata.Frontends, f.ID, f); err != nil {
		s.releasePorts(taken)
		return err
	}
	// iptables first for members that join (their accepts must be in
	// before traffic moves), then the DNAT (the switch itself, one
	// netlink transaction), then iptables again for members that left
	prev, next := s.firewallFrontend(old), s.firewallFrontend(f)
	union := next
	union.Members = slices.Clone(next.Members)
	for _, a := range prev.Members {
		if !slices.Contains(union.Members, a) {
			union.Members = append(union.Members, a)
		}
	}
	slices.SortFunc(union.Members, func(a, b netip.Addr) int { return a.Compare(b) })
	fail := func(err error) error {
		_ = s.db.Put(metadata.Frontends, old.ID, old)
		_ = s.applyNAT(old, "")
		_ = s.fw.SetFrontend(prev, &union)
		s.releasePorts(taken)
		return err
	}
	if !sameMembers(union, prev) || len(retire) > 0 {
		if err := s.fw.SetFrontendRetiring(union, &prev, retire); err != nil {
			return fail(err)
		}
	}
	if err := s.applyNAT(f, ""); err != nil {
		return fail(err)
	}
	if !sameMembers(next, union) {
		if err := s.fw.SetFrontend(next, &union); err != nil {
			return fail(err)
		}
	}
	s.releasePorts(gone)
	s.fes[f.ID] = f
	return nil
}

// RemoveFrontend deletes a frontend: its rules, its ports, its record.
// Its containers are left as they are.
func (s *Service) RemoveFrontend(ref string) error {
	f, unlock, err := s.lockFrontend(ref)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.applyNAT(nil, f.ID); err != nil {
		return err
	}
	if err := s.fw.RemoveFrontend(s.firewallFrontend(f)); err != nil {
		return err
	}
	if err := s.db.Delete(metadata.Frontends, f.ID); err != nil {
		return err
	}
	var keys []string
	for _, p := range f.Ports {
		keys = append(keys, p.port().key())
	}
	s.releasePorts(keys)
	delete(s.fes, f.ID)
	s.publishFrontend("destroy", f, nil)
	return nil
}

func shortIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = shortID(id)
	}
	return out
}

// publishFrontend sends a frontend event: the actor is the frontend, with
// its name and labels.
func (s *Service) publishFrontend(action eventtypes.Action, f *Frontend, extra map[string]string) {
	if s.events == nil {
		return
	}
	attrs := maps(f.Labels)
	attrs["name"] = f.Name
	for k, v := range extra {
		attrs[k] = v
	}
	s.events.Publish(FrontendEventType, action, f.ID, attrs)
}

// trackEndpoint records a container's endpoint (Join, Restore) and
// refreshes the frontends it serves, whose rules lead to its address.
// Callers hold no lock.
func (s *Service) trackEndpoint(ep *Endpoint) {
	s.feMu.Lock()
	defer s.feMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eps[ep.ContainerID] == nil {
		s.eps[ep.ContainerID] = map[string]*Endpoint{}
	}
	cp := *ep
	s.eps[ep.ContainerID][ep.NetworkID] = &cp
	s.refreshFrontends(ep.ContainerID)
}

// forgetEndpoint drops a container's endpoint (Leave): the frontends it
// serves stop sending it new connections. It reports whether the
// container belongs to a frontend.
func (s *Service) forgetEndpoint(ep *Endpoint) (member bool) {
	s.feMu.Lock()
	defer s.feMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.eps[ep.ContainerID]; m != nil {
		delete(m, ep.NetworkID)
		if len(m) == 0 {
			delete(s.eps, ep.ContainerID)
		}
	}
	for _, f := range s.fes {
		member = member || slices.Contains(f.members(), ep.ContainerID)
	}
	s.refreshFrontends(ep.ContainerID)
	return member
}

// refreshFrontends rewrites the rules of the frontends that id serves
// when its address there changed. Callers hold feMu and mu.
func (s *Service) refreshFrontends(id string) {
	for _, old := range s.fes {
		if !slices.Contains(old.members(), id) {
			continue
		}
		f := old.clone()
		_ = s.addrsOf(f)
		if f.Addrs[id] == old.Addrs[id] {
			continue
		}
		if err := s.apply(f, old); err != nil {
			fmt.Printf("berthd: frontend %s: %v\n", f.Name, err)
		}
	}
}

// FrontendHolds reports whether a frontend that containerID belongs to
// holds the host port of p (the container then does not publish it).
func (s *Service) frontendHolds(containerID string, p Port) bool {
	probe := p
	if probe.HostIP.IsValid() && probe.HostIP.IsUnspecified() {
		probe.HostIP = netip.Addr{}
	}
	if probe.HostIP.Is6() && probe.HostIP.IsUnspecified() {
		probe.HostIP = netip.Addr{} // a frontend's wildcard stands for both families
	}
	r := s.ports[probe.key()]
	if r == nil || r.frontend == "" {
		return false
	}
	f := s.fes[r.frontend]
	return f != nil && slices.Contains(f.members(), containerID)
}

// LookupFrontend answers a DNS name that is a frontend's alias: the
// addresses, on the networks asked about, of the frontend's backends. ok
// is false when no frontend with the name has a member on those networks
// (the usual lookup applies: another project's service of the same name
// is not hidden by this one's frontend).
func (s *Service) LookupFrontend(name string, networkIDs []string) (addrs []netip.Addr, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.fes {
		if !slices.ContainsFunc(f.Aliases, func(a string) bool { return strings.EqualFold(a, name) }) ||
			!slices.ContainsFunc(f.members(), func(id string) bool { return s.onAny(id, networkIDs) }) {
			continue
		}
		ok = true
		for _, id := range f.Backends {
			for _, nid := range networkIDs {
				if ep := s.eps[id][nid]; ep != nil {
					addrs = append(addrs, ep.IP)
					if ep.IP6.IsValid() {
						addrs = append(addrs, ep.IP6)
					}
				}
			}
		}
	}
	return addrs, ok
}

// onAny reports whether the container has an endpoint on one of the
// networks. Callers hold mu.
func (s *Service) onAny(containerID string, networkIDs []string) bool {
	for _, nid := range networkIDs {
		if s.eps[containerID][nid] != nil {
			return true
		}
	}
	return false
}

// FrontendPorts are the ports of the frontends containerID serves, as
// its published ports (ps, inspect).
func (s *Service) FrontendPorts(containerID string) []Port {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Port
	for _, f := range s.sortedFrontends() {
		if slices.Contains(f.Backends, containerID) {
			for _, p := range f.Ports {
				out = append(out, p.port())
			}
		}
	}
	return out
}

// FrontendMember is one container of a frontend as inspect shows it.
type FrontendMember struct {
	ID, Role string // backend, previous or candidate
	Addr     netip.Addr
	// Connections it still has through the frontend's ports (a drain
	// waits for none); -1 when the kernel's table cannot be read
	Connections int
}

// FrontendMembers lists f's containers, with their open connections when
// asked (else 0).
func (s *Service) FrontendMembers(f *Frontend, connections bool) []FrontendMember {
	var targets []conntrack.Target
	for _, p := range f.Ports {
		targets = append(targets, conntrack.Target{Proto: p.Proto, Port: p.TargetPort})
	}
	var out []FrontendMember
	for _, g := range []struct {
		role string
		ids  []string
	}{{"backend", f.Backends}, {"previous", f.Previous}, {"candidate", f.Candidates}} {
		for _, id := range g.ids {
			m := FrontendMember{ID: id, Role: g.role, Addr: f.Addrs[id]}
			if m.Addr.IsValid() && connections {
				n, err := conntrack.Active(m.Addr, targets)
				if err != nil {
					n = -1
				}
				m.Connections = n
			}
			out = append(out, m)
		}
	}
	return out
}
