package compose

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/berth-project/berth/compose"
	"github.com/moby/moby/api/types/container"
	"github.com/spf13/cobra"
)

// psRow is what ps --format sees for a container, as Docker Compose's
// ContainerSummary (its JSON field names).
type psRow struct {
	ID           string
	Name         string
	Names        []string
	Image        string
	Command      string
	Project      string
	Service      string
	Created      int64
	CreatedAt    string
	RunningFor   string
	State        string
	Status       string
	Health       string
	ExitCode     int
	Labels       string
	Ports        string
	Publishers   []publisher
	Networks     string
	Mounts       string
	LocalVolumes string
	Size         string
	// Role is berth's: for a blue/green (start-first) service, serving,
	// previous or starting
	Role string `json:",omitempty"`
}

type publisher struct {
	URL           string
	TargetPort    uint16
	PublishedPort uint16
	Protocol      string
}

func newRow(c container.Summary, now time.Time) psRow {
	created := time.Unix(c.Created, 0)
	r := psRow{
		ID: c.ID, Name: strings.TrimPrefix(c.Names[0], "/"), Image: c.Image, Command: c.Command,
		Project: c.Labels[compose.ProjectLabel], Service: c.Labels[compose.ServiceLabel], Created: c.Created,
		CreatedAt: created.Format("2006-01-02 15:04:05 -0700 MST"), RunningFor: format.Ago(created, now),
		State: string(c.State), Status: c.Status, Ports: format.DisplayablePorts(c.Ports), Size: "0B",
	}
	for _, n := range c.Names {
		r.Names = append(r.Names, strings.TrimPrefix(n, "/"))
	}
	switch {
	case strings.Contains(c.Status, "(healthy)"):
		r.Health = "healthy"
	case strings.Contains(c.Status, "(unhealthy)"):
		r.Health = "unhealthy"
	case strings.Contains(c.Status, "(health: starting)"):
		r.Health = "starting"
	}
	if c.State == container.StateExited {
		fmt.Sscanf(c.Status, "Exited (%d)", &r.ExitCode)
	}
	var labels []string
	for k, v := range c.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	r.Labels = strings.Join(labels, ",")
	var nets []string
	if c.NetworkSettings != nil {
		for n := range c.NetworkSettings.Networks {
			nets = append(nets, n)
		}
	}
	sort.Strings(nets)
	r.Networks = strings.Join(nets, ",")
	var mounts []string
	for _, m := range c.Mounts {
		if m.Name != "" {
			mounts = append(mounts, m.Name)
		} else {
			mounts = append(mounts, m.Source)
		}
	}
	r.Mounts = strings.Join(mounts, ",")
	r.LocalVolumes = fmt.Sprint(len(mounts))
	r.Publishers = []publisher{}
	for _, p := range c.Ports {
		pub := publisher{TargetPort: p.PrivatePort, PublishedPort: p.PublicPort, Protocol: p.Type}
		if p.IP.IsValid() {
			pub.URL = p.IP.String()
		}
		r.Publishers = append(r.Publishers, pub)
	}
	return r
}

func newPsCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var all, quiet, services bool
	var tmpl string
	var status []string
	cmd := &cobra.Command{
		Use:   "ps [OPTIONS] [SERVICE...]",
		Short: "List containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name, _, err := po.projectName(ctx)
			if err != nil {
				return err
			}
			e, err := engine(c, po)
			if err != nil {
				return err
			}
			if len(status) > 0 {
				all = true
			}
			cs, err := e.Containers(ctx, name, args, all)
			if err != nil {
				return err
			}
			if len(status) > 0 {
				var keep []container.Summary
				for _, ct := range cs {
					for _, s := range status {
						if string(ct.State) == s {
							keep = append(keep, ct)
						}
					}
				}
				cs = keep
			}
			if services {
				seen := map[string]bool{}
				for _, ct := range cs {
					if s := ct.Labels[compose.ServiceLabel]; !seen[s] {
						seen[s] = true
						fmt.Fprintln(c.Out(), s)
					}
				}
				return nil
			}
			if quiet {
				for _, ct := range cs {
					fmt.Fprintln(c.Out(), ct.ID)
				}
				return nil
			}
			now := time.Now()
			roles, err := e.Roles(ctx, name)
			if err != nil {
				return err
			}
			row := func(ct container.Summary) psRow {
				r := newRow(ct, now)
				r.Role = roles[ct.ID]
				return r
			}
			switch tmpl {
			case "json":
				enc := json.NewEncoder(c.Out())
				for _, ct := range cs {
					if err := enc.Encode(row(ct)); err != nil {
						return err
					}
				}
				return nil
			case "", "table":
				tw := tabwriter.NewWriter(c.Out(), 10, 1, 3, ' ', 0)
				head := "NAME\tIMAGE\tCOMMAND\tSERVICE\tCREATED\tSTATUS\tPORTS"
				if len(roles) > 0 { // blue/green services: which version serves
					head += "\tROLE"
				}
				fmt.Fprintln(tw, head)
				for _, ct := range cs {
					r := row(ct)
					line := fmt.Sprintf("%s\t%s\t%q\t%s\t%s\t%s\t%s", r.Name, r.Image, format.Ellipsis(r.Command, 20), r.Service, r.RunningFor, r.Status, r.Ports)
					if len(roles) > 0 {
						line += "\t" + r.Role
					}
					fmt.Fprintln(tw, line)
				}
				return tw.Flush()
			}
			t, err := format.Parse(strings.TrimPrefix(tmpl, "table "))
			if err != nil {
				return err
			}
			for _, ct := range cs {
				if err := t.Execute(c.Out(), row(ct)); err != nil {
					return err
				}
				fmt.Fprintln(c.Out())
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Show all stopped containers (including those created by the run command)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only display IDs")
	fl.BoolVar(&services, "services", false, "Display services")
	fl.StringVar(&tmpl, "format", "table", "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.")
	fl.StringArrayVar(&status, "status", nil, "Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]")
	return cmd
}
