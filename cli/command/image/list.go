package image

import (
	"time"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

type listOptions struct {
	all, quiet, digests, noTrunc, tree bool
	format                             string
	filter                             *cli.FilterOpt
}

func newListCommand(c *cli.Cli) *cobra.Command {
	o := &listOptions{filter: cli.NewFilterOpt()}
	cmd := &cobra.Command{
		Use:         "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short:       "List images",
		Args:        cli.RequiresMaxArgs(1),
		Annotations: cli.Aliases("image ls", "image list", "images"),
		RunE: func(cmd *cobra.Command, args []string) error {
			filters := o.filter.Value().Clone()
			if len(args) == 1 {
				filters.Add("reference", args[0])
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ImageList(cmd.Context(), client.ImageListOptions{All: o.all, Filters: filters})
			if err != nil {
				return err
			}
			return writeImages(c, res.Items, o, time.Now())
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.all, "all", "a", false, "Show all images (default hides intermediate images)")
	fl.BoolVar(&o.digests, "digests", false, "Show digests")
	fl.VarP(o.filter, "filter", "f", "Filter output based on conditions provided")
	fl.StringVar(&o.format, "format", "", cli.FormatHelp)
	fl.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "Only show image IDs")
	fl.BoolVar(&o.tree, "tree", false, "List multi-platform images as a tree (EXPERIMENTAL)")
	return cmd
}

func writeImages(c *cli.Cli, items []image.Summary, o *listOptions, now time.Time) error {
	w := format.Writer{
		Out:          c.Out(),
		Format:       format.Format(format.ImageFormat(o.format, o.quiet, o.digests)),
		DefaultTable: format.DefaultImageTable,
		Header:       format.ImageHeader,
	}
	if o.digests {
		w.DefaultTable = format.DefaultImageTableDigest
	}
	return w.Write(format.ImageRows(items, o.digests, !o.noTrunc, now))
}
