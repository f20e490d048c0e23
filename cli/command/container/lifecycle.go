package container

import (
	"errors"
	"fmt"
	"strings"

	"github.com/berth-project/berth/cli"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// forEach runs op on every container in order, printing each name that
// succeeded and returning the joined errors, as docker stop/kill/rm do.
func forEach(c *cli.Cli, names []string, op func(api *client.Client, name string) error) error {
	api, err := c.Client()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if err := op(api, n); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(c.Out(), n)
	}
	return errors.Join(errs...)
}

func newStopCommand(c *cli.Cli) *cobra.Command {
	var signal string
	var timeout int
	cmd := &cobra.Command{
		Use:         "stop [OPTIONS] CONTAINER [CONTAINER...]",
		Short:       "Stop one or more running containers",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("container stop", "stop"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := client.ContainerStopOptions{Signal: signal}
			if cmd.Flags().Changed("timeout") || cmd.Flags().Changed("time") {
				opts.Timeout = &timeout
			}
			return forEach(c, args, func(api *client.Client, n string) error {
				_, err := api.ContainerStop(cmd.Context(), n, opts)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "Signal to send to the container")
	cmd.Flags().IntVarP(&timeout, "timeout", "t", 0, "Seconds to wait before killing the container")
	cmd.Flags().IntVar(&timeout, "time", 0, "Seconds to wait before killing the container (deprecated: use --timeout)")
	_ = cmd.Flags().MarkHidden("time")
	return cmd
}

func newRestartCommand(c *cli.Cli) *cobra.Command {
	var signal string
	var timeout int
	cmd := &cobra.Command{
		Use:         "restart [OPTIONS] CONTAINER [CONTAINER...]",
		Short:       "Restart one or more containers",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("container restart", "restart"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := client.ContainerRestartOptions{Signal: signal}
			if cmd.Flags().Changed("timeout") || cmd.Flags().Changed("time") {
				opts.Timeout = &timeout
			}
			return forEach(c, args, func(api *client.Client, n string) error {
				_, err := api.ContainerRestart(cmd.Context(), n, opts)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "Signal to send to the container")
	cmd.Flags().IntVarP(&timeout, "timeout", "t", 0, "Seconds to wait before killing the container")
	cmd.Flags().IntVar(&timeout, "time", 0, "Seconds to wait before killing the container (deprecated: use --timeout)")
	_ = cmd.Flags().MarkHidden("time")
	return cmd
}

func newKillCommand(c *cli.Cli) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:         "kill [OPTIONS] CONTAINER [CONTAINER...]",
		Short:       "Kill one or more running containers",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("container kill", "kill"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEach(c, args, func(api *client.Client, n string) error {
				_, err := api.ContainerKill(cmd.Context(), n, client.ContainerKillOptions{Signal: signal})
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "Signal to send to the container")
	return cmd
}

func newPauseCommand(c *cli.Cli, unpause bool) *cobra.Command {
	verb, short := "pause", "Pause all processes within one or more containers"
	if unpause {
		verb, short = "unpause", "Unpause all processes within one or more containers"
	}
	return &cobra.Command{
		Use:         verb + " CONTAINER [CONTAINER...]",
		Short:       short,
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("container "+verb, verb),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEach(c, args, func(api *client.Client, n string) error {
				if unpause {
					_, err := api.ContainerUnpause(cmd.Context(), n, client.ContainerUnpauseOptions{})
					return err
				}
				_, err := api.ContainerPause(cmd.Context(), n, client.ContainerPauseOptions{})
				return err
			})
		},
	}
}

func newRmCommand(c *cli.Cli) *cobra.Command {
	var opts client.ContainerRemoveOptions
	cmd := &cobra.Command{
		Use:         "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Aliases:     []string{"remove"},
		Short:       "Remove one or more containers",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("container rm", "container remove", "rm"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			var errs []error
			for _, n := range args {
				n = strings.Trim(n, "/")
				if n == "" {
					errs = append(errs, errors.New("container name cannot be empty"))
					continue
				}
				if _, err := api.ContainerRemove(cmd.Context(), n, opts); err != nil {
					if opts.Force && cerrdefs.IsNotFound(err) {
						continue
					}
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(c.Out(), n)
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVarP(&opts.Force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	cmd.Flags().BoolVarP(&opts.RemoveLinks, "link", "l", false, "Remove the specified link")
	cmd.Flags().BoolVarP(&opts.RemoveVolumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
	return cmd
}

func newRenameCommand(c *cli.Cli) *cobra.Command {
	return &cobra.Command{
		Use:         "rename CONTAINER NEW_NAME",
		Short:       "Rename a container",
		Args:        cli.ExactArgs(2),
		Annotations: cli.Aliases("container rename", "rename"),
		RunE: func(cmd *cobra.Command, args []string) error {
			oldName, newName := strings.TrimSpace(args[0]), strings.TrimSpace(args[1])
			if oldName == "" || newName == "" {
				return errors.New("Error: Neither old nor new names may be empty")
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			if _, err := api.ContainerRename(cmd.Context(), oldName, client.ContainerRenameOptions{NewName: newName}); err != nil {
				fmt.Fprintln(c.Err(), err)
				return fmt.Errorf("Error: failed to rename container named %s", oldName)
			}
			return nil
		},
	}
}

func newWaitCommand(c *cli.Cli) *cobra.Command {
	return &cobra.Command{
		Use:         "wait CONTAINER [CONTAINER...]",
		Short:       "Block until one or more containers stop, then print their exit codes",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("container wait", "wait"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			var errs []string
			for _, n := range args {
				res := api.ContainerWait(cmd.Context(), n, client.ContainerWaitOptions{})
				select {
				case r := <-res.Result:
					fmt.Fprintf(c.Out(), "%d\n", r.StatusCode)
				case err := <-res.Error:
					errs = append(errs, err.Error())
				}
			}
			if len(errs) > 0 {
				return errors.New(strings.Join(errs, "\n"))
			}
			return nil
		},
	}
}
