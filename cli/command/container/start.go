package container

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

type startOptions struct {
	attach, interactive bool
	detachKeys          string
	checkpoint, cpDir   string
}

func newStartCommand(c *cli.Cli) *cobra.Command {
	o := &startOptions{}
	cmd := &cobra.Command{
		Use:         "start [OPTIONS] CONTAINER [CONTAINER...]",
		Short:       "Start one or more stopped containers",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("container start", "start"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.attach || o.interactive {
				if len(args) > 1 {
					return fmt.Errorf("you cannot start and attach multiple containers at once")
				}
				return startAttached(cmd.Context(), c, o, args[0])
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			var failed []string
			for _, n := range args {
				if _, err := api.ContainerStart(cmd.Context(), n, client.ContainerStartOptions{CheckpointID: o.checkpoint, CheckpointDir: o.cpDir}); err != nil {
					fmt.Fprintln(c.Err(), err)
					failed = append(failed, n)
					continue
				}
				fmt.Fprintln(c.Out(), n)
			}
			if len(failed) > 0 {
				return fmt.Errorf("Error: failed to start containers: %s", strings.Join(failed, ", "))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.attach, "attach", "a", false, "Attach STDOUT/STDERR and forward signals")
	fl.BoolVarP(&o.interactive, "interactive", "i", false, "Attach container's STDIN")
	fl.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	fl.StringVar(&o.checkpoint, "checkpoint", "", "Restore from this checkpoint")
	fl.StringVar(&o.cpDir, "checkpoint-dir", "", "Use a custom checkpoint storage directory")
	return cmd
}

// startAttached is `start -a/-i`: attach, wait for the next exit, start, and
// exit with the container's status.
func startAttached(ctx context.Context, c *cli.Cli, o *startOptions, name string) error {
	api, err := c.Client()
	if err != nil {
		return err
	}
	info, err := api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	ctr := info.Container
	tty := ctr.Config != nil && ctr.Config.Tty
	openStdin := ctr.Config != nil && ctr.Config.OpenStdin
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !tty {
		proxySignals(ctx, func(sig string) {
			_, _ = api.ContainerKill(context.Background(), ctr.ID, client.ContainerKillOptions{Signal: sig})
		})
	}
	stdin := o.interactive && openStdin
	resp, err := api.ContainerAttach(ctx, ctr.ID, client.ContainerAttachOptions{
		Stream: true, Stdin: stdin, Stdout: true, Stderr: true, DetachKeys: o.detachKeys,
	})
	if err != nil {
		return err
	}
	defer resp.Close()
	var in io.ReadCloser
	inFd, inTerm := c.InFd()
	if stdin {
		in = c.In()
	}
	errOut := c.Err()
	if tty {
		errOut = c.Out()
	}
	s := &ioStreamer{in: in, inFd: inFd, inTerm: inTerm, out: c.Out(), errOut: errOut, resp: resp.HijackedResponse, tty: tty, detachKeys: o.detachKeys}
	attachErr := make(chan error, 1)
	go func() { attachErr <- s.stream(ctx) }()

	status := waitExitOrRemoved(ctx, c, api, ctr.ID, ctr.HostConfig != nil && ctr.HostConfig.AutoRemove)
	if _, err := api.ContainerStart(ctx, ctr.ID, client.ContainerStartOptions{}); err != nil {
		cancel()
		<-attachErr
		return cli.StatusError{Status: err.Error(), StatusCode: cli.ExitCodeForStartError(err)}
	}
	if outFd, ok := c.OutFd(); tty && ok {
		monitorTTYSize(ctx, outFd, func(h, w uint) error {
			_, err := api.ContainerResize(ctx, ctr.ID, client.ContainerResizeOptions{Height: h, Width: w})
			return err
		})
	}
	if err := <-attachErr; err != nil {
		if strings.Contains(err.Error(), "read escape sequence") {
			return nil
		}
		return err
	}
	if code := <-status; code != 0 {
		return cli.StatusError{StatusCode: code}
	}
	return nil
}
