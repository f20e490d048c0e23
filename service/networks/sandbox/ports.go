package sandbox

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-project/berth/service/networks"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Published turns PortBindings (and -P over the exposed ports) into the
// ports to publish, in port order.
func Published(cfg *container.Config, hc *container.HostConfig) ([]networks.Wanted, error) {
	bindings := network.PortMap{}
	for p, bs := range hc.PortBindings {
		bindings[p] = bs
	}
	if hc.PublishAllPorts {
		for p := range cfg.ExposedPorts {
			if _, ok := bindings[p]; !ok {
				bindings[p] = []network.PortBinding{{}}
			}
		}
	}
	keys := make([]network.Port, 0, len(bindings))
	for p := range bindings {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	var out []networks.Wanted
	for _, p := range keys {
		for _, b := range bindings[p] {
			hp, end, err := hostPorts(b.HostPort)
			if err != nil {
				return nil, err
			}
			// zero: both families (0.0.0.0 or :: given: that one only)
			out = append(out, networks.Wanted{Proto: string(p.Proto()), HostIP: b.HostIP.Unmap(), HostPort: hp, HostPortEnd: end, CtrPort: int(p.Num())})
		}
	}
	return out, nil
}

// hostPorts is a binding's host port: "" (0, ephemeral), "8080", or a
// range "8000-8010" to take a free port of.
func hostPorts(s string) (start, end int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	bad := fmt.Errorf("invalid port specification: %q: %w", s, errdefs.ErrInvalidArgument)
	a, b, isRange := strings.Cut(s, "-")
	if start, err = strconv.Atoi(a); err != nil || start < 0 || start > 65535 {
		return 0, 0, bad
	}
	if !isRange {
		return start, 0, nil
	}
	if end, err = strconv.Atoi(b); err != nil || end < start || end > 65535 || start == 0 {
		return 0, 0, bad
	}
	return start, end, nil
}
