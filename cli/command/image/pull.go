package image

import (
	"fmt"

	"io"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
)

func newPullCommand(c *cli.Cli) *cobra.Command {
	var all, quiet bool
	var platform string
	cmd := &cobra.Command{
		Use:         "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short:       "Download an image from a registry",
		Args:        cli.ExactArgs(1),
		Annotations: cli.Aliases("image pull", "pull"),
		RunE: func(cmd *cobra.Command, args []string) error {
			named, err := defaultTag(c, args[0], all, quiet)
			if err != nil {
				return err
			}
			opts := client.ImagePullOptions{All: all, RegistryAuth: c.RegistryAuth(named.String())}
			if platform != "" {
				parts := strings.SplitN(platform, "/", 3)
				p := ocispec.Platform{OS: parts[0]}
				if len(parts) > 1 {
					p.Architecture = parts[1]
				}
				if len(parts) > 2 {
					p.Variant = parts[2]
				}
				opts.Platforms = []ocispec.Platform{p}
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			resp, err := api.ImagePull(cmd.Context(), reference.FamiliarString(named), opts)
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
			fmt.Fprintln(c.Out(), named.String())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all-tags", "a", false, "Download all tagged images in the repository")
	fl.StringVar(&platform, "platform", "", "Set platform if server is multi-platform capable")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	return cmd
}

// defaultTag parses a pull or push argument as docker does: a name alone
// gets :latest (said aloud unless quiet), a tag with --all-tags is refused.
func defaultTag(c *cli.Cli, arg string, all, quiet bool) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(arg)
	if err != nil {
		return nil, err
	}
	if all && !reference.IsNameOnly(named) {
		return nil, fmt.Errorf("tag can't be used with --all-tags/-a")
	}
	if !all && reference.IsNameOnly(named) {
		named = reference.TagNameOnly(named)
		if !quiet {
			fmt.Fprintf(c.Out(), "Using default tag: %s\n", named.(reference.Tagged).Tag())
		}
	}
	return named, nil
}
