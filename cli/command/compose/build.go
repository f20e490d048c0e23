package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/image"
	"github.com/berth-project/berth/compose"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
)

type buildOptions struct {
	noCache, pull bool
	args          map[string]string
	quiet         bool
}

// buildService builds a service's image from its build section, tagged
// with the name the service runs (its image, or project-service).
func buildService(ctx context.Context, c *cli.Cli, p *types.Project, s types.ServiceConfig, o buildOptions) error {
	b := s.Build
	if b == nil {
		return nil
	}
	api, err := c.Client()
	if err != nil {
		return err
	}
	dockerfile := b.Dockerfile
	if dockerfile != "" && !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(b.Context, dockerfile)
	}
	if b.DockerfileInline != "" { // sent beside the context, as a Dockerfile outside it is
		f, err := os.CreateTemp("", "berth-compose-dockerfile-")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		_, err = f.WriteString(b.DockerfileInline)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		dockerfile = f.Name()
	}
	body, name, err := image.ContextTar(b.Context, dockerfile)
	if err != nil {
		return err
	}
	defer body.Close()
	args := map[string]*string{}
	for k, v := range b.Args {
		args[k] = v
	}
	for k, v := range o.args {
		args[k] = &v
	}
	labels := map[string]string{}
	for k, v := range b.Labels {
		labels[k] = v
	}
	fmt.Fprintf(c.Err(), " Service %s Building\n", s.Name)
	res, err := api.ImageBuild(ctx, body, client.ImageBuildOptions{
		Tags: append([]string{compose.ImageName(p, s)}, b.Tags...), Dockerfile: name, BuildArgs: args, Target: b.Target,
		NoCache: o.noCache || b.NoCache, PullParent: o.pull || b.Pull, Labels: labels, CacheFrom: b.CacheFrom,
		NetworkMode: b.Network, Remove: true, ExtraHosts: b.ExtraHosts.AsList(":"),
	})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		switch {
		case m.ErrorDetail != nil:
			return fmt.Errorf("failed to solve: %s", m.ErrorDetail.Message)
		case m.Error != "":
			return fmt.Errorf("failed to solve: %s", m.Error)
		case m.Stream != "" && !o.quiet:
			fmt.Fprint(c.Err(), m.Stream)
		}
	}
	fmt.Fprintf(c.Err(), " Service %s Built\n", s.Name)
	return nil
}
