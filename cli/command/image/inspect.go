package image

import (
	"bytes"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// InspectFunc returns a format.InspectFunc for images.
func InspectFunc(cmd *cobra.Command, api *client.Client) format.InspectFunc {
	return func(ref string) (any, []byte, error) {
		buf := &bytes.Buffer{}
		res, err := api.ImageInspect(cmd.Context(), ref, client.ImageInspectWithRawResponse(buf))
		if err != nil {
			return nil, nil, err
		}
		return res.InspectResponse, buf.Bytes(), nil
	}
}

func newInspectCommand(c *cli.Cli) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] IMAGE [IMAGE...]",
		Short: "Display detailed information on one or more images",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			err = format.Inspect(c.Out(), args, tmpl, InspectFunc(cmd, api))
			return cli.InspectStatus(err)
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", cli.InspectFormatHelp)
	return cmd
}
