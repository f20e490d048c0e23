package compose

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/container"
	"github.com/berth-project/berth/cli/command/container/runopts"
	"github.com/berth-project/berth/compose"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newRunCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var o compose.RunOptions
	var entrypoint string
	var noTTY, build, interactive bool
	var labels, publish []string
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] SERVICE [COMMAND] [ARGS...]",
		Short: "Run a one-off command on a service",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := po.load(ctx)
			if err != nil {
				return err
			}
			e, err := engine(c, po)
			if err != nil {
				return err
			}
			o.Command = args[1:]
			if cmd.Flags().Changed("entrypoint") {
				o.Entrypoint = strings.Fields(entrypoint)
				if entrypoint == "" {
					o.Entrypoint = []string{""}
				}
			}
			o.Labels = map[string]string{}
			for _, l := range labels {
				k, v, _ := strings.Cut(l, "=")
				o.Labels[k] = v
			}
			if o.Exposed, o.Published, err = runopts.ParsePublish(publish); err != nil {
				return err
			}
			_, inTerm := c.InFd()
			o.Interactive = interactive
			o.TTY = !noTTY && inTerm && !o.Detach
			o.Build = func(ctx context.Context, s types.ServiceConfig) error {
				api, _ := c.Client()
				if !build && !missingImage(ctx, api, compose.ImageName(p, s)) {
					return nil
				}
				return buildService(ctx, c, p, s, buildOptions{})
			}
			id, name, cfg, err := e.CreateOneOff(ctx, p, args[0], o)
			if err != nil {
				return err
			}
			if o.Detach {
				api, _ := c.Client()
				if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
					return err
				}
				fmt.Fprintln(c.Out(), name)
				return nil
			}
			return container.RunCreated(ctx, c, id, cfg, container.RunOptions{SigProxy: true, AutoRemove: o.AutoRemove})
		},
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	fl.BoolVarP(&o.Detach, "detach", "d", false, "Run container in background and print container ID")
	fl.StringVar(&o.Name, "name", "", "Assign a name to the container")
	fl.StringVar(&entrypoint, "entrypoint", "", "Override the entrypoint of the image")
	fl.StringArrayVarP(&o.Env, "env", "e", nil, "Set environment variables")
	fl.StringArrayVarP(&labels, "label", "l", nil, "Add or override a label")
	fl.BoolVar(&o.AutoRemove, "rm", false, "Automatically remove the container when it exits")
	fl.BoolVar(&o.NoDeps, "no-deps", false, "Don't start linked services")
	fl.StringArrayVarP(&publish, "publish", "p", nil, "Publish a container's port(s) to the host")
	fl.BoolVarP(&o.ServicePorts, "service-ports", "P", false, "Run command with all service's ports enabled and mapped to the host")
	fl.BoolVar(&o.UseAliases, "use-aliases", false, "Use the service's network useAliases in the network(s) the container connects to")
	fl.StringVarP(&o.User, "user", "u", "", "Run as specified username or uid")
	fl.StringVarP(&o.Workdir, "workdir", "w", "", "Working directory inside the container")
	fl.StringArrayVarP(&o.Volumes, "volume", "v", nil, "Bind mount a volume")
	fl.BoolVarP(&noTTY, "no-TTY", "T", false, "Disable pseudo-TTY allocation (default: auto-detected)")
	fl.BoolVarP(&interactive, "interactive", "i", true, "Keep STDIN open even if not attached")
	fl.BoolVar(&build, "build", false, "Build image before starting container")
	fl.Bool("remove-orphans", false, "Remove containers for services not defined in the Compose file")
	fl.Bool("quiet-pull", false, "Pull without printing progress information")
	return cmd
}
