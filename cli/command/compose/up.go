package compose

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/compose"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

type upOptions struct {
	detach, build, noBuild, forceRecreate, noRecreate, noDeps, removeOrphans bool
	wait, abortOnExit, noStart, noLogPrefix, noColor                         bool
	waitTimeout                                                              int
	exitCodeFrom                                                             string
	scale                                                                    []string
	timeout                                                                  timeoutFlag
}

func newUpCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	o := &upOptions{}
	cmd := &cobra.Command{
		Use:   "up [OPTIONS] [SERVICE...]",
		Short: "Create and start containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUp(cmd.Context(), c, po, o, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.detach, "detach", "d", false, "Detached mode: Run containers in the background")
	fl.BoolVar(&o.build, "build", false, "Build images before starting containers")
	fl.BoolVar(&o.noBuild, "no-build", false, "Don't build an image, even if it's policy")
	fl.BoolVar(&o.forceRecreate, "force-recreate", false, "Recreate containers even if their configuration and image haven't changed")
	fl.BoolVar(&o.noRecreate, "no-recreate", false, "If containers already exist, don't recreate them. Incompatible with --force-recreate.")
	fl.BoolVar(&o.noDeps, "no-deps", false, "Don't start linked services")
	fl.BoolVar(&o.removeOrphans, "remove-orphans", false, "Remove containers for services not defined in the Compose file")
	fl.BoolVar(&o.wait, "wait", false, "Wait for services to be running|healthy. Implies detached mode.")
	fl.IntVar(&o.waitTimeout, "wait-timeout", 0, "Maximum duration in seconds to wait for the project to be running|healthy")
	fl.BoolVar(&o.abortOnExit, "abort-on-container-exit", false, "Stops all containers if any container was stopped. Incompatible with -d")
	fl.StringVar(&o.exitCodeFrom, "exit-code-from", "", "Return the exit code of the selected service container. Implies --abort-on-container-exit")
	fl.StringArrayVar(&o.scale, "scale", nil, "Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.")
	fl.BoolVar(&o.noStart, "no-start", false, "Don't start the services after creating them")
	fl.BoolVar(&o.noLogPrefix, "no-log-prefix", false, "Don't print prefix in logs")
	fl.BoolVar(&o.noColor, "no-color", false, "Produce monochrome output")
	addTimeout(cmd, &o.timeout, "Use this timeout in seconds for container shutdown when attached or when containers are already running")
	return cmd
}

func newCreateCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	o := &upOptions{noStart: true, detach: true}
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [SERVICE...]",
		Short: "Creates containers for a service",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUp(cmd.Context(), c, po, o, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.build, "build", false, "Build images before starting containers")
	fl.BoolVar(&o.noBuild, "no-build", false, "Don't build an image, even if it's policy")
	fl.BoolVar(&o.forceRecreate, "force-recreate", false, "Recreate containers even if their configuration and image haven't changed")
	fl.BoolVar(&o.noRecreate, "no-recreate", false, "If containers already exist, don't recreate them. Incompatible with --force-recreate.")
	fl.BoolVar(&o.removeOrphans, "remove-orphans", false, "Remove containers for services not defined in the Compose file")
	fl.StringArrayVar(&o.scale, "scale", nil, "Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.")
	return cmd
}

func parseScale(specs []string) (map[string]int, error) {
	m := map[string]int{}
	for _, s := range specs {
		name, n, ok := strings.Cut(s, "=")
		v, err := strconv.Atoi(n)
		if !ok || err != nil || v < 0 {
			return nil, fmt.Errorf("invalid --scale option %q: should be SERVICE=NUM", s)
		}
		m[name] = v
	}
	return m, nil
}

