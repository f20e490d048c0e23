package compose

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// ensureNetworks creates the project's networks that do not exist yet
// (external ones must exist).
func (e *Engine) ensureNetworks(ctx context.Context, p *types.Project) error {
	for _, key := range sortedKeys(p.Networks) {
		n := p.Networks[key]
		if _, err := e.api.NetworkInspect(ctx, n.Name, client.NetworkInspectOptions{}); err == nil {
			continue
		} else if !errdefs.IsNotFound(err) {
			return err
		}
		if n.External {
			return fmt.Errorf("network %s declared as external, but could not be found", n.Name)
		}
		id := networkID(n.Name)
		e.progress.Event(id, "Creating", "")
		labels := projectLabels(p)
		labels[NetworkLabel] = key
		for k, v := range n.Labels {
			labels[k] = v
		}
		opts := client.NetworkCreateOptions{Driver: n.Driver, Options: n.DriverOpts, Internal: n.Internal,
			Attachable: n.Attachable, Labels: labels, EnableIPv4: n.EnableIPv4, EnableIPv6: n.EnableIPv6}
		if len(n.Ipam.Config) > 0 || n.Ipam.Driver != "" {
			ipam := &network.IPAM{Driver: n.Ipam.Driver}
			for _, pool := range n.Ipam.Config {
				c := network.IPAMConfig{}
				var err error
				if pool.Subnet != "" {
					if c.Subnet, err = netip.ParsePrefix(pool.Subnet); err != nil {
						return fmt.Errorf("network %s: subnet %q: %w", key, pool.Subnet, err)
					}
				}
				if pool.Gateway != "" {
					if c.Gateway, err = netip.ParseAddr(pool.Gateway); err != nil {
						return fmt.Errorf("network %s: gateway %q: %w", key, pool.Gateway, err)
					}
				}
				if pool.IPRange != "" {
					if c.IPRange, err = netip.ParsePrefix(pool.IPRange); err != nil {
						return fmt.Errorf("network %s: ip_range %q: %w", key, pool.IPRange, err)
					}
				}
				ipam.Config = append(ipam.Config, c)
			}
			opts.IPAM = ipam
		}
		if _, err := e.api.NetworkCreate(ctx, n.Name, opts); err != nil {
			e.progress.Event(id, "Error", err.Error())
			return fmt.Errorf("failed to create network %s: %w", n.Name, err)
		}
		e.progress.Event(id, "Created", "")
	}
	return nil
}

// ensureVolumes creates the project's named volumes that do not exist yet
// (external ones must exist).
func (e *Engine) ensureVolumes(ctx context.Context, p *types.Project) error {
	for _, key := range sortedKeys(p.Volumes) {
		v := p.Volumes[key]
		if _, err := e.api.VolumeInspect(ctx, v.Name, client.VolumeInspectOptions{}); err == nil {
			continue
		} else if !errdefs.IsNotFound(err) {
			return err
		}
		if v.External {
			return fmt.Errorf("external volume %q not found", v.Name)
		}
		id := volumeID(v.Name)
		e.progress.Event(id, "Creating", "")
		labels := projectLabels(p)
		labels[VolumeLabel] = key
		for k, val := range v.Labels {
			labels[k] = val
		}
		if _, err := e.api.VolumeCreate(ctx, client.VolumeCreateOptions{Name: v.Name, Driver: v.Driver, DriverOpts: v.DriverOpts, Labels: labels}); err != nil {
			e.progress.Event(id, "Error", err.Error())
			return err
		}
		e.progress.Event(id, "Created", "")
	}
	return nil
}

// removeNetworks removes the networks of the project (by label), or those
// it declares when it is known.
func (e *Engine) removeNetworks(ctx context.Context, project string, p *types.Project) error {
	res, err := e.api.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", ProjectLabel+"="+project)})
	if err != nil {
		return err
	}
	for _, n := range res.Items {
		if p != nil {
			key := n.Labels[NetworkLabel]
			if nc, ok := p.Networks[key]; ok && bool(nc.External) {
				continue
			}
		}
		id := networkID(n.Name)
		e.progress.Event(id, "Removing", "")
		if _, err := e.api.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
			e.progress.Event(id, "Error", err.Error())
			return err
		}
		e.progress.Event(id, "Removed", "")
	}
	return nil
}

// removeVolumes removes the project's named volumes (by label).
func (e *Engine) removeVolumes(ctx context.Context, project string) error {
	res, err := e.api.VolumeList(ctx, client.VolumeListOptions{Filters: make(client.Filters).Add("label", ProjectLabel+"="+project)})
	if err != nil {
		return err
	}
	for _, v := range res.Items {
		id := volumeID(v.Name)
		e.progress.Event(id, "Removing", "")
		if _, err := e.api.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
			e.progress.Event(id, "Error", err.Error())
			return err
		}
		e.progress.Event(id, "Removed", "")
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
