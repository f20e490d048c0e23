package container

import (
	"context"
	"errors"
	"io"

	"github.com/berth-project/berth/cli"
	"github.com/moby/moby/client"
	"github.com/moby/term"
	"github.com/spf13/cobra"
)

type attachOptions struct {
	noStdin, sigProxy bool
	detachKeys        string
}

func newAttachCommand(c *cli.Cli) *cobra.Command {
	var o attachOptions
	cmd := &cobra.Command{
		Use:         "attach [OPTIONS] CONTAINER",
		Short:       "Attach local standard input, output, and error streams to a running container",
		Args:        cli.ExactArgs(1),
		Annotations: cli.Aliases("container attach", "attach"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttach(cmd.Context(), c, &o, args[0])
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.noStdin, "no-stdin", false, "Do not attach STDIN")
	fl.BoolVar(&o.sigProxy, "sig-proxy", true, "Proxy all received signals to the process")
	fl.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

// runAttach is docker's attach: refuse what is not running, attach, keep
// the terminal size, and exit with the container's status unless the
// user detached.
func runAttach(ctx context.Context, c *cli.Cli, o *attachOptions, name string) error {
	api, err := c.Client()
	if err != nil {
		return err
	}
	info, err := api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	ctr := info.Container
	switch {
	case ctr.State == nil || !ctr.State.Running:
		return errors.New("You cannot attach to a stopped container, start it first")
	case ctr.State.Paused:
		return errors.New("You cannot attach to a paused container, unpause it first")
	case ctr.State.Restarting:
		return errors.New("You cannot attach to a restarting container, wait until it is running")
	}
	tty := ctr.Config.Tty
	stdin := !o.noStdin && ctr.Config.OpenStdin
	inFd, inTerm := c.InFd()
	if stdin && tty && !inTerm {
		return errors.New("the input device is not a TTY")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.sigProxy && !tty {
		proxySignals(ctx, func(sig string) {
			_, _ = api.ContainerKill(context.Background(), ctr.ID, client.ContainerKillOptions{Signal: sig})
		})
	}
	// ask for the exit before attaching, so an exit in between is not missed
	status := waitExitOrRemoved(ctx, c, api, ctr.ID, false)
	resp, err := api.ContainerAttach(ctx, ctr.ID, client.ContainerAttachOptions{
		Stream: true, Stdin: stdin, Stdout: true, Stderr: true, DetachKeys: o.detachKeys,
	})
	if err != nil {
		return err
	}
	defer resp.Close()
	var in io.ReadCloser
	if stdin {
		in = c.In()
	}
	errOut := c.Err()
	if tty {
		errOut = c.Out()
	}
	if outFd, ok := c.OutFd(); tty && ok {
		monitorTTYSize(ctx, outFd, func(h, w uint) error {
			_, err := api.ContainerResize(ctx, ctr.ID, client.ContainerResizeOptions{Height: h, Width: w})
			return err
		})
	}
	s := &ioStreamer{in: in, inFd: inFd, inTerm: inTerm, out: c.Out(), errOut: errOut, resp: resp.HijackedResponse, tty: tty, detachKeys: o.detachKeys}
	if err := s.stream(ctx); err != nil {
		var esc term.EscapeError
		if errors.As(err, &esc) {
			return nil
		}
		return err
	}
	// the stream ended: the container exited (or the daemon closed it)
	if code := <-status; code != 0 {
		return cli.StatusError{StatusCode: code}
	}
	return nil
}
