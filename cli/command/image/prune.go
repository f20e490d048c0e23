package image

import (
	"fmt"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newPruneCommand(c *cli.Cli) *cobra.Command {
	var all, force bool
	filter := cli.NewFilterOpt()
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			warning := "WARNING! This will remove all dangling images."
			if all {
				warning = "WARNING! This will remove all images without at least one container associated to them."
			}
			if !force {
				if !cli.Confirm(c.In(), c.Out(), warning) {
					return nil
				}
			}
			filters := filter.Value().Clone()
			filters["dangling"] = map[string]bool{fmt.Sprint(!all): true}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ImagePrune(cmd.Context(), client.ImagePruneOptions{Filters: filters})
			if err != nil {
				return err
			}
			if len(res.Report.ImagesDeleted) > 0 {
				fmt.Fprintln(c.Out(), "Deleted Images:")
				for _, d := range res.Report.ImagesDeleted {
					if d.Untagged != "" {
						fmt.Fprintf(c.Out(), "untagged: %s\n", d.Untagged)
					} else {
						fmt.Fprintf(c.Out(), "deleted: %s\n", d.Deleted)
					}
				}
				fmt.Fprintln(c.Out())
			}
			fmt.Fprintf(c.Out(), "Total reclaimed space: %s\n", format.HumanSize(int64(res.Report.SpaceReclaimed)))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused images, not just dangling ones")
	cmd.Flags().Var(filter, "filter", `Provide filter values (e.g. "until=<timestamp>")`)
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}
