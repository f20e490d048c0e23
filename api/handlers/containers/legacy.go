package containers

// Shapes of API 1.50 (berth's version) that moby's current API types, made
// for 1.52 and later, no longer have.

import (
	"fmt"
	"net"
	"net/http"

	"github.com/berth-project/berth/api/httputil"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// createBody is POST /containers/create's body with the container-wide
// MacAddress that API < 1.52 still takes (deprecated since 1.44).
type createBody struct {
	container.CreateRequest
	MacAddress string `json:",omitempty"`
	// Runtime beside the container config is where docker-py's
	// create_container(runtime=…) puts it; dockerd reads only
	// HostConfig.Runtime (and its default is runc). berth honours it
	// when HostConfig names none, so the client gets the runtime it asked for.
	Runtime string `json:",omitempty"`
}

// decodeCreate reads a create request, moving a container-wide MacAddress
// to the endpoint of the container's network as dockerd does. It returns
// dockerd's deprecation warning when it did.
func decodeCreate(r *http.Request) (container.CreateRequest, []string, error) {
	var body createBody
	if err := httputil.DecodeJSON(r, &body); err != nil {
		return container.CreateRequest{}, nil, err
	}
	req := body.CreateRequest
	if body.Runtime != "" {
		if req.HostConfig == nil {
			req.HostConfig = &container.HostConfig{}
		}
		if req.HostConfig.Runtime == "" {
			req.HostConfig.Runtime = body.Runtime
		}
	}
	if body.MacAddress == "" {
		return req, nil, nil
	}
	mac, err := net.ParseMAC(body.MacAddress)
	if err != nil {
		return req, nil, fmt.Errorf("invalid MAC address %q: %w", body.MacAddress, errdefs.ErrInvalidArgument)
	}
	if req.HostConfig == nil {
		req.HostConfig = &container.HostConfig{}
	}
	mode := req.HostConfig.NetworkMode
	if mode == "" || mode == "default" {
		mode = network.NetworkBridge
	}
	if mode.IsBridge() || mode.IsUserDefined() {
		if req.NetworkingConfig == nil {
			req.NetworkingConfig = &network.NetworkingConfig{}
		}
		if req.NetworkingConfig.EndpointsConfig == nil {
			req.NetworkingConfig.EndpointsConfig = map[string]*network.EndpointSettings{}
		}
		ep := req.NetworkingConfig.EndpointsConfig[string(mode)]
		if ep == nil {
			ep = &network.EndpointSettings{}
			req.NetworkingConfig.EndpointsConfig[string(mode)] = ep
		}
		switch {
		case len(ep.MacAddress) == 0:
			ep.MacAddress = network.HardwareAddr(mac)
		case ep.MacAddress.String() != mac.String():
			return req, nil, fmt.Errorf("the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty: %w", errdefs.ErrInvalidArgument)
		}
	}
	return req, []string{"The container-wide MacAddress field is now deprecated. It should be specified in EndpointsConfig instead."}, nil
}

// inspectResponse is GET /containers/{id}/json in API 1.50's shape: the
// deprecated top-level NetworkSettings fields, filled from the default
// bridge network's endpoint (dockerd's getDefaultNetworkSettings).
type inspectResponse struct {
	container.InspectResponse
	NetworkSettings *networkSettings `json:",omitempty"`
}

type networkSettings struct {
	Bridge                 string
	SandboxID              string
	SandboxKey             string
	Ports                  network.PortMap
	HairpinMode            bool
	LinkLocalIPv6Address   string
	LinkLocalIPv6PrefixLen int
	SecondaryIPAddresses   []struct{} // always null, as in dockerd
	SecondaryIPv6Addresses []struct{}
	EndpointID             string
	Gateway                string
	GlobalIPv6Address      string
	GlobalIPv6PrefixLen    int
	IPAddress              string
	IPPrefixLen            int
	IPv6Gateway            string
	MacAddress             string
	Networks               map[string]*network.EndpointSettings
}

func legacyInspect(resp *container.InspectResponse) inspectResponse {
	out := inspectResponse{InspectResponse: *resp}
	ns := resp.NetworkSettings
	if ns == nil {
		return out
	}
	out.NetworkSettings = &networkSettings{SandboxID: ns.SandboxID, SandboxKey: ns.SandboxKey, Ports: ns.Ports, Networks: ns.Networks}
	if ep := ns.Networks[network.NetworkBridge]; ep != nil {
		l := out.NetworkSettings
		l.EndpointID, l.MacAddress = ep.EndpointID, ep.MacAddress.String()
		l.IPPrefixLen, l.GlobalIPv6PrefixLen = ep.IPPrefixLen, ep.GlobalIPv6PrefixLen
		l.Gateway, l.IPAddress = addr(ep.Gateway), addr(ep.IPAddress)
		l.GlobalIPv6Address, l.IPv6Gateway = addr(ep.GlobalIPv6Address), addr(ep.IPv6Gateway)
	}
	return out
}

// addr writes an unset address as "", as dockerd does.
func addr(a interface {
	IsValid() bool
	String() string
}) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
