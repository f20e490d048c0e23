package image

import (
	"errors"
	"io"
	"os"

	"github.com/berth-project/berth/cli"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	"github.com/spf13/cobra"
)

func newLoadCommand(c *cli.Cli) *cobra.Command {
	var input, platform string
	var quiet bool
	cmd := &cobra.Command{
		Use:         "load [OPTIONS]",
		Short:       "Load an image from a tar archive or STDIN",
		Args:        cli.NoArgs,
		Annotations: cli.Aliases("image load", "load"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = c.In()
			if input == "" {
				c.NegotiateVersion()
				// a terminal cannot be the archive: say so instead of waiting
				if _, isTerm := c.InFd(); isTerm {
					return errors.New("requested load from stdin, but stdin is empty")
				}
			} else {
				f, err := os.Open(input)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			fd, isTerm := c.OutFd()
			var opts []client.ImageLoadOption
			if quiet || !isTerm {
				opts = append(opts, client.ImageLoadWithQuiet(true))
			}
			if platform != "" {
				p, err := parsePlatform(platform)
				if err != nil {
					return err
				}
				opts = append(opts, client.ImageLoadWithPlatforms(p))
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			rc, err := api.ImageLoad(cmd.Context(), in, opts...)
			if err != nil {
				return err
			}
			defer rc.Close()
			return jsonmessage.DisplayJSONMessagesStream(rc, c.Out(), fd, isTerm, nil)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&input, "input", "i", "", "Read from tar archive file, instead of STDIN")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress the load output")
	fl.StringVar(&platform, "platform", "", `Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")`)
	return cmd
}
