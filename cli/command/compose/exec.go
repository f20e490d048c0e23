package compose

import (
	"fmt"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/container"
	"github.com/spf13/cobra"
)

func newExecCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var o container.ExecOptions
	var noTTY bool
	var index int
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] SERVICE COMMAND [ARGS...]",
		Short: "Execute a command in a running container",
		Args:  cli.RequiresMinArgs(2),
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
			cs, err := e.Containers(ctx, name, args[:1], false)
			if err != nil {
				return err
			}
			target := ""
			for _, ct := range cs {
				if index == 0 || numberOf(ct) == index {
					target = ct.ID
					break
				}
			}
			if target == "" {
				if index > 0 {
					return fmt.Errorf("service %q is not running container #%d", args[0], index)
				}
				return fmt.Errorf("service %q is not running", args[0])
			}
			_, inTerm := c.InFd()
			o.TTY = !noTTY && inTerm && !o.Detach
			o.Interactive = !o.Detach
			return container.Exec(ctx, c, o, target, args[1:])
		},
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	fl.BoolVarP(&o.Detach, "detach", "d", false, "Detached mode: Run command in the background")
	fl.BoolVar(&o.Privileged, "privileged", false, "Give extended privileges to the process")
	fl.StringVarP(&o.User, "user", "u", "", "Run the command as this user")
	fl.BoolVarP(&noTTY, "no-TTY", "T", false, "Disable pseudo-TTY allocation. By default 'docker compose exec' allocates a TTY.")
	fl.IntVar(&index, "index", 0, "Index of the container if service has multiple replicas")
	fl.StringArrayVarP(&o.Env, "env", "e", nil, "Set environment variables")
	fl.StringVarP(&o.Workdir, "workdir", "w", "", "Path to workdir directory for this command")
	fl.BoolP("interactive", "i", true, "Keep STDIN open even if not attached")
	return cmd
}
