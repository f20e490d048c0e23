package images

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// ApplyChanges applies Dockerfile instructions given with `import -c` or
// `commit -c` to cfg, with Docker's list of allowed instructions.
func ApplyChanges(cfg *dockerspec.DockerOCIImageConfig, changes []string) error {
	for _, change := range changes {
		if strings.TrimSpace(change) == "" {
			continue
		}
		res, err := parser.Parse(strings.NewReader(change))
		if err != nil {
			return fmt.Errorf("%s: %w", err, errdefs.ErrInvalidArgument)
		}
		lex := shell.NewLex(res.EscapeToken)
		for _, node := range res.AST.Children {
			if err := applyNode(cfg, node, lex); err != nil {
				return err
			}
		}
	}
	return nil
}

func applyNode(cfg *dockerspec.DockerOCIImageConfig, node *parser.Node, lex *shell.Lex) error {
	ins, err := instructions.ParseInstruction(node)
	if err != nil {
		return fmt.Errorf("%s: %w", err, errdefs.ErrInvalidArgument)
	}
	// $VARs expand with the image's environment, as in a Dockerfile
	// (ENV PATH=/x:$PATH)
	if e, ok := ins.(interface {
		Expand(instructions.SingleWordExpander) error
	}); ok {
		err := e.Expand(func(word string) (string, error) {
			v, _, err := lex.ProcessWord(word, shell.EnvsFromSlice(cfg.Env))
			return v, err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	shell := func(cmd []string, prepend bool) []string {
		if prepend {
			return append([]string{"/bin/sh", "-c"}, strings.Join(cmd, " "))
		}
		return cmd
	}
	switch c := ins.(type) {
	case *instructions.CmdCommand:
		cfg.Cmd = shell(c.CmdLine, c.PrependShell)
	case *instructions.EntrypointCommand:
		cfg.Entrypoint = shell(c.CmdLine, c.PrependShell)
		cfg.Cmd = nil
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
		}
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
		}
	case *instructions.ExposeCommand:
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range c.Ports {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			cfg.ExposedPorts[p] = struct{}{}
		}
	case *instructions.UserCommand:
		cfg.User = c.User
	case *instructions.WorkdirCommand:
		cfg.WorkingDir = c.Path
	case *instructions.VolumeCommand:
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	case *instructions.StopSignalCommand:
		cfg.StopSignal = c.Signal
	case *instructions.OnbuildCommand:
		cfg.OnBuild = append(cfg.OnBuild, c.Expression)
	case *instructions.HealthCheckCommand:
		cfg.Healthcheck = c.Health
	default:
		return fmt.Errorf("%s is not a valid change command: %w", strings.ToUpper(node.Value), errdefs.ErrInvalidArgument)
	}
	return nil
}

// setEnv replaces or appends KEY=value.
func setEnv(env []string, key, value string) []string {
	for i, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}
