// Package networks serves /networks: create, list, inspect, remove,
// prune, connect and disconnect.
package networks

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	svc "github.com/berth-project/berth/service/networks"
	"github.com/moby/moby/api/types/network"
)

type handlers struct {
	b Backend
	c Containers
}

// Register adds the network routes.
func Register(rt *server.Router, b Backend, c Containers) {
	h := handlers{b, c}
	rt.Handle("GET /networks", h.list)
	rt.Handle("GET /networks/{$}", h.list) // dockerd routes both
	rt.Handle("POST /networks/create", h.create)
	rt.Handle("POST /networks/prune", h.prune)
	rt.Handle("GET /networks/{id}", h.inspect)
	rt.Handle("DELETE /networks/{id}", h.remove)
	rt.Handle("POST /networks/{id}/connect", h.connect)
	rt.Handle("POST /networks/{id}/disconnect", h.disconnect)
}

func toAPI(n *svc.Network) network.Network {
	out := network.Network{Name: n.Name, ID: n.ID, Created: n.Created, Scope: "local", Driver: n.Driver, EnableIPv4: true, EnableIPv6: n.EnableIPv6,
		Internal: n.Internal, Options: n.Options, Labels: n.Labels, IPAM: network.IPAM{Driver: "default", Options: n.IPAMOptions}}
	for _, c := range n.ShownIPAM() {
		out.IPAM.Config = append(out.IPAM.Config, network.IPAMConfig{Subnet: c.Subnet, IPRange: c.IPRange, Gateway: c.Gateway, AuxAddress: c.Aux})
	}
	if out.Options == nil {
		out.Options = map[string]string{}
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	return out
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) error {
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	nets, err := h.b.List(f)
	if err != nil {
		return err
	}
	out := []network.Summary{}
	for _, n := range nets {
		out = append(out, network.Summary{Network: toAPI(n)})
	}
	return httputil.WriteJSON(w, http.StatusOK, out)
}

func (h handlers) inspect(w http.ResponseWriter, r *http.Request) error {
	n, err := h.b.Get(r.PathValue("id"))
	if err != nil {
		return err
	}
	resp := network.Inspect{Network: toAPI(n), Containers: map[string]network.EndpointResource{}}
	for _, u := range h.b.Users(n.ID) {
		if !u.Active() {
			continue // dockerd lists endpoints, which stopped containers lack
		}
		er := network.EndpointResource{Name: u.Name, EndpointID: u.Endpoint.EndpointID}
		if u.Endpoint.IP.IsValid() {
			er.IPv4Address = netip.PrefixFrom(u.Endpoint.IP, u.Endpoint.PrefixLen)
		}
		if u.Endpoint.IP6.IsValid() {
			er.IPv6Address = netip.PrefixFrom(u.Endpoint.IP6, u.Endpoint.PrefixLen6)
		}
		if mac, err := net.ParseMAC(u.Endpoint.MAC); err == nil {
			er.MacAddress = network.HardwareAddr(mac)
		}
		resp.Containers[u.ContainerID] = er
	}
	return httputil.WriteJSON(w, http.StatusOK, resp)
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) error {
	var req network.CreateRequest
	if err := httputil.DecodeJSON(r, &req); err != nil {
		return err
	}
	o := svc.CreateOptions{Name: req.Name, Driver: req.Driver, EnableIPv4: req.EnableIPv4, EnableIPv6: req.EnableIPv6,
		Internal: req.Internal, Labels: req.Labels, Options: req.Options}
	if req.IPAM != nil {
		o.IPAMDriver, o.IPAMOptions = req.IPAM.Driver, req.IPAM.Options
		for _, c := range req.IPAM.Config {
			o.IPAMConfig = append(o.IPAMConfig, svc.IPAMConfig{Subnet: c.Subnet, IPRange: c.IPRange, Gateway: c.Gateway, Aux: c.AuxAddress})
		}
	}
	n, err := h.b.Create(o)
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusCreated, network.CreateResponse{ID: n.ID})
}

func (h handlers) remove(w http.ResponseWriter, r *http.Request) error {
	if err := h.b.Remove(r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h handlers) prune(w http.ResponseWriter, r *http.Request) error {
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	deleted, err := h.b.Prune(f["label"])
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, network.PruneReport{NetworksDeleted: deleted})
}

func (h handlers) connect(w http.ResponseWriter, r *http.Request) error {
	var req network.ConnectRequest
	if err := httputil.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := h.c.Connect(req.Container, r.PathValue("id"), req.EndpointConfig); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h handlers) disconnect(w http.ResponseWriter, r *http.Request) error {
	var req network.DisconnectRequest
	if err := httputil.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := h.c.Disconnect(req.Container, r.PathValue("id"), req.Force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