func runUp(ctx context.Context, c *cli.Cli, po *projectOptions, o *upOptions, services []string) error {
	if o.forceRecreate && o.noRecreate {
		return fmt.Errorf("--force-recreate and --no-recreate are incompatible")
	}
	if o.exitCodeFrom != "" {
		o.abortOnExit = true
	}
	if o.wait {
		o.detach = true
	}
	if o.detach && o.abortOnExit {
		return fmt.Errorf("--abort-on-container-exit and --detach are incompatible")
	}
	scale, err := parseScale(o.scale)
	if err != nil {
		return err
	}
	p, err := po.load(ctx)
	if err != nil {
		return err
	}
	if o.exitCodeFrom != "" {
		if _, err := p.GetService(o.exitCodeFrom); err != nil {
			return fmt.Errorf("no such service: %s", o.exitCodeFrom)
		}
	}
	e, err := engine(c, po)
	if err != nil {
		return err
	}
	api, _ := c.Client()
	uo := compose.UpOptions{
		Services: services, NoDeps: o.noDeps, ForceRecreate: o.forceRecreate, NoRecreate: o.noRecreate,
		RemoveOrphans: o.removeOrphans, NoStart: o.noStart, Scale: scale, Timeout: o.timeout.ptr(),
		Wait: o.wait, WaitTimeout: time.Duration(o.waitTimeout) * time.Second, PullOut: c.Err(),
	}
	if !o.noBuild {
		uo.Build = func(ctx context.Context, s types.ServiceConfig) error {
			if !o.build && !missingImage(ctx, api, compose.ImageName(p, s)) && s.PullPolicy != types.PullPolicyBuild {
				return nil
			}
			return buildService(ctx, c, p, s, buildOptions{})
		}
	}
	if err := e.Up(ctx, p, uo); err != nil {
		return err
	}
	if o.detach {
		return nil
	}
	return attachUp(ctx, c, po, e, p, services, o)
}

func missingImage(ctx context.Context, api client.APIClient, ref string) bool {
	_, err := api.ImageInspect(ctx, ref)
	return err != nil
}

// attachUp follows the project's logs until its containers exit (or one
// does, with --abort-on-container-exit); an interrupt stops them, as
// docker compose up does in the foreground.
func attachUp(ctx context.Context, c *cli.Cli, po *projectOptions, e *compose.Engine, p *types.Project, services []string, o *upOptions) error {
	cs, err := e.Containers(ctx, p.Name, services, true)
	if err != nil {
		return err
	}
	api, _ := c.Client()
	lctx, cancelLogs := context.WithCancel(ctx)
	defer cancelLogs()
	lp := newLogPrinter(c.Out(), !o.noLogPrefix, cs)
	if useColour(c, po.ansi, o.noColor) {
		lp.colour(cs)
	}
	var logs sync.WaitGroup
	drained := map[string]chan struct{}{} // by container: its log stream ended
	for _, ct := range cs {
		logs.Add(1)
		done := make(chan struct{})
		drained[ct.ID] = done
		go func() {
			defer logs.Done()
			defer close(done)
			_ = followLogs(lctx, api, lp, ct, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true}, false)
		}()
	}
	type exit struct {
		id, name, service string
		code              int64
	}
	exits := make(chan exit, len(cs))
	for _, ct := range cs {
		go func() {
			res := api.ContainerWait(ctx, ct.ID, client.ContainerWaitOptions{Condition: "not-running"})
			select {
			case r := <-res.Result:
				exits <- exit{ct.ID, shortName(ct), ct.Labels[compose.ServiceLabel], r.StatusCode}
			case <-res.Error:
				exits <- exit{ct.ID, shortName(ct), ct.Labels[compose.ServiceLabel], -1}
			}
		}()
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	code := 0
	stopAll := func() {
		fmt.Fprintln(c.Err(), "Gracefully stopping... (press Ctrl+C again to force)")
		_ = e.Stop(ctx, p, nil, o.timeout.ptr())
	}
	for left := len(cs); left > 0; {
		select {
		case x := <-exits:
			left--
			// its last lines come before the news of its exit, as in
			// Docker Compose: the log stream ends soon after the container
			select {
			case <-drained[x.id]:
			case <-time.After(2 * time.Second):
			}
			lp.exited(x.name, x.code)
			if o.exitCodeFrom != "" && x.service == o.exitCodeFrom {
				code = int(x.code)
			} else if o.exitCodeFrom == "" && o.abortOnExit && x.code != 0 && code == 0 {
				code = int(x.code)
			}
			if o.abortOnExit {
				fmt.Fprintln(c.Out(), "Aborting on container exit...")
				stopAll()
				cancelLogs()
				if code != 0 {
					return cli.StatusError{StatusCode: code}
				}
				return nil
			}
		case <-sigs:
			stopAll()
			cancelLogs()
			return cli.StatusError{StatusCode: 130}
		}
	}
	cancelLogs()
	logs.Wait()
	if code != 0 {
		return cli.StatusError{StatusCode: code}
	}
	return nil
}
