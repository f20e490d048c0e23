package networks

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/network/ipam"
	"github.com/berth-project/berth/network/macvlan"
	"github.com/berth-project/berth/store/metadata"
	"github.com/containerd/errdefs"
)

// CreateOptions are the parameters of a new network.
type CreateOptions struct {
	Name       string
	Driver     string
	EnableIPv4 *bool // nil: true
	EnableIPv6 *bool // nil: the com.docker.network.enable_ipv6 option, else false
	IPAMDriver string
	// IPAMConfig are the configured subnets, at most one per family
	// (dockerd's bridge driver takes no more).
	IPAMConfig  []IPAMConfig
	IPAMOptions map[string]string
	Internal    bool
	Labels      map[string]string
	Options     map[string]string
}

const optEnableIPv6 = "com.docker.network.enable_ipv6"

// Create makes a user-defined bridge network.
func (s *Service) Create(o CreateOptions) (*Network, error) {
	if o.Driver == "" {
		o.Driver = DriverBridge
	}
	switch o.Driver {
	case DriverBridge, DriverMacvlan:
	case DriverIpvlan:
		return nil, ipvlanUnsupported(o.Options[optParent])
	default:
		return nil, fmt.Errorf("could not find plugin %s in v1 plugin registry: plugin not found: %w", o.Driver, errdefs.ErrNotFound)
	}
	if o.IPAMDriver != "" && o.IPAMDriver != "default" {
		return nil, fmt.Errorf("could not find plugin %s in v1 plugin registry: plugin not found: %w", o.IPAMDriver, errdefs.ErrNotFound)
	}
	if o.Name == "" {
		return nil, fmt.Errorf("network name must not be empty: %w", errdefs.ErrInvalidArgument)
	}
	if o.EnableIPv4 != nil && !*o.EnableIPv4 {
		return nil, fmt.Errorf("IPv6-only networks (EnableIPv4 false) are not supported by berth: %w", errdefs.ErrNotImplemented)
	}
	n := &Network{ID: newID(), Name: o.Name, Driver: o.Driver, Created: time.Now().UTC(), Internal: o.Internal,
		Labels: o.Labels, Options: o.Options, IPAMOptions: o.IPAMOptions, IPAMConfig: o.IPAMConfig, Version: recordVersion}
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	if n.Options == nil {
		n.Options = map[string]string{}
	}
	if o.EnableIPv6 != nil {
		n.EnableIPv6 = *o.EnableIPv6
		delete(n.Options, optEnableIPv6) // dockerd drops a conflicting option
	} else if v, ok := n.Options[optEnableIPv6]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("driver-opt %q is not a valid bool: %w", optEnableIPv6, errdefs.ErrInvalidArgument)
		}
		n.EnableIPv6 = b
	}
	if err := validateIPAM(o.IPAMConfig, n.EnableIPv6); err != nil {
		return nil, err
	}
	if n.Driver == DriverBridge {
		n.Bridge = n.Options["com.docker.network.bridge.name"]
		if n.Bridge == "" {
			n.Bridge = "br-" + n.ID[:12]
		}
		if len(n.Bridge) > 15 {
			return nil, fmt.Errorf("bridge name %q is longer than 15 characters: %w", n.Bridge, errdefs.ErrInvalidArgument)
		}
	}
	if n.Driver == DriverMacvlan {
		if _, err := macvlan.ParseMode(n.Options[optMacvlanMode]); err != nil {
			return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
		}
		n.Parent = n.Options[optParent] // none: a dummy one (isolated)
		if n.Parent == "lo" {
			return nil, fmt.Errorf("loopback interface is not a valid macvlan parent link: %w", errdefs.ErrInvalidArgument)
		}
	}
	if n.EnableIPv6 {
		if err := s.fw.IPv6(); err != nil {
			return nil, fmt.Errorf("%v: %w", err, errdefs.ErrNotImplemented)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName(o.Name) != nil {
		return nil, fmt.Errorf("network with name %s already exists: %w", o.Name, errdefs.ErrConflict)
	}
	for _, other := range s.nets {
		if n.Bridge != "" && other.Bridge == n.Bridge {
			return nil, fmt.Errorf("bridge name %s is used by network %s: %w", n.Bridge, other.Name, errdefs.ErrConflict)
		}
		if n.Parent != "" && other.Driver == DriverMacvlan && other.Parent == n.Parent {
			return nil, fmt.Errorf("network %s is already using parent interface %s: %w", macvlan.DummyName(other.ID), n.Parent, errdefs.ErrConflict)
		}
	}
	if err := s.assignSubnets(n); err != nil {
		return nil, err
	}
	if _, _, err := n.newPools(); err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	if err := s.bringUp(n); err != nil {
		s.tearDown(n)
		return nil, err
	}
	if err := s.db.Put(metadata.Networks, n.ID, n); err != nil {
		s.tearDown(n)
		return nil, err
	}
	s.nets[n.ID] = n
	s.publish("create", n, "")
	return n, nil
}

// assignSubnets sets the subnets in use: the configured ones, else free
// default ones (IPv6 from the daemon's ULA /48).
func (s *Service) assignSubnets(n *Network) error {
	taken := s.takenLocked("")
	for _, v6 := range []bool{false, true} {
		if v6 && !n.EnableIPv6 {
			break
		}
		var sub, rng netip.Prefix
		var gw netip.Addr
		if c := n.Configured(v6); c != nil {
			if ipam.OverlapsAny(c.Subnet, taken) {
				return fmt.Errorf("invalid pool request: Pool overlaps with other one on this address space: %w", errdefs.ErrPermissionDenied)
			}
			sub, rng, gw = c.Subnet, c.IPRange, c.Gateway
		} else {
			var err error
			if v6 {
				sub, err = ipam.ChooseSubnet6(ipam.ULABase(s.cfg.Owner), taken)
			} else {
				sub, err = ipam.ChooseSubnet(taken)
			}
			if err != nil {
				return err
			}
		}
		if !gw.IsValid() {
			gw = sub.Addr().Next()
		}
		if v6 {
			n.Subnet6, n.IPRange6, n.Gateway6 = sub, rng, gw
		} else {
			n.Subnet, n.IPRange, n.Gateway = sub, rng, gw
		}
	}
	return nil
}

// validateIPAM is dockerd's ValidateIPAM (an IPv6 subnet is not checked
// unless IPv6 is on) plus the bridge driver's one subnet per family.
func validateIPAM(cfgs []IPAMConfig, enableIPv6 bool) error {
	var errs []error
	perFamily := map[bool]int{}
	for _, c := range cfgs {
		if !c.Subnet.IsValid() {
			errs = append(errs, fmt.Errorf("invalid subnet %s: invalid CIDR block notation", prefixString(c.Subnet)))
			continue
		}
		v6 := c.Subnet.Addr().Is6()
		perFamily[v6]++
		if v6 && !enableIPv6 {
			continue
		}
		family := familyName(v6)
		if c.Subnet != c.Subnet.Masked() {
			errs = append(errs, fmt.Errorf("invalid subnet %s: it should be %s", c.Subnet, c.Subnet.Masked()))
		}
		if r := c.IPRange; r.IsValid() {
			switch {
			case r.Addr().Is6() != v6:
				errs = append(errs, fmt.Errorf("invalid ip-range %s: parent subnet is an %s block", r, family))
			default:
				if r.Bits() < c.Subnet.Bits() {
					errs = append(errs, fmt.Errorf("invalid ip-range %s: CIDR block is bigger than its parent subnet %s", r, c.Subnet))
				}
				if r != r.Masked() {
					errs = append(errs, fmt.Errorf("invalid ip-range %s: it should be %s", r, r.Masked()))
				}
				if !c.Subnet.Overlaps(r) {
					errs = append(errs, fmt.Errorf("invalid ip-range %s: parent subnet %s doesn't contain ip-range", r, c.Subnet))
				}
			}
		}
		if err := addressInSubnet(c.Gateway, c.Subnet); err != nil {
			errs = append(errs, fmt.Errorf("invalid gateway %s: %w", c.Gateway, err))
		}
		names := make([]string, 0, len(c.Aux))
		for name := range c.Aux {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if err := addressInSubnet(c.Aux[name], c.Subnet); err != nil {
				errs = append(errs, fmt.Errorf("invalid auxiliary address %s: %w", name, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid network config:\n%s: %w", JoinErrors(errs), errdefs.ErrInvalidArgument)
	}
	if perFamily[false] > 1 || perFamily[true] > 1 {
		return fmt.Errorf("bridge driver doesn't support multiple subnets: %w", errdefs.ErrPermissionDenied)
	}
	return nil
}

func addressInSubnet(a netip.Addr, sub netip.Prefix) error {
	if !a.IsValid() {
		return nil
	}
	v6 := sub.Addr().Is6()
	if a.Is6() != v6 {
		return fmt.Errorf("parent subnet is an %s block", familyName(v6))
	}
	if !sub.Contains(a) {
		return fmt.Errorf("parent subnet %s doesn't contain this address", sub)
	}
	return nil
}

// JoinErrors formats several errors as dockerd's multierror: one as is,
// more as a list of "* " lines.
func JoinErrors(errs []error) string {
	if len(errs) == 1 {
		return strings.TrimSpace(errs[0].Error())
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, strings.ReplaceAll(e.Error(), "\n", "\n\t"))
	}
	return "* " + strings.Join(msgs, "\n* ")
}

func familyName(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}

func prefixString(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

var errNoPool = errors.New("network has no address pool")
