package network

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// NewNetworkCommand returns the "network" management command.
func NewNetworkCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{Use: "network COMMAND", Short: "Manage networks", Args: cli.NoArgs}
	cmd.AddCommand(newCreateCommand(c), newListCommand(c), newInspectCommand(c), newRemoveCommand(c), newPruneCommand(c),
		newConnectCommand(c), newDisconnectCommand(c))
	return cmd
}

func newCreateCommand(c *cli.Cli) *cobra.Command {
	var driver, subnet, gateway, ipRange string
	var internal, attachable bool
	labels, opts := cli.MapOpt{}, cli.MapOpt{}
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := client.NetworkCreateOptions{Driver: driver, Internal: internal, Attachable: attachable, Labels: labels, Options: opts}
			if subnet != "" || gateway != "" || ipRange != "" {
				var cfg network.IPAMConfig
				var err error
				if subnet != "" {
					if cfg.Subnet, err = netip.ParsePrefix(subnet); err != nil {
						return fmt.Errorf("invalid subnet %s: %w", subnet, err)
					}
				}
				if ipRange != "" {
					if cfg.IPRange, err = netip.ParsePrefix(ipRange); err != nil {
						return fmt.Errorf("invalid ip-range %s: %w", ipRange, err)
					}
				}
				if gateway != "" {
					if cfg.Gateway, err = netip.ParseAddr(gateway); err != nil {
						return fmt.Errorf("invalid gateway %s: %w", gateway, err)
					}
				}
				o.IPAM = &network.IPAM{Driver: "default", Config: []network.IPAMConfig{cfg}}
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.NetworkCreate(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.Out(), res.ID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&driver, "driver", "d", "bridge", "Driver to manage the Network")
	fl.StringVar(&subnet, "subnet", "", "Subnet in CIDR format that represents a network segment")
	fl.StringVar(&gateway, "gateway", "", "IPv4 Gateway for the master subnet")
	fl.StringVar(&ipRange, "ip-range", "", "Allocate container ip from a sub-range")
	fl.BoolVar(&internal, "internal", false, "Restrict external access to the network")
	fl.BoolVar(&attachable, "attachable", false, "Enable manual container attachment")
	fl.Var(labels, "label", "Set metadata on a network")
	fl.VarP(opts, "opt", "o", "Set driver specific options")
	return cmd
}

type row struct {
	n     network.Summary
	trunc bool
}

func (r row) ID() string {
	if r.trunc && len(r.n.ID) > 12 {
		return r.n.ID[:12]
	}
	return r.n.ID
}
func (r row) Name() string     { return r.n.Name }
func (r row) Driver() string   { return r.n.Driver }
func (r row) Scope() string    { return r.n.Scope }
func (r row) IPv4() string     { return fmt.Sprint(r.n.EnableIPv4) }
func (r row) IPv6() string     { return fmt.Sprint(r.n.EnableIPv6) }
func (r row) Internal() string { return fmt.Sprint(r.n.Internal) }
func (r row) CreatedAt() string {
	return r.n.Created.Format("2006-01-02 15:04:05.999999999 -0700 MST")
}
func (r row) Labels() string {
	var kv []string
	for k, v := range r.n.Labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}
func (r row) Label(name string) string { return r.n.Labels[name] }
func (r row) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"CreatedAt":%q,"Driver":%q,"ID":%q,"IPv4":%q,"IPv6":%q,"Internal":%q,"Labels":%q,"Name":%q,"Scope":%q}`,
		r.CreatedAt(), r.Driver(), r.ID(), r.IPv4(), r.IPv6(), r.Internal(), r.Labels(), r.Name(), r.Scope())), nil
}

var header = map[string]string{"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv4": "IPV4", "IPv6": "IPV6",
	"Internal": "INTERNAL", "CreatedAt": "CREATED", "Labels": "LABELS"}

func newListCommand(c *cli.Cli) *cobra.Command {
	var quiet, noTrunc bool
	var tmpl string
	filter := cli.NewFilterOpt()
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.NetworkList(cmd.Context(), client.NetworkListOptions{Filters: filter.Value()})
			if err != nil {
				return err
			}
			sort.Slice(res.Items, func(i, j int) bool { return res.Items[i].Name < res.Items[j].Name })
			rows := make([]format.Row, len(res.Items))
			for i, n := range res.Items {
				rows[i] = row{n, !noTrunc}
			}
			f := tmpl
			if quiet && f == "" {
				f = "{{.ID}}"
			}
			w := format.Writer{Out: c.Out(), Format: format.Format(f), DefaultTable: "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", Header: header}
			return w.Write(rows)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only display network IDs")
	fl.BoolVar(&noTrunc, "no-trunc", false, "Do not truncate the output")
	fl.StringVar(&tmpl, "format", "", cli.FormatHelp)
	fl.VarP(filter, "filter", "f", `Provide filter values (e.g. "driver=bridge")`)
	return cmd
}

func newInspectCommand(c *cli.Cli) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NETWORK [NETWORK...]",
		Short: "Display detailed information on one or more networks",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			err = format.Inspect(c.Out(), args, tmpl, func(name string) (any, []byte, error) {
				res, err := api.NetworkInspect(cmd.Context(), name, client.NetworkInspectOptions{})
				if err != nil {
					return nil, nil, err
				}
				return res.Network, bytes.Clone(res.Raw), nil
			})
			return cli.InspectStatus(err)
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", cli.InspectFormatHelp)
	return cmd
}

func newRemoveCommand(c *cli.Cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more networks",
		Args:    cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			var errs []string
			for _, n := range args {
				if _, err := api.NetworkRemove(cmd.Context(), n, client.NetworkRemoveOptions{}); err != nil {
					if force && strings.Contains(err.Error(), "not found") {
						continue
					}
					errs = append(errs, err.Error())
					continue
				}
				fmt.Fprintln(c.Out(), n)
			}
			if len(errs) > 0 {
				return cli.StatusError{Status: strings.Join(errs, "\n"), StatusCode: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not error if the network does not exist")
	return cmd
}

func newPruneCommand(c *cli.Cli) *cobra.Command {
	var force bool
	filter := cli.NewFilterOpt()
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all unused networks",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force && !cli.Confirm(c.In(), c.Out(), "WARNING! This will remove all custom networks not used by at least one container.") {
				return nil
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.NetworkPrune(cmd.Context(), client.NetworkPruneOptions{Filters: filter.Value()})
			if err != nil {
				return err
			}
			if len(res.Report.NetworksDeleted) > 0 {
				fmt.Fprintln(c.Out(), "Deleted Networks:")
				for _, n := range res.Report.NetworksDeleted {
					fmt.Fprintln(c.Out(), n)
				}
			}
			return nil
		},
	}
	cmd.Flags().Var(filter, "filter", `Provide filter values (e.g. "label=<label>")`)
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}

func newConnectCommand(c *cli.Cli) *cobra.Command {
	var ip, mac string
	var aliases cli.ListOpt
	cmd := &cobra.Command{
		Use:   "connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a container to a network",
		Args:  cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			es := &network.EndpointSettings{Aliases: aliases.Values}
			if ip != "" {
				a, err := netip.ParseAddr(ip)
				if err != nil {
					return fmt.Errorf("invalid IPv4 address: %s", ip)
				}
				es.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: a}
			}
			if mac != "" {
				m, err := net.ParseMAC(mac)
				if err != nil {
					return fmt.Errorf("%s is not a valid mac address", mac)
				}
				es.MacAddress = network.HardwareAddr(m)
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			_, err = api.NetworkConnect(cmd.Context(), args[0], client.NetworkConnectOptions{Container: args[1], EndpointConfig: es})
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&ip, "ip", "", "IPv4 address (e.g., 172.30.100.104)")
	fl.Var(&aliases, "alias", "Add network-scoped alias for the container")
	fl.StringVar(&mac, "mac-address", "", "Container MAC address")
	return cmd
}

func newDisconnectCommand(c *cli.Cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			_, err = api.NetworkDisconnect(cmd.Context(), args[0], client.NetworkDisconnectOptions{Container: args[1], Force: force})
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the container to disconnect from a network")
	return cmd
}
