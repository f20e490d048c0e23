package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/container/runopts"
	"github.com/berth-project/berth/internal/trace"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

type runOptions struct {
	runopts.Options
	detach   bool
	rm       bool
	sigProxy bool
	quiet    bool
}

func newRunCommand(c *cli.Cli) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), c, cmd, o, args)
		},
		Annotations: cli.Aliases("container run", "run"),
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	fl.BoolVarP(&o.detach, "detach", "d", false, "Run container in background and print container ID")
	fl.BoolVar(&o.rm, "rm", false, "Automatically remove the container and its associated anonymous volumes when it exits")
	fl.BoolVar(&o.sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress the pull output")
	o.AddFlags(fl)
	return cmd
}

// runStatusError maps a create/start failure to docker's run exit status.
func runStatusError(err error) error {
	code := 125
	if !client.IsErrConnectionFailed(err) {
		code = cli.ExitCodeForStartError(err)
	}
	return cli.StatusError{Status: cli.WithHelp(err, "run").Error(), StatusCode: code}
}

func runRun(ctx context.Context, c *cli.Cli, cmd *cobra.Command, o *runOptions, args []string) error {
	cfg, err := o.Parse(cmd.Flags(), args)
	if err != nil {
		return cli.StatusError{Status: cli.WithHelp(err, "run").Error(), StatusCode: 125}
	}
	cfg.HostConfig.AutoRemove = o.rm
	if rp := cfg.HostConfig.RestartPolicy.Name; o.rm && rp != "" && rp != container.RestartPolicyDisabled {
		return cli.StatusError{Status: cli.WithHelp(errors.New("conflicting options: cannot specify both --restart and --rm"), "run").Error(), StatusCode: 125}
	}
	config := cfg.Config
	outFd, outTerm := c.OutFd()
	_, inTerm := c.InFd()
	if o.detach {
		if len(o.Attach()) != 0 {
			return cli.StatusError{Status: cli.WithHelp(errors.New("conflicting options: cannot specify both --attach and --detach"), "run").Error(), StatusCode: 125}
		}
		config.AttachStdin, config.AttachStdout, config.AttachStderr, config.StdinOnce = false, false, false, false
	} else if config.AttachStdin && config.Tty && !inTerm {
		return cli.StatusError{Status: cli.ProgramName() + ": the input device is not a TTY", StatusCode: 1}
	}
	if config.Tty && outTerm {
		h, w := ttySize(outFd)
		cfg.HostConfig.ConsoleSize = [2]uint{h, w}
	}
	trace.Mark("run: create")
	// berthd starts a detached run's container in the create request
	createCtx, answer := ctx, (*cli.StartAnswer)(nil)
	if o.detach {
		createCtx, answer = cli.AskToStart(ctx)
	}
	id, err := createContainer(createCtx, c, cfg, &o.Options)
	if err != nil {
		if answer != nil && answer.Container != "" { // created, but its start failed
			fmt.Fprintln(c.Out(), answer.Container)
		}
		return runStatusError(err)
	}
	trace.Mark("run: created")
	if o.detach { // as the docker CLI: the ID once created, a failed start's error after it
		fmt.Fprintln(c.Out(), id)
		if answer.Started {
			return nil
		}
	}
	return RunCreated(ctx, c, id, config, RunOptions{Detach: o.detach, SigProxy: o.sigProxy, AutoRemove: o.rm, DetachKeys: o.DetachKeys()})
}

// RunOptions say how RunCreated runs a created container.
type RunOptions struct {
	Detach     bool   // start it and return
	SigProxy   bool   // forward the CLI's signals to it (without a TTY)
	AutoRemove bool   // it was created with --rm: wait for its removal
	DetachKeys string // the key sequence that detaches from its TTY
}

// RunCreated runs a created container as docker run does after its
// create: attaches the streams its config asks for, starts it, streams
// until it ends and returns its exit status as a cli.StatusError.
func RunCreated(ctx context.Context, c *cli.Cli, id string, config *container.Config, o RunOptions) error {
	outFd, outTerm := c.OutFd()
	inFd, inTerm := c.InFd()
	api, err := c.Client()
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.SigProxy && !config.Tty && !o.Detach {
		proxySignals(ctx, func(sig string) {
			_, _ = api.ContainerKill(context.Background(), id, client.ContainerKillOptions{Signal: sig})
		})
	}

	attach := config.AttachStdin || config.AttachStdout || config.AttachStderr
	var attachErr chan error
	if attach {
		var in io.ReadCloser
		if config.AttachStdin {
			in = c.In()
		}
		var out, errOut io.Writer
		if config.AttachStdout {
			out = c.Out()
		}
		if config.AttachStderr {
			errOut = c.Err()
			if config.Tty {
				errOut = c.Out()
			}
		}
		trace.Mark("run: attach")
		resp, err := api.ContainerAttach(ctx, id, client.ContainerAttachOptions{
			Stream: true, Stdin: config.AttachStdin, Stdout: config.AttachStdout, Stderr: config.AttachStderr,
			DetachKeys: o.DetachKeys,
		})
		if err != nil {
			return runStatusError(err)
		}
		defer resp.Close()
		attachErr = make(chan error, 1)
		s := &ioStreamer{in: in, inFd: inFd, inTerm: inTerm, out: out, errOut: errOut, resp: resp.HijackedResponse, tty: config.Tty, detachKeys: o.DetachKeys}
		go func() { attachErr <- s.stream(ctx) }()
	}

	// A detached run does not wait (the daemon honours --rm by itself).
	status := make(<-chan int)
	if !o.Detach {
		status = waitExitOrRemoved(ctx, c, api, id, o.AutoRemove)
	}

	trace.Mark("run: start")
	if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		if attach {
			cancel()
			<-attachErr
		}
		if o.AutoRemove && !o.Detach {
			<-status
		}
		return runStatusError(err)
	}
	trace.Mark("run: started")
	if o.Detach {
		return nil
	}
	if config.Tty && outTerm {
		monitorTTYSize(ctx, outFd, func(h, w uint) error {
			_, err := api.ContainerResize(ctx, id, client.ContainerResizeOptions{Height: h, Width: w})
			return err
		})
	}
	if attachErr != nil {
		if err := <-attachErr; err != nil {
			if strings.Contains(err.Error(), "read escape sequence") {
				return nil
			}
			return err
		}
	}
	trace.Mark("run: output done")
	code := <-status
	trace.Mark("run: exit status")
	if code != 0 {
		return cli.StatusError{StatusCode: code}
	}
	return nil
}

// waitExitOrRemoved issues the wait request now (before start, so no exit is
// missed) and delivers the exit status; 125 if waiting failed.
func waitExitOrRemoved(ctx context.Context, c *cli.Cli, api *client.Client, id string, removed bool) <-chan int {
	cond := container.WaitConditionNextExit
	if removed {
		cond = container.WaitConditionRemoved
	}
	res := api.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: cond})
	ch := make(chan int, 1)
	go func() {
		select {
		case r := <-res.Result:
			if r.Error != nil {
				fmt.Fprintf(c.Err(), "Error waiting for container: %v\n", r.Error.Message)
				ch <- 125
				return
			}
			ch <- int(r.StatusCode)
		case err := <-res.Error:
			fmt.Fprintf(c.Err(), "Error waiting for container: %v\n", err)
			ch <- 125
		}
	}()
	return ch
}
