package compose

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/compose"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
)

func newDownCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var o compose.DownOptions
	var t timeoutFlag
	cmd := &cobra.Command{
		Use:   "down [OPTIONS] [SERVICES]",
		Short: "Stop and remove containers, networks",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if o.Images != "" && o.Images != "local" && o.Images != "all" {
				return fmt.Errorf("invalid value for --rmi: %q", o.Images)
			}
			name, p, err := po.projectName(ctx)
			if err != nil {
				return err
			}
			e, err := engine(c, po)
			if err != nil {
				return err
			}
			o.Timeout = t.ptr()
			return e.Down(ctx, name, p, o)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.Volumes, "volumes", "v", false, "Remove named volumes declared in the \"volumes\" section of the Compose file and anonymous volumes attached to containers")
	fl.BoolVar(&o.RemoveOrphans, "remove-orphans", false, "Remove containers for services not defined in the Compose file")
	fl.StringVar(&o.Images, "rmi", "", `Remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all")`)
	addTimeout(cmd, &t, "Specify a shutdown timeout in seconds")
	return cmd
}

// serviceCommand is a command on the project's services: start, stop, restart.
func serviceCommand(c *cli.Cli, po *projectOptions, use, short string, timeout bool, run func(e *compose.Engine, cmd *cobra.Command, p *types.Project, args []string, t *int) error) *cobra.Command {
	var t timeoutFlag
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := po.load(cmd.Context())
			if err != nil {
				return err
			}
			for _, s := range args {
				if _, err := p.GetService(s); err != nil {
					return fmt.Errorf("no such service: %s", s)
				}
			}
			e, err := engine(c, po)
			if err != nil {
				return err
			}
			return run(e, cmd, p, args, t.ptr())
		},
	}
	if timeout {
		addTimeout(cmd, &t, "Specify a shutdown timeout in seconds")
	}
	return cmd
}

func newStartCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	return serviceCommand(c, po, "start [SERVICE...]", "Start services", false, func(e *compose.Engine, cmd *cobra.Command, p *types.Project, args []string, _ *int) error {
		return e.Start(cmd.Context(), p, args)
	})
}

func newStopCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	return serviceCommand(c, po, "stop [OPTIONS] [SERVICE...]", "Stop services", true, func(e *compose.Engine, cmd *cobra.Command, p *types.Project, args []string, t *int) error {
		return e.Stop(cmd.Context(), p, args, t)
	})
}

func newRestartCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	return serviceCommand(c, po, "restart [OPTIONS] [SERVICE...]", "Restart service containers", true, func(e *compose.Engine, cmd *cobra.Command, p *types.Project, args []string, t *int) error {
		return e.Restart(cmd.Context(), p, args, t)
	})
}

func newKillCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var signal string
	var removeOrphans bool
	cmd := &cobra.Command{
		Use:   "kill [OPTIONS] [SERVICE...]",
		Short: "Force stop service containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			name, _, err := po.projectName(cmd.Context())
			if err != nil {
				return err
			}
			e, err := engine(c, po)
			if err != nil {
				return err
			}
			return e.Kill(cmd.Context(), name, args, signal)
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "SIGKILL", "SIGNAL to send to the container")
	cmd.Flags().BoolVar(&removeOrphans, "remove-orphans", false, "Remove containers for services not defined in the Compose file")
	return cmd
}

func newPauseCommand(c *cli.Cli, po *projectOptions, unpause bool) *cobra.Command {
	use, short := "pause [SERVICE...]", "Pause services"
	if unpause {
		use, short = "unpause [SERVICE...]", "Unpause services"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, _, err := po.projectName(cmd.Context())
			if err != nil {
				return err
			}
			e, err := engine(c, po)
			if err != nil {
				return err
			}
			return e.Pause(cmd.Context(), name, args, unpause)
		},
	}
}

func newRmCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var force, stop, volumes bool
	cmd := &cobra.Command{
		Use:   "rm [OPTIONS] [SERVICE...]",
		Short: "Removes stopped service containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name, p, err := po.projectName(ctx)
			if err != nil {
				return err
			}
			e, err := engine(c, po)
			if err != nil {
				return err
			}
			if stop {
				if p == nil {
					return fmt.Errorf("rm --stop needs the compose file")
				}
				if err := e.Stop(ctx, p, args, nil); err != nil {
					return err
				}
			}
			cs, err := e.Stopped(ctx, name, args)
			if err != nil {
				return err
			}
			if len(cs) == 0 {
				fmt.Fprintln(c.Err(), "No stopped containers")
				return nil
			}
			if !force {
				var names []string
				for _, ct := range cs {
					names = append(names, strings.TrimPrefix(ct.Names[0], "/"))
				}
				fmt.Fprintf(c.Err(), "? Going to remove %s (y/N) ", strings.Join(names, ", "))
				answer, _ := bufio.NewReader(c.In()).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					return nil
				}
			}
			return e.Remove(ctx, cs, volumes)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&force, "force", "f", false, "Don't ask to confirm removal")
	fl.BoolVarP(&stop, "stop", "s", false, "Stop the containers, if required, before removing")
	fl.BoolVarP(&volumes, "volumes", "v", false, "Remove any anonymous volumes attached to containers")
	return cmd
}

// newRollbackCommand is berth's own: start-first services go back to the
// version their last deploy replaced, with the same switch.
func newRollbackCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var waitTimeout int
	cmd := serviceCommand(c, po, "rollback [OPTIONS] [SERVICE...]", "Switch blue/green services back to their previous version", true,
		func(e *compose.Engine, cmd *cobra.Command, p *types.Project, args []string, t *int) error {
			return e.Rollback(cmd.Context(), p, args, compose.UpOptions{Timeout: t, WaitTimeout: time.Duration(waitTimeout) * time.Second})
		})
	cmd.Flags().IntVar(&waitTimeout, "wait-timeout", 0, "Maximum duration in seconds to wait for the previous version to be ready")
	return cmd
}
