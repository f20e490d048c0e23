package container

import (
	"strings"
	"time"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

type listOptions struct {
	all, quiet, size, latest, noTrunc bool
	last                              int
	format                            string
	filter                            *cli.FilterOpt
}

func newListCommand(c *cli.Cli) *cobra.Command {
	o := &listOptions{filter: cli.NewFilterOpt()}
	cmd := &cobra.Command{
		Use:         "ls [OPTIONS]",
		Aliases:     []string{"ps", "list"},
		Short:       "List containers",
		Args:        cli.NoArgs,
		Annotations: cli.Aliases("container ls", "container list", "container ps", "ps"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ContainerList(cmd.Context(), o.apiOptions())
			if err != nil {
				return err
			}
			return writeContainers(c, res.Items, o, time.Now())
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.all, "all", "a", false, "Show all containers (default shows just running)")
	fl.VarP(o.filter, "filter", "f", "Filter output based on conditions provided")
	fl.StringVar(&o.format, "format", "", cli.FormatHelp)
	fl.IntVarP(&o.last, "last", "n", -1, "Show n last created containers (includes all states)")
	fl.BoolVarP(&o.latest, "latest", "l", false, "Show the latest created container (includes all states)")
	fl.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "Only display container IDs")
	fl.BoolVarP(&o.size, "size", "s", false, "Display total file sizes")
	return cmd
}

func (o *listOptions) apiOptions() client.ContainerListOptions {
	opts := client.ContainerListOptions{All: o.all, Limit: o.last, Size: o.size, Filters: o.filter.Value()}
	if o.latest && o.last == -1 {
		opts.Limit = 1
	}
	if !o.quiet && strings.Contains(o.format, ".Size") {
		opts.Size = true
	}
	return opts
}

func writeContainers(c *cli.Cli, items []container.Summary, o *listOptions, now time.Time) error {
	rows := make([]format.Row, 0, len(items))
	for _, it := range items {
		rows = append(rows, format.Container{C: it, Trunc: !o.noTrunc, Now: now})
	}
	w := format.Writer{
		Out:          c.Out(),
		Format:       format.Format(format.ContainerFormat(o.format, o.quiet, o.size)),
		DefaultTable: format.DefaultContainerTable,
		Header:       format.ContainerHeader,
	}
	return w.Write(rows)
}
