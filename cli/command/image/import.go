package image

import (
	"io"
	"os"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
)

// importSource picks the request body: stdin for "-", a URL passed through
// to the daemon, or a local file streamed as the body.
func importSource(c *cli.Cli, src string) (client.ImageImportSource, io.Closer, error) {
	switch {
	case src == "-":
		c.NegotiateVersion()
		return client.ImageImportSource{Source: c.In(), SourceName: "-"}, nil, nil
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		return client.ImageImportSource{SourceName: src}, nil, nil
	}
	f, err := os.Open(src)
	if err != nil {
		return client.ImageImportSource{}, nil, err
	}
	return client.ImageImportSource{Source: f, SourceName: "-"}, f, nil
}

func newImportCommand(c *cli.Cli) *cobra.Command {
	var changes []string
	var message, platform string
	cmd := &cobra.Command{
		Use:         "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
		Short:       "Import the contents from a tarball to create a filesystem image",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("image import", "import"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 2 {
				return cli.RequiresRangeArgs(1, 2)(cmd, args)
			}
			ref := ""
			if len(args) > 1 {
				ref = args[1]
			}
			src, closer, err := importSource(c, args[0])
			if err != nil {
				return err
			}
			if closer != nil {
				defer closer.Close()
			}
			opts := client.ImageImportOptions{Message: message, Changes: changes}
			if platform != "" {
				parts := strings.SplitN(platform, "/", 3)
				opts.Platform = ocispec.Platform{OS: parts[0]}
				if len(parts) > 1 {
					opts.Platform.Architecture = parts[1]
				}
				if len(parts) > 2 {
					opts.Platform.Variant = parts[2]
				}
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			rc, err := api.ImageImport(cmd.Context(), src, ref, opts)
			if err != nil {
				return err
			}
			defer rc.Close()
			fd, isTerm := c.OutFd()
			return jsonmessage.DisplayJSONMessagesStream(rc, c.Out(), fd, isTerm, nil)
		},
	}
	fl := cmd.Flags()
	fl.VarP((*listValue)(&changes), "change", "c", "Apply Dockerfile instruction to the created image")
	fl.StringVarP(&message, "message", "m", "", "Set commit message for imported image")
	fl.StringVar(&platform, "platform", "", "Set platform if server is multi-platform capable")
	return cmd
}

// listValue is a repeatable flag that keeps commas, unlike StringSlice.
type listValue []string

func (l *listValue) String() string {
	if len(*l) == 0 {
		return ""
	}
	return "[" + strings.Join(*l, " ") + "]"
}
func (l *listValue) Set(v string) error { *l = append(*l, v); return nil }
func (l *listValue) Type() string       { return "list" }
