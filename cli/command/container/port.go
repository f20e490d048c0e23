package container

import (
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newPortCommand(c *cli.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container",
		Args:  cli.RequiresRangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			info, err := api.ContainerInspect(cmd.Context(), args[0], client.ContainerInspectOptions{})
			if err != nil {
				return err
			}
			ports := network.PortMap{}
			if ns := info.Container.NetworkSettings; ns != nil {
				ports = ns.Ports
			}
			if len(args) == 2 {
				want := args[1]
				if !strings.Contains(want, "/") {
					want += "/tcp"
				}
				p, err := network.ParsePort(want)
				if err != nil {
					return err
				}
				bs, ok := ports[p]
				if !ok || len(bs) == 0 {
					return fmt.Errorf("Error: No public port '%s' published for %s", want, args[0])
				}
				for _, b := range bs {
					fmt.Fprintln(c.Out(), net.JoinHostPort(b.HostIP.String(), b.HostPort))
				}
				return nil
			}
			var lines []string
			for p, bs := range ports {
				for _, b := range bs {
					lines = append(lines, fmt.Sprintf("%s -> %s", p, net.JoinHostPort(b.HostIP.String(), b.HostPort)))
				}
			}
			sort.Strings(lines)
			for _, l := range lines {
				fmt.Fprintln(c.Out(), l)
			}
			return nil
		},
	}
}
