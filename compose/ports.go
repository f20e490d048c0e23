package compose

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// checkPorts refuses a project that publishes a fixed host port another
// running container holds (one not of the same service of this project,
// which up replaces), before anything is created, in the daemon's words.
func (e *Engine) checkPorts(ctx context.Context, p *types.Project) error {
	var running []container.Summary // listed once, when some port is fixed
	listed := false
	for _, svc := range sortedKeys(p.Services) {
		s := p.Services[svc]
		for _, pc := range s.Ports {
			first, last, err := publishedRange(pc.Published)
			if err != nil {
				return fmt.Errorf("service %q: invalid published port %q: %w", s.Name, pc.Published, err)
			}
			if first == 0 {
				continue // ephemeral: the daemon picks a free one
			}
			proto := pc.Protocol
			if proto == "" {
				proto = "tcp"
			}
			want := netip.IPv4Unspecified()
			if pc.HostIP != "" {
				if want, err = netip.ParseAddr(pc.HostIP); err != nil {
					return fmt.Errorf("service %q: host_ip %q: %w", s.Name, pc.HostIP, err)
				}
			}
			if !listed {
				// (the publish filter matches container ports, as dockerd's)
				res, err := e.api.ContainerList(ctx, client.ContainerListOptions{})
				if err != nil {
					return err
				}
				running, listed = res.Items, true
			}
			// a range is taken when all of it is: the daemon picks a
			// free port in it
			var holder container.Summary
			free := false
			for port := first; port <= last && !free; port++ {
				free = true
				for _, c := range running {
					if c.Labels[ProjectLabel] == p.Name && c.Labels[ServiceLabel] == s.Name {
						continue
					}
					if holds(c, port, proto, want) {
						free, holder = false, c
						break
					}
				}
			}
			if !free {
				where := netip.AddrPortFrom(want, uint16(first)).String()
				if last > first {
					where += fmt.Sprintf("-%d", last)
				}
				return fmt.Errorf("service %q: Bind for %s failed: port is already allocated (container %s)",
					s.Name, where, name(holder))
			}
		}
	}
	return nil
}

// publishedRange is a published port ("8080", "8000-8010", "" for
// ephemeral) as its first and last port; 0, 0 for ephemeral.
func publishedRange(published string) (int, int, error) {
	if published == "" {
		return 0, 0, nil
	}
	lo, hi, isRange := strings.Cut(published, "-")
	first, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return 0, 0, err
	}
	last := first
	if isRange {
		if last, err = strconv.ParseUint(hi, 10, 16); err != nil {
			return 0, 0, err
		}
		if last < first {
			return 0, 0, fmt.Errorf("the range ends before it starts")
		}
	}
	return int(first), int(last), nil
}

// holds reports whether c publishes port/proto on ip (or on every address).
func holds(c container.Summary, port int, proto string, ip netip.Addr) bool {
	for _, cp := range c.Ports {
		if int(cp.PublicPort) != port || cp.Type != proto {
			continue
		}
		if !cp.IP.IsValid() || cp.IP.IsUnspecified() || ip.IsUnspecified() || cp.IP == ip {
			return true
		}
	}
	return false
}
