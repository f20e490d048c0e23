package registry

import (
	"strconv"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// searchRow is one result as `docker search` formats it.
type searchRow struct {
	r     registry.SearchResult
	trunc bool
}

func (s searchRow) Name() string { return s.r.Name }
func (s searchRow) Description() string {
	d := strings.ReplaceAll(s.r.Description, "\n", " ")
	if r := []rune(d); s.trunc && len(r) > 45 {
		d = string(r[:44]) + "…"
	}
	return d
}
func (s searchRow) StarCount() string { return strconv.Itoa(s.r.StarCount) }
func (s searchRow) IsOfficial() string {
	if s.r.IsOfficial {
		return "[OK]"
	}
	return ""
}

func newSearchCommand(c *cli.Cli) *cobra.Command {
	var limit int
	var noTrunc bool
	filters := cli.NewFilterOpt()
	var formatFlag string
	cmd := &cobra.Command{
		Use:   "search [OPTIONS] TERM",
		Short: "Search Docker Hub for images",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ImageSearch(cmd.Context(), args[0], client.ImageSearchOptions{
				Limit: limit, Filters: filters.Value(), RegistryAuth: c.RegistryAuth(args[0]),
			})
			if err != nil {
				return err
			}
			rows := make([]format.Row, 0, len(res.Items))
			for _, r := range res.Items {
				rows = append(rows, searchRow{r, !noTrunc})
			}
			w := format.Writer{Out: c.Out(), Format: format.Format(formatFlag),
				DefaultTable: "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}",
				Header:       map[string]string{"Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS", "IsOfficial": "OFFICIAL"}}
			return w.Write(rows)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&limit, "limit", 0, "Max number of search results")
	fl.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	fl.VarP(filters, "filter", "f", "Filter output based on conditions provided")
	fl.StringVar(&formatFlag, "format", "", "Pretty-print search using a Go template")
	return cmd
}
