package system

import (
	"fmt"
	"text/tabwriter"

	"github.com/berth-project/berth/cli"
	units "github.com/docker/go-units"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newDfCommand(c *cli.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "df",
		Short: "Show docker disk usage",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			du, err := api.DiskUsage(cmd.Context(), client.DiskUsageOptions{Containers: true, Images: true, Volumes: true, BuildCache: true})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.Out(), 10, 1, 3, ' ', 0)
			fmt.Fprintln(tw, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE")
			// docker's formatter: 4 significant digits, a percentage but for the build cache
			row := func(name string, total, active, size, reclaimable int64) {
				r := units.HumanSize(float64(reclaimable))
				if size > 0 && name != "Build Cache" {
					r = fmt.Sprintf("%s (%d%%)", r, reclaimable*100/size)
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", name, total, active, units.HumanSize(float64(size)), r)
			}
			// images: the client's figure leaves layers shared with images in use out
			row("Images", du.Images.TotalCount, du.Images.ActiveCount, du.Images.TotalSize, du.Images.TotalSize-imagesUsed(du))
			row("Containers", du.Containers.TotalCount, du.Containers.ActiveCount, du.Containers.TotalSize, du.Containers.Reclaimable)
			row("Local Volumes", du.Volumes.TotalCount, du.Volumes.ActiveCount, du.Volumes.TotalSize, du.Volumes.Reclaimable)
			row("Build Cache", du.BuildCache.TotalCount, du.BuildCache.ActiveCount, du.BuildCache.TotalSize, du.BuildCache.Reclaimable)
			return tw.Flush()
		},
	}
}

// imagesUsed is what images with containers hold (docker's formula).
func imagesUsed(du client.DiskUsageResult) int64 {
	var used int64
	for _, i := range du.Images.Items {
		if i.Containers > 0 {
			used += i.Size - i.SharedSize
		}
	}
	return used
}
