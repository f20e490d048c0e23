package image

import (
	"fmt"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// NewBuilderCommand returns the "builder" management command (build, prune).
func NewBuilderCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{Use: "builder COMMAND", Short: "Manage builds", Args: cli.NoArgs}
	b := newBuildCommand(c)
	b.Annotations = nil
	cmd.AddCommand(b, newBuilderPruneCommand(c))
	return cmd
}

func newBuilderPruneCommand(c *cli.Cli) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove build cache",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				warning := "WARNING! This will remove all dangling build cache."
				if all {
					warning = "WARNING! This will remove all build cache."
				}
				if !cli.Confirm(c.In(), c.Out(), warning) {
					return nil
				}
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.BuildCachePrune(cmd.Context(), client.BuildCachePruneOptions{All: all})
			if err != nil {
				return err
			}
			if len(res.Report.CachesDeleted) > 0 {
				fmt.Fprintln(c.Out(), "Deleted build cache objects:")
				for _, id := range res.Report.CachesDeleted {
					fmt.Fprintln(c.Out(), strings.TrimPrefix(id, "sha256:"))
				}
				fmt.Fprintln(c.Out())
			}
			fmt.Fprintf(c.Out(), "Total reclaimed space: %s\n", format.HumanSize(int64(res.Report.SpaceReclaimed)))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused build cache, not just dangling ones")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}
