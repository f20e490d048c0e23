package compose

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/compose"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newLsCommand(c *cli.Cli, _ *projectOptions) *cobra.Command {
	var all, quiet bool
	var tmpl string
	cmd := &cobra.Command{
		Use:   "ls [OPTIONS]",
		Short: "List running compose projects",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ContainerList(cmd.Context(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", compose.ProjectLabel)})
			if err != nil {
				return err
			}
			type project struct {
				Name        string
				Status      string
				ConfigFiles string
				states      map[string]int
			}
			byName := map[string]*project{}
			for _, ct := range res.Items {
				n := ct.Labels[compose.ProjectLabel]
				p := byName[n]
				if p == nil {
					p = &project{Name: n, ConfigFiles: ct.Labels[compose.ConfigFilesLabel], states: map[string]int{}}
					byName[n] = p
				}
				p.states[string(ct.State)]++
			}
			var list []*project
			for _, p := range byName {
				var parts []string
				for s, k := range p.states {
					parts = append(parts, fmt.Sprintf("%s(%d)", s, k))
				}
				sort.Strings(parts)
				p.Status = strings.Join(parts, ", ")
				if all || p.states["running"] > 0 {
					list = append(list, p)
				}
			}
			sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
			if quiet {
				for _, p := range list {
					fmt.Fprintln(c.Out(), p.Name)
				}
				return nil
			}
			if tmpl == "json" {
				out := []*project{}
				out = append(out, list...)
				b, err := json.Marshal(out)
				if err != nil {
					return err
				}
				fmt.Fprintln(c.Out(), string(b))
				return nil
			}
			tw := tabwriter.NewWriter(c.Out(), 10, 1, 3, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATUS\tCONFIG FILES")
			for _, p := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, p.Status, p.ConfigFiles)
			}
			return tw.Flush()
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Show all stopped Compose projects")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only display project names.")
	fl.StringVar(&tmpl, "format", "table", "Format the output. Values: [table | json]")
	return cmd
}

func newVersionCommand(c *cli.Cli) *cobra.Command {
	var short bool
	var tmpl string
	cmd := &cobra.Command{
		Use:   "version [OPTIONS]",
		Short: "Show the Docker Compose version information",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case short:
				fmt.Fprintln(c.Out(), compose.Version)
			case tmpl == "json":
				fmt.Fprintf(c.Out(), "{\"version\":\"v%s\"}\n", compose.Version)
			default:
				fmt.Fprintf(c.Out(), "Docker Compose version v%s (berth compose)\n", compose.Version)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&short, "short", false, "Shows only Compose's version number")
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "Format the output. Values: [pretty | json]")
	return cmd
}
