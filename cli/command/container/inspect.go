package container

import (
	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// InspectFunc returns a format.InspectFunc for containers.
func InspectFunc(cmd *cobra.Command, api *client.Client, size bool) format.InspectFunc {
	return func(ref string) (any, []byte, error) {
		res, err := api.ContainerInspect(cmd.Context(), ref, client.ContainerInspectOptions{Size: size})
		if err != nil {
			return nil, nil, err
		}
		return res.Container, res.Raw, nil
	}
}

func newInspectCommand(c *cli.Cli) *cobra.Command {
	var tmpl string
	var size bool
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Display detailed information on one or more containers",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			return cli.InspectStatus(format.Inspect(c.Out(), args, tmpl, InspectFunc(cmd, api, size)))
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", cli.InspectFormatHelp)
	cmd.Flags().BoolVarP(&size, "size", "s", false, "Display total file sizes")
	return cmd
}
