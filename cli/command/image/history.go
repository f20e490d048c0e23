package image

import (
	"time"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/spf13/cobra"
)

func newHistoryCommand(c *cli.Cli) *cobra.Command {
	var human, quiet, noTrunc bool
	var tmpl string
	cmd := &cobra.Command{
		Use:         "history [OPTIONS] IMAGE",
		Short:       "Show the history of an image",
		Args:        cli.ExactArgs(1),
		Annotations: cli.Aliases("image history", "history"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ImageHistory(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			now := time.Now()
			rows := make([]format.Row, 0, len(res.Items))
			for _, h := range res.Items {
				rows = append(rows, format.History{H: h, Trunc: !noTrunc, Human: human, Now: now})
			}
			f := tmpl
			if quiet {
				f = format.QuietHistory
			}
			w := format.Writer{Out: c.Out(), Format: format.Format(f), DefaultTable: format.DefaultHistoryTable, Header: format.HistoryHeader}
			return w.Write(rows)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tmpl, "format", "", cli.FormatHelp)
	fl.BoolVarP(&human, "human", "H", true, "Print sizes and dates in human readable format")
	fl.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
	return cmd
}
