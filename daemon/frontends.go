package daemon

import (
	"fmt"
	"net/netip"

	"github.com/berth-project/berth/internal/apiext"
	networksvc "github.com/berth-project/berth/service/networks"
	"github.com/containerd/errdefs"
)

// frontendBackend serves the frontend API from the networks service,
// naming containers as the containers service does.
type frontendBackend struct{ d *Daemon }

// toAPI is the frontend as the API shows it; withConnections counts each
// member's connections (a conntrack dump per member, ~9 ms here: inspect
// and list only, not on a switch's path).
func (b frontendBackend) toAPI(f *networksvc.Frontend, withConnections bool) *apiext.Frontend {
	out := &apiext.Frontend{ID: f.ID, Name: f.Name, Labels: f.Labels, NetworkID: f.Network, Ports: []apiext.FrontendPort{},
		Aliases: nonNil(f.Aliases), Backends: nonNil(f.Backends), Previous: nonNil(f.Previous), Candidates: nonNil(f.Candidates),
		Generation: f.Generation, Created: f.Created, Updated: f.Updated}
	if n, err := b.d.networks.Get(f.Network); err == nil {
		out.Network = n.Name
	}
	out.Members = []apiext.FrontendMember{}
	for _, m := range b.d.networks.FrontendMembers(f, withConnections) {
		am := apiext.FrontendMember{ID: m.ID, Role: m.Role, Connections: m.Connections}
		if m.Addr.IsValid() {
			am.Address = m.Addr.String()
		}
		out.Members = append(out.Members, am)
	}
	for _, p := range f.Ports {
		ap := apiext.FrontendPort{Protocol: p.Proto, HostPort: p.HostPort, TargetPort: p.TargetPort}
		if p.HostIP.IsValid() {
			ap.HostIP = p.HostIP.String()
		}
		out.Ports = append(out.Ports, ap)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// containerIDs resolves container names and IDs.
func (b frontendBackend) containerIDs(refs []string) ([]string, error) {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		c, err := b.d.containers.Get(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c.ID)
	}
	return out, nil
}

func ports(in []apiext.FrontendPort) ([]networksvc.FrontendPort, error) {
	out := make([]networksvc.FrontendPort, 0, len(in))
	for _, p := range in {
		fp := networksvc.FrontendPort{Proto: p.Protocol, HostPort: p.HostPort, TargetPort: p.TargetPort}
		if p.HostIP != "" {
			a, err := netip.ParseAddr(p.HostIP)
			if err != nil {
				return nil, fmt.Errorf("invalid host address %q: %w", p.HostIP, errdefs.ErrInvalidArgument)
			}
			fp.HostIP = a
		}
		out = append(out, fp)
	}
	return out, nil
}

func (b frontendBackend) List(filters map[string][]string) ([]apiext.Frontend, error) {
	var out []apiext.Frontend
	for _, f := range b.d.networks.Frontends(filters) {
		out = append(out, *b.toAPI(f, true))
	}
	return out, nil
}

func (b frontendBackend) Get(ref string) (*apiext.Frontend, error) {
	f, err := b.d.networks.Frontend(ref)
	if err != nil {
		return nil, err
	}
	return b.toAPI(f, true), nil
}

func (b frontendBackend) Create(req apiext.FrontendCreateRequest) (*apiext.Frontend, error) {
	spec := networksvc.FrontendSpec{Name: req.Name, Labels: req.Labels, Network: req.Network, Aliases: req.Aliases}
	var err error
	if spec.Ports, err = ports(req.Ports); err != nil {
		return nil, err
	}
	if spec.Backends, err = b.containerIDs(req.Backends); err != nil {
		return nil, err
	}
	if spec.Candidates, err = b.containerIDs(req.Candidates); err != nil {
		return nil, err
	}
	f, err := b.d.networks.CreateFrontend(spec)
	if err != nil {
		return nil, err
	}
	return b.toAPI(f, false), nil
}

func (b frontendBackend) Update(ref string, req apiext.FrontendUpdateRequest) (*apiext.Frontend, error) {
	ch := networksvc.FrontendChange{Aliases: req.Aliases, Labels: req.Labels}
	if req.Ports != nil {
		p, err := ports(*req.Ports)
		if err != nil {
			return nil, err
		}
		ch.Ports = &p
	}
	if req.Candidates != nil {
		ids, err := b.containerIDs(*req.Candidates)
		if err != nil {
			return nil, err
		}
		ch.Candidates = &ids
	}
	f, err := b.d.networks.UpdateFrontend(ref, ch)
	if err != nil {
		return nil, err
	}
	return b.toAPI(f, false), nil
}

func (b frontendBackend) Switch(ref string, req apiext.FrontendSwitchRequest) (*apiext.Frontend, error) {
	backends, err := b.containerIDs(req.Backends)
	if err != nil {
		return nil, err
	}
	var previous []string
	if req.Previous != nil {
		if previous, err = b.containerIDs(*req.Previous); err != nil {
			return nil, err
		}
		if previous == nil {
			previous = []string{}
		}
	}
	f, err := b.d.networks.SwitchFrontend(ref, backends, previous, req.Rollback)
	if err != nil {
		return nil, err
	}
	return b.toAPI(f, false), nil
}

func (b frontendBackend) Remove(ref string) error { return b.d.networks.RemoveFrontend(ref) }
