package container

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/container/runopts"
	"github.com/berth-project/berth/internal/trace"
	"github.com/moby/moby/client"
	"github.com/moby/term"
	"github.com/spf13/cobra"
)

type execOptions struct {
	detach, interactive, tty, privileged bool
	user, workdir, detachKeys            string
	env, envFile                         runopts.ListOpt
}

func newExecCommand(c *cli.Cli) *cobra.Command {
	o := &execOptions{}
	cmd := &cobra.Command{
		Use:         "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short:       "Execute a command in a running container",
		Args:        cli.RequiresMinArgs(2),
		Annotations: cli.Aliases("container exec", "exec"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd.Context(), c, o, args[0], args[1:])
		},
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	fl.BoolVarP(&o.detach, "detach", "d", false, "Detached mode: run command in the background")
	fl.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	fl.VarP(&o.env, "env", "e", "Set environment variables")
	fl.Var(&o.envFile, "env-file", "Read in a file of environment variables")
	fl.BoolVarP(&o.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	fl.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to the command")
	fl.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fl.StringVarP(&o.user, "user", "u", "", `Username or UID (format: "<name|uid>[:<group|gid>]")`)
	fl.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	return cmd
}

// execCreateOptions builds the exec configuration as docker does: without -d
// stdout and stderr are attached, stdin only with -i.
func (o *execOptions) execCreateOptions(cmdArgs []string) (client.ExecCreateOptions, error) {
	env, err := runopts.Env(o.envFile, o.env)
	if err != nil {
		return client.ExecCreateOptions{}, err
	}
	opts := client.ExecCreateOptions{
		User: o.user, Privileged: o.privileged, TTY: o.tty, Cmd: cmdArgs,
		WorkingDir: o.workdir, DetachKeys: o.detachKeys, Env: env,
	}
	if !o.detach {
		opts.AttachStdout, opts.AttachStderr = true, true
		opts.AttachStdin = o.interactive
	}
	return opts, nil
}

func runExec(ctx context.Context, c *cli.Cli, o *execOptions, ctr string, cmdArgs []string) error {
	opts, err := o.execCreateOptions(cmdArgs)
	if err != nil {
		return err
	}
	inFd, inTerm := c.InFd()
	outFd, outTerm := c.OutFd()
	if !o.detach && opts.AttachStdin && opts.TTY && !inTerm {
		return fmt.Errorf("the input device is not a TTY")
	}
	if opts.TTY && outTerm && !o.detach {
		h, w := ttySize(outFd)
		opts.ConsoleSize = client.ConsoleSize{Height: h, Width: w}
	}
	api, err := c.Client()
	if err != nil {
		return err
	}
	trace.Mark("exec: create")
	created, err := api.ExecCreate(ctx, ctr, opts)
	if err != nil {
		return err
	}
	if o.detach {
		_, err := api.ExecStart(ctx, created.ID, client.ExecStartOptions{Detach: true, TTY: opts.TTY})
		return err
	}
	trace.Mark("exec: attach and start")
	resp, err := api.ExecAttach(ctx, created.ID, client.ExecAttachOptions{TTY: opts.TTY, ConsoleSize: opts.ConsoleSize})
	if err != nil {
		return err
	}
	defer resp.Close()
	var in io.ReadCloser
	if opts.AttachStdin {
		in = c.In()
	}
	errOut := c.Err()
	if opts.TTY {
		errOut = c.Out()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.TTY && outTerm {
		monitorTTYSize(ctx, outFd, func(h, w uint) error {
			_, err := api.ExecResize(ctx, created.ID, client.ExecResizeOptions{Height: h, Width: w})
			return err
		})
	}
	s := &ioStreamer{in: in, inFd: inFd, inTerm: inTerm, out: c.Out(), errOut: errOut, resp: resp.HijackedResponse, tty: opts.TTY, detachKeys: o.detachKeys}
	if err := s.stream(ctx); err != nil {
		var esc term.EscapeError
		if errors.As(err, &esc) {
			return nil // detached: the process keeps running
		}
		return err
	}
	trace.Mark("exec: inspect")
	res, err := api.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return cli.StatusError{StatusCode: res.ExitCode}
	}
	return nil
}

// ExecOptions are an exec's choices, for commands beside docker exec
// (compose exec).
type ExecOptions struct {
	Detach, Interactive, TTY, Privileged bool
	User, Workdir                        string
	Env                                  []string
}

// Exec runs cmd in the running container ctr as docker exec does, output,
// exit status and all.
func Exec(ctx context.Context, c *cli.Cli, o ExecOptions, ctr string, cmd []string) error {
	return runExec(ctx, c, &execOptions{detach: o.Detach, interactive: o.Interactive, tty: o.TTY, privileged: o.Privileged,
		user: o.User, workdir: o.Workdir, env: runopts.ListOpt(o.Env)}, ctr, cmd)
}
