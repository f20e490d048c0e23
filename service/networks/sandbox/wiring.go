package sandbox

import (
	"fmt"
	"strconv"

	"github.com/berth-project/berth/service/networks"
)

// Wiring joins containers' network namespaces to their networks.
type Wiring struct {
	nets *networks.Service
}

// NewWiring wires through nets.
func NewWiring(nets *networks.Service) *Wiring { return &Wiring{nets: nets} }

// Attach creates an endpoint in nsPath for each membership, in order
// (eth0 for the first, which also carries the default route), and
// publishes wanted on the first. Each membership's Endpoint is set as it
// is made, so Detach undoes a failed Attach.
func (w *Wiring) Attach(nsPath, containerID string, order []string, ms map[string]*Membership, wanted []networks.Wanted) ([]*networks.Endpoint, []networks.Port, error) {
	var eps []*networks.Endpoint
	for i, name := range order {
		if err := w.Join(nsPath, containerID, ms[name], "eth"+strconv.Itoa(i), i == 0); err != nil {
			return eps, nil, err
		}
		eps = append(eps, ms[name].Endpoint)
	}
	if len(eps) == 0 {
		return nil, nil, nil
	}
	ports, err := w.nets.Publish(eps[0], wanted)
	return eps, ports, err
}

// Join creates m's endpoint in nsPath as interface ifName.
func (w *Wiring) Join(nsPath, containerID string, m *Membership, ifName string, gateway bool) error {
	ep, err := w.nets.Join(nsPath, networks.JoinRequest{ContainerID: containerID, Network: m.NetworkID, IfName: ifName,
		IP: m.IP, IP6: m.IP6, LinkLocal: m.LinkLocal, MAC: m.MAC, Aliases: m.Aliases, Gateway: gateway})
	if err != nil {
		return err
	}
	m.Endpoint = ep
	return nil
}

// FreeInterface is the first ethN that no endpoint of ms uses.
func FreeInterface(ms map[string]*Membership) string {
	used := map[string]bool{}
	for _, m := range ms {
		if m.Endpoint != nil {
			used[m.Endpoint.IfName] = true
		}
	}
	for i := 0; ; i++ {
		if name := "eth" + strconv.Itoa(i); !used[name] {
			return name
		}
	}
}

// Detach undoes Attach: the ports published on the primary endpoint are
// withdrawn and every endpoint is removed.
func (w *Wiring) Detach(order []string, ms map[string]*Membership, ports []networks.Port) {
	primary := true
	for _, name := range order {
		m := ms[name]
		if m.Endpoint == nil {
			continue
		}
		w.Leave(m, ports, primary)
		primary = false
	}
}

// Leave removes m's endpoint, withdrawing ports first if it is the
// primary one that carries them.
func (w *Wiring) Leave(m *Membership, ports []networks.Port, primary bool) {
	if m.Endpoint == nil {
		return
	}
	if primary && len(ports) > 0 {
		w.nets.Unpublish(m.Endpoint, ports)
	}
	w.nets.Leave(m.Endpoint)
	m.Endpoint = nil
}

// Settle waits until the endpoints left are gone from the host.
func (w *Wiring) Settle() { w.nets.Settle() }

// Restore takes back a running container's endpoints and published
// ports after a daemon restart; it reports what could not be restored.
func (w *Wiring) Restore(containerID string, order []string, ms map[string]*Membership, ports []networks.Port) []error {
	var errs []error
	var primary *networks.Endpoint
	for _, name := range order {
		ep := ms[name].Endpoint
		if ep == nil {
			continue
		}
		if primary == nil {
			primary = ep
		}
		if err := w.nets.Restore(containerID, ep); err != nil {
			errs = append(errs, fmt.Errorf("restore endpoint on %s: %w", name, err))
		}
	}
	if primary != nil && len(ports) > 0 {
		if err := w.nets.Republish(primary, ports); err != nil {
			errs = append(errs, fmt.Errorf("republish ports: %w", err))
		}
	}
	return errs
}
