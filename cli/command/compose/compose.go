// Package compose is `berth compose`: Docker Compose v2's commands, flags
// and output, on the compose package (compose-go's loader, the Engine API).
package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/compose"
	"github.com/compose-spec/compose-go/v2/errdefs"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
)

// TopLevel is the compose command, by name.
func TopLevel() map[string]cli.Constructor {
	return map[string]cli.Constructor{"compose": NewComposeCommand}
}

// projectOptions are compose's global flags.
type projectOptions struct {
	files      []string
	name       string
	dir        string
	envFiles   []string
	profiles   []string
	progress   string
	ansi       string
	parallel   int
	compatible bool
}

// NewComposeCommand returns "compose" and its subcommands.
func NewComposeCommand(c *cli.Cli) *cobra.Command {
	o := &projectOptions{}
	cmd := &cobra.Command{
		Use:              "compose [OPTIONS] COMMAND",
		Short:            "Docker Compose",
		Args:             cli.NoArgs,
		TraverseChildren: true,
	}
	// global flags belong to compose itself, parsed before the subcommand
	// (TraverseChildren), as Docker Compose: `logs -f` is --follow
	fl := cmd.Flags()
	fl.StringArrayVarP(&o.files, "file", "f", nil, "Compose configuration files")
	fl.StringVarP(&o.name, "project-name", "p", "", "Project name")
	fl.StringVar(&o.dir, "project-directory", "", "Specify an alternate working directory\n(default: the path of the, first specified, Compose file)")
	fl.StringArrayVar(&o.envFiles, "env-file", nil, "Specify an alternate environment file")
	fl.StringArrayVar(&o.profiles, "profile", nil, "Specify a profile to enable")
	fl.StringVar(&o.progress, "progress", "auto", `Set type of progress output (auto, tty, plain, json, quiet)`)
	fl.StringVar(&o.ansi, "ansi", "auto", `Control when to print ANSI control characters ("never"|"always"|"auto")`)
	fl.IntVar(&o.parallel, "parallel", -1, "Control max parallelism, -1 for unlimited")
	fl.BoolVar(&o.compatible, "compatibility", false, "Run compose in backward compatibility mode")
	cmd.AddCommand(
		newUpCommand(c, o), newCreateCommand(c, o), newDownCommand(c, o), newPsCommand(c, o), newConfigCommand(c, o),
		newStartCommand(c, o), newStopCommand(c, o), newRestartCommand(c, o), newRollbackCommand(c, o), newKillCommand(c, o), newRmCommand(c, o),
		newPauseCommand(c, o, false), newPauseCommand(c, o, true), newLogsCommand(c, o), newLsCommand(c, o), newVersionCommand(c), newExecCommand(c, o), newRunCommand(c, o),
		newBuildCommand(c, o), newPullCommand(c, o), newPushCommand(c, o), newImagesCommand(c, o), newTopCommand(c, o),
		newPortCommand(c, o), newCpCommand(c, o), newWaitCommand(c, o), newEventsCommand(c, o), newWatchCommand(c, o),
	)
	return cmd
}

// load loads the project the flags name.
func (o *projectOptions) load(ctx context.Context) (*types.Project, error) {
	files := o.files
	if len(files) == 0 {
		if env := os.Getenv("COMPOSE_FILE"); env != "" {
			files = strings.Split(env, string(os.PathListSeparator))
		}
	}
	profiles := o.profiles
	if env := os.Getenv("COMPOSE_PROFILES"); env != "" {
		profiles = append(profiles, strings.Split(env, ",")...)
	}
	p, err := compose.Load(ctx, compose.LoadOptions{Files: files, Name: o.name, WorkingDir: o.dir, EnvFiles: o.envFiles, Profiles: profiles})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// projectName is the project a command acts on: the loaded project's
// name, or -p / COMPOSE_PROJECT_NAME when no compose file is found (down,
// ps, stop… work from the labels alone then).
func (o *projectOptions) projectName(ctx context.Context) (string, *types.Project, error) {
	p, err := o.load(ctx)
	if err == nil {
		return p.Name, p, nil
	}
	name := o.name
	if name == "" {
		name = os.Getenv("COMPOSE_PROJECT_NAME")
	}
	if name != "" && errors.Is(err, errdefs.ErrNotFound) {
		return name, nil, nil
	}
	return "", nil, err
}

// engine is the compose engine on the CLI's client, reporting on stderr.
func engine(c *cli.Cli, o *projectOptions) (*compose.Engine, error) {
	api, err := c.Client()
	if err != nil {
		return nil, err
	}
	out := c.Err()
	if o.progress == "quiet" {
		out = nil
	}
	return compose.New(api, compose.NewProgress(out)), nil
}

func absFiles(p *types.Project) []string {
	var out []string
	for _, f := range p.ComposeFiles {
		if a, err := filepath.Abs(f); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// timeoutFlag is -t/--timeout: unset means the containers' own.
type timeoutFlag struct {
	v   int
	set bool
}

func (t *timeoutFlag) ptr() *int {
	if !t.set {
		return nil
	}
	return &t.v
}

func addTimeout(cmd *cobra.Command, t *timeoutFlag, usage string) {
	cmd.Flags().IntVarP(&t.v, "timeout", "t", 0, usage)
	cmd.PreRun = func(cmd *cobra.Command, _ []string) { t.set = cmd.Flags().Changed("timeout") }
}
