package compose

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Engine applies projects through an Engine API client.
type Engine struct {
	api      client.APIClient
	fe       *frontends // berthd's frontend API (blue/green deploys)
	progress *Progress
}

// New returns an Engine that reports progress to p.
func New(api client.APIClient, p *Progress) *Engine {
	if p == nil {
		p = NewProgress(nil)
	}
	return &Engine{api: api, fe: newFrontends(api.Dialer()), progress: p}
}

// containers lists a project's containers (all states): of the given
// services only when some are named, one-offs (compose run) included only
// when oneoff says so.
func (e *Engine) containers(ctx context.Context, project string, oneoff bool, services ...string) ([]container.Summary, error) {
	f := make(client.Filters).Add("label", ProjectLabel+"="+project)
	if !oneoff {
		f.Add("label", OneoffLabel+"=False")
	}
	res, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	var out []container.Summary
	for _, c := range res.Items {
		if len(services) == 0 || contains(services, c.Labels[ServiceLabel]) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		si, sj := out[i].Labels[ServiceLabel], out[j].Labels[ServiceLabel]
		if si != sj {
			return si < sj
		}
		return number(out[i]) < number(out[j])
	})
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// number is a container's index in its service (its container-number label).
func number(c container.Summary) int {
	n, _ := strconv.Atoi(c.Labels[ContainerNumberLabel])
	return n
}

// name is a container's name without the leading slash.
func name(c container.Summary) string {
	if len(c.Names) == 0 {
		return c.ID[:12]
	}
	return strings.TrimPrefix(c.Names[0], "/")
}

// replicas is how many containers a service wants: --scale, scale,
// deploy.replicas, else 1.
func replicas(s types.ServiceConfig, scale map[string]int) int {
	if n, ok := scale[s.Name]; ok {
		return n
	}
	if s.Scale != nil {
		return *s.Scale
	}
	if s.Deploy != nil && s.Deploy.Replicas != nil {
		return *s.Deploy.Replicas
	}
	return 1
}

// orphans are the project's containers whose service the project no longer has.
func orphans(p *types.Project, cs []container.Summary) []container.Summary {
	var out []container.Summary
	for _, c := range cs {
		svc := c.Labels[ServiceLabel]
		if _, ok := p.Services[svc]; ok {
			continue
		}
		if _, ok := p.DisabledServices[svc]; ok {
			continue
		}
		out = append(out, c)
	}
	return out
}

func names(cs []container.Summary) []string {
	var out []string
	for _, c := range cs {
		out = append(out, name(c))
	}
	return out
}

// ErrNoContainers is what commands on a project with no containers say.
func errNoContainers(project string) error {
	return fmt.Errorf("no containers found for project %q", project)
}

func sortStrings(s []string) { sort.Strings(s) }
