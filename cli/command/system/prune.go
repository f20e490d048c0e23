package system

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// newPruneCommand is docker system prune: stopped containers, unused
// networks, dangling (with -a: unused) images, unused build cache, and
// with --volumes anonymous volumes no container uses, in docker's order and
// words.
func newPruneCommand(c *cli.Cli) *cobra.Command {
	var all, volumes, force bool
	filter := cli.NewFilterOpt()
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !force && !cli.Confirm(c.In(), c.Out(), pruneWarning(all, volumes, filter.Value())) {
				return nil
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			return systemPrune(cmd.Context(), c, api, all, volumes, filter.Value())
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Remove all unused images not just dangling ones")
	fl.BoolVar(&volumes, "volumes", false, "Prune anonymous volumes")
	fl.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	fl.Var(filter, "filter", `Provide filter values (e.g. "label=<key>=<value>")`)
	return cmd
}

// pruneWarning is docker's list of what a system prune removes.
func pruneWarning(all, volumes bool, filters client.Filters) string {
	w := []string{"all stopped containers", "all networks not used by at least one container"}
	if volumes {
		w = append(w, "all anonymous volumes not used by at least one container")
	}
	if all {
		w = append(w, "all images without at least one container associated to them")
	} else {
		w = append(w, "all dangling images")
	}
	w = append(w, "unused build cache")
	var b strings.Builder
	b.WriteString("WARNING! This will remove:\n")
	for _, s := range w {
		b.WriteString("  - " + s + "\n")
	}
	if len(filters) > 0 {
		b.WriteString("\n  Items to be pruned will be filtered with:\n")
		for k, vs := range filters {
			for v := range vs {
				b.WriteString("  - " + k + "=" + v + "\n")
			}
		}
	}
	return b.String()
}

func systemPrune(ctx context.Context, c *cli.Cli, api client.APIClient, all, volumes bool, filters client.Filters) error {
	out := c.Out()
	var reclaimed uint64
	section := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintln(out, title)
		for _, it := range items {
			fmt.Fprintln(out, it)
		}
		fmt.Fprintln(out)
	}
	cr, err := api.ContainerPrune(ctx, client.ContainerPruneOptions{Filters: filters})
	if err != nil {
		return err
	}
	section("Deleted Containers:", cr.Report.ContainersDeleted)
	reclaimed += cr.Report.SpaceReclaimed
	nr, err := api.NetworkPrune(ctx, client.NetworkPruneOptions{Filters: filters})
	if err != nil {
		return err
	}
	section("Deleted Networks:", nr.Report.NetworksDeleted)
	if volumes {
		vr, err := api.VolumePrune(ctx, client.VolumePruneOptions{Filters: filters})
		if err != nil {
			return err
		}
		section("Deleted Volumes:", vr.Report.VolumesDeleted)
		reclaimed += vr.Report.SpaceReclaimed
	}
	imgFilters := filters.Clone()
	imgFilters["dangling"] = map[string]bool{fmt.Sprint(!all): true}
	ir, err := api.ImagePrune(ctx, client.ImagePruneOptions{Filters: imgFilters})
	if err != nil {
		return err
	}
	var imgs []string
	for _, d := range ir.Report.ImagesDeleted {
		if d.Untagged != "" {
			imgs = append(imgs, "untagged: "+d.Untagged)
		} else {
			imgs = append(imgs, "deleted: "+d.Deleted)
		}
	}
	section("Deleted Images:", imgs)
	reclaimed += ir.Report.SpaceReclaimed
	br, err := api.BuildCachePrune(ctx, client.BuildCachePruneOptions{All: all})
	if err != nil {
		return err
	}
	var caches []string
	for _, id := range br.Report.CachesDeleted {
		caches = append(caches, strings.TrimPrefix(id, "sha256:"))
	}
	section("Deleted build cache objects:", caches)
	reclaimed += br.Report.SpaceReclaimed
	fmt.Fprintf(out, "Total reclaimed space: %s\n", format.HumanSize(int64(reclaimed)))
	return nil
}
