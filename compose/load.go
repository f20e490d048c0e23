package compose

import (
	"context"
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadOptions say where a project comes from, as compose's global flags do.
type LoadOptions struct {
	Files      []string // -f, in order; "-" is stdin; none: compose.yaml and the others in the working directory or above
	Name       string   // -p; else COMPOSE_PROJECT_NAME, the file's name:, the directory's name
	WorkingDir string   // --project-directory
	EnvFiles   []string // --env-file
	Profiles   []string // --profile, added to COMPOSE_PROFILES
}

// Load reads, merges, interpolates and normalises the project the way
// Docker Compose does (the same compose-go options in the same order).
func Load(ctx context.Context, o LoadOptions) (*types.Project, error) {
	po, err := cli.NewProjectOptions(o.Files,
		cli.WithWorkingDirectory(o.WorkingDir),
		cli.WithOsEnv,
		cli.WithEnvFiles(o.EnvFiles...),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithEnvFiles(o.EnvFiles...), // again, as compose: the env file may come from the project directory found above
		cli.WithDotEnv,
		cli.WithDefaultProfiles(o.Profiles...),
		cli.WithName(o.Name),
	)
	if err != nil {
		return nil, err
	}
	p, err := po.LoadProject(ctx)
	if err != nil {
		return nil, inFiles(po.ConfigPaths, err)
	}
	return p, nil
}

// inFiles names the compose files in a load error that does not already
// (a YAML syntax error, a dependency cycle).
func inFiles(files []string, err error) error {
	for _, f := range files {
		if strings.Contains(err.Error(), f) {
			return err
		}
	}
	if len(files) == 0 {
		return err
	}
	return fmt.Errorf("%s: %w", strings.Join(files, ", "), err)
}
