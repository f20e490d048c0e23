package volume

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// NewVolumeCommand returns the "volume" management command.
func NewVolumeCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{Use: "volume COMMAND", Short: "Manage volumes", Args: cli.NoArgs}
	cmd.AddCommand(newCreateCommand(c), newListCommand(c), newInspectCommand(c), newRemoveCommand(c), newPruneCommand(c))
	return cmd
}

func newCreateCommand(c *cli.Cli) *cobra.Command {
	var driver, name string
	labels, opts := cli.MapOpt{}, cli.MapOpt{}
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume",
		Args:  cli.RequiresMaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if name != "" {
					return cli.StatusError{Status: "conflicting options: cannot specify a volume-name through both --name and as a positional arg", StatusCode: 1}
				}
				name = args[0]
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.VolumeCreate(cmd.Context(), client.VolumeCreateOptions{Name: name, Driver: driver, DriverOpts: opts, Labels: labels})
			if err != nil {
				return err
			}
			fmt.Fprintln(c.Out(), res.Volume.Name)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&driver, "driver", "d", "local", "Specify volume driver name")
	fl.Var(labels, "label", "Set metadata for a volume")
	fl.VarP(opts, "opt", "o", "Set driver specific options")
	fl.StringVar(&name, "name", "", "Specify volume name")
	_ = fl.MarkHidden("name")
	return cmd
}

// row is what --format templates see for a volume, as docker's volume context.
type row struct{ v volume.Volume }

func (r row) Name() string       { return r.v.Name }
func (r row) Driver() string     { return r.v.Driver }
func (r row) Scope() string      { return r.v.Scope }
func (r row) Mountpoint() string { return r.v.Mountpoint }
func (r row) Labels() string {
	var kv []string
	for k, v := range r.v.Labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}
func (r row) Label(name string) string { return r.v.Labels[name] }
func (r row) Size() string             { return "N/A" }
func (r row) Links() string            { return "N/A" }
func (r row) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"Availability":"N/A","Driver":%q,"Group":"N/A","Labels":%q,"Links":"N/A","Mountpoint":%q,"Name":%q,"Scope":%q,"Size":"N/A","Status":"N/A"}`,
		r.Driver(), r.Labels(), r.Mountpoint(), r.Name(), r.Scope())), nil
}

var header = map[string]string{"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Size": "SIZE", "Links": "LINKS"}

func newListCommand(c *cli.Cli) *cobra.Command {
	var quiet bool
	var tmpl string
	filter := cli.NewFilterOpt()
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.VolumeList(cmd.Context(), client.VolumeListOptions{Filters: filter.Value()})
			if err != nil {
				return err
			}
			sort.Slice(res.Items, func(i, j int) bool { return res.Items[i].Name < res.Items[j].Name })
			rows := make([]format.Row, len(res.Items))
			for i, v := range res.Items {
				rows[i] = row{v}
			}
			f := tmpl
			if quiet && f == "" {
				f = "{{.Name}}"
			}
			w := format.Writer{Out: c.Out(), Format: format.Format(f), DefaultTable: "table {{.Driver}}\t{{.Name}}", Header: header}
			return w.Write(rows)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only display volume names")
	fl.StringVar(&tmpl, "format", "", cli.FormatHelp)
	fl.VarP(filter, "filter", "f", `Provide filter values (e.g. "dangling=true")`)
	return cmd
}

func newInspectCommand(c *cli.Cli) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			err = format.Inspect(c.Out(), args, tmpl, func(name string) (any, []byte, error) {
				res, err := api.VolumeInspect(cmd.Context(), name, client.VolumeInspectOptions{})
				if err != nil {
					return nil, nil, err
				}
				return res.Volume, bytes.Clone(res.Raw), nil
			})
			return cli.InspectStatus(err)
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", cli.InspectFormatHelp)
	return cmd
}

func newRemoveCommand(c *cli.Cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes",
		Args:    cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			var errs []string
			for _, name := range args {
				if _, err := api.VolumeRemove(cmd.Context(), name, client.VolumeRemoveOptions{Force: force}); err != nil {
					errs = append(errs, err.Error())
					continue
				}
				fmt.Fprintln(c.Out(), name)
			}
			if len(errs) > 0 {
				return cli.StatusError{Status: strings.Join(errs, "\n"), StatusCode: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of one or more volumes")
	return cmd
}

func newPruneCommand(c *cli.Cli) *cobra.Command {
	var all, force bool
	filter := cli.NewFilterOpt()
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused local volumes",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			warning := "WARNING! This will remove anonymous local volumes not used by at least one container."
			if all {
				warning = "WARNING! This will remove all local volumes not used by at least one container."
			}
			if !force {
				if !cli.Confirm(c.In(), c.Out(), warning) {
					return nil
				}
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.VolumePrune(cmd.Context(), client.VolumePruneOptions{All: all, Filters: filter.Value()})
			if err != nil {
				return err
			}
			if len(res.Report.VolumesDeleted) > 0 {
				fmt.Fprintln(c.Out(), "Deleted Volumes:")
				for _, n := range res.Report.VolumesDeleted {
					fmt.Fprintln(c.Out(), n)
				}
				fmt.Fprintln(c.Out())
			}
			fmt.Fprintf(c.Out(), "Total reclaimed space: %s\n", format.HumanSize(int64(res.Report.SpaceReclaimed)))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused volumes, not just anonymous ones")
	cmd.Flags().Var(filter, "filter", `Provide filter values (e.g. "label=<label>")`)
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}
