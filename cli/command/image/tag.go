package image

import (
	"github.com/berth-project/berth/cli"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newTagCommand(c *cli.Cli) *cobra.Command {
	return &cobra.Command{
		Use:         "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short:       "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:        cli.ExactArgs(2),
		Annotations: cli.Aliases("image tag", "tag"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			_, err = api.ImageTag(cmd.Context(), client.ImageTagOptions{Source: args[0], Target: args[1]})
			return err
		},
	}
}
