package image

import (
	"fmt"
	"io"

	"github.com/berth-project/berth/cli"
	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	"github.com/spf13/cobra"
)

func newPushCommand(c *cli.Cli) *cobra.Command {
	var all, quiet bool
	var platform string
	cmd := &cobra.Command{
		Use:         "push [OPTIONS] NAME[:TAG]",
		Short:       "Upload an image to a registry",
		Args:        cli.ExactArgs(1),
		Annotations: cli.Aliases("image push", "push"),
		RunE: func(cmd *cobra.Command, args []string) error {
			named, err := defaultTag(c, args[0], all, quiet)
			if err != nil {
				return err
			}
			opts := client.ImagePushOptions{All: all, RegistryAuth: c.RegistryAuth(named.String())}
			if platform != "" {
				p, err := parsePlatform(platform)
				if err != nil {
					return err
				}
				opts.Platform = &p
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			resp, err := api.ImagePush(cmd.Context(), reference.FamiliarString(named), opts)
			if err != nil {
				return err
			}
			defer resp.Close()
			var out io.Writer = c.Out()
			if quiet {
				out = io.Discard
			}
			fd, isTerm := c.OutFd()
			if err := jsonmessage.DisplayJSONMessagesStream(resp, out, fd, isTerm && !quiet, nil); err != nil {
				return err
			}
			if quiet {
				fmt.Fprintln(c.Out(), reference.FamiliarString(named))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all-tags", "a", false, "Push all tags of an image to the repository")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	fl.StringVar(&platform, "platform", "", "Push a platform-specific manifest as a single-platform image to the registry")
	return cmd
}
