package container

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/berth-project/berth/cli"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newTopCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:         "top CONTAINER [ps OPTIONS]",
		Short:       "Display the running processes of a container",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("container top", "top"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ContainerTop(cmd.Context(), args[0], client.ContainerTopOptions{Arguments: args[1:]})
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(c.Out(), 20, 1, 3, ' ', 0)
			fmt.Fprintln(w, strings.Join(res.Titles, "\t"))
			for _, p := range res.Processes {
				fmt.Fprintln(w, strings.Join(p, "\t"))
			}
			return w.Flush()
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}
