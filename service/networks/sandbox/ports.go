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
			hp := 0
			if b.HostPort != "" {
				start, _, _ := strings.Cut(b.HostPort, "-") // a range: its first port
				n, err := strconv.Atoi(start)
				if err != nil || n < 0 || n > 65535 {
					return nil, fmt.Errorf("invalid port specification: %q: %w", b.HostPort, errdefs.ErrInvalidArgument)
				}
				hp = n
			}
			// zero: both families (0.0.0.0 or :: given: that one only)
			out = append(out, networks.Wanted{Proto: string(p.Proto()), HostIP: b.HostIP.Unmap(), HostPort: hp, CtrPort: int(p.Num())})
		}
	}
	return out, nil
}
