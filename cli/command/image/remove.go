package image

import (
	"errors"
	"fmt"
	"strings"

	"github.com/berth-project/berth/cli"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newRemoveCommand(c *cli.Cli) *cobra.Command {
	var force, noPrune bool
	cmd := &cobra.Command{
		Use:         "rmi [OPTIONS] IMAGE [IMAGE...]",
		Short:       "Remove one or more images",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("image rm", "image remove", "rmi"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			var errs []string
			fatal := false
			for _, img := range args {
				res, err := api.ImageRemove(cmd.Context(), img, client.ImageRemoveOptions{Force: force, PruneChildren: !noPrune})
				if err != nil {
					if !cerrdefs.IsNotFound(err) {
						fatal = true
					}
					errs = append(errs, err.Error())
					continue
				}
				for _, d := range res.Items {
					if d.Deleted != "" {
						fmt.Fprintf(c.Out(), "Deleted: %s\n", d.Deleted)
					} else {
						fmt.Fprintf(c.Out(), "Untagged: %s\n", d.Untagged)
					}
				}
			}
			if len(errs) > 0 {
				msg := strings.Join(errs, "\n")
				if !force || fatal {
					return errors.New(msg)
				}
				fmt.Fprintln(c.Err(), msg)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force removal of the image")
	cmd.Flags().BoolVar(&noPrune, "no-prune", false, "Do not delete untagged parents")
	return cmd
}
