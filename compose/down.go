package compose

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/compose-spec/compose-go/v2/graph"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
)

// DownOptions are `compose down`'s choices.
type DownOptions struct {
	Volumes       bool   // -v: the project's named volumes and the containers' anonymous ones
	RemoveOrphans bool   // also containers of services the project no longer has
	Images        string // --rmi local|all
	Timeout       *int   // -t
}

// Down stops and removes the project's containers, then its networks
// (and with Volumes its volumes), as `docker compose down` does. p may be
// nil when no compose file is at hand (down -p NAME): everything labelled
// with the project goes.
func (e *Engine) Down(ctx context.Context, project string, p *types.Project, o DownOptions) error {
	cs, err := e.containers(ctx, project, true)
	if err != nil {
		return err
	}
	if p != nil && !o.RemoveOrphans {
		var keep []container.Summary
		for _, c := range cs {
			if _, ok := p.Services[c.Labels[ServiceLabel]]; ok || c.Labels[OneoffLabel] == "True" {
				keep = append(keep, c)
			} else if _, ok := p.DisabledServices[c.Labels[ServiceLabel]]; ok {
				keep = append(keep, c)
			}
		}
		if orph := orphans(p, cs); len(orph) > 0 {
			e.progress.Event("", "", "Found orphan containers ("+joinNames(orph)+") for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.")
		}
		cs = keep
	}
	if err := e.removeFrontends(ctx, project); err != nil {
		return err
	}
	if err := e.removeInStopOrder(ctx, p, cs, o.Timeout, o.Volumes); err != nil {
		return err
	}
	if err := e.removeNetworks(ctx, project, p); err != nil {
		return err
	}
	if o.Volumes {
		if err := e.removeVolumes(ctx, project); err != nil {
			return err
		}
	}
	if o.Images != "" && p != nil {
		for _, s := range p.Services {
			if o.Images == "local" && s.Image != "" {
				continue
			}
			img := ImageName(p, s)
			if _, err := e.api.ImageRemove(ctx, img, client.ImageRemoveOptions{}); err == nil {
				e.progress.Event("Image "+img, "Removed", "")
			}
		}
	}
	return nil
}

func joinNames(cs []container.Summary) string {
	out := ""
	for i, n := range names(cs) {
		if i > 0 {
			out += " "
		}
		out += n
	}
	return out
}

// removeContainers stops and removes containers, side by side, reporting each.
func (e *Engine) removeContainers(ctx context.Context, cs []container.Summary, timeout *int, volumes bool) error {
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.removeContainer(ctx, c, timeout, volumes)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (e *Engine) removeContainer(ctx context.Context, c container.Summary, timeout *int, volumes bool) error {
	ev := containerID(name(c))
	if c.State == container.StateRunning || c.State == container.StatePaused || c.State == container.StateRestarting {
		e.progress.Event(ev, "Stopping", "")
		if _, err := e.api.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: timeout}); err != nil && !errdefs.IsNotFound(err) {
			e.progress.Event(ev, "Error", err.Error())
			return err
		}
		e.progress.Event(ev, "Stopped", "")
	}
	e.progress.Event(ev, "Removing", "")
	if _, err := e.api.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: volumes}); err != nil && !errdefs.IsNotFound(err) {
		e.progress.Event(ev, "Error", err.Error())
		return err
	}
	e.progress.Event(ev, "Removed", "")
	return nil
}

// pull pulls a service's image, rendering the daemon's progress on out.
func (e *Engine) pull(ctx context.Context, s types.ServiceConfig, out io.Writer) error {
	ev := s.Name
	e.progress.Event(ev, "Pulling", "")
	resp, err := e.api.ImagePull(ctx, s.Image, client.ImagePullOptions{})
	if err != nil {
		e.progress.Event(ev, "Error", err.Error())
		return err
	}
	defer resp.Close()
	if out == nil {
		out = io.Discard
	}
	if err := jsonmessage.DisplayJSONMessagesStream(resp, out, 0, false, nil); err != nil {
		e.progress.Event(ev, "Error", err.Error())
		return err
	}
	e.progress.Event(ev, "Pulled", "")
	return nil
}

// removeInStopOrder removes containers as Docker Compose's down does: a
// service's after those of the services that depend on it, services that
// do not wait for each other side by side; containers of no service in p
// (orphans, one-offs; all when p is nil) first, side by side.
func (e *Engine) removeInStopOrder(ctx context.Context, p *types.Project, cs []container.Summary, timeout *int, volumes bool) error {
	byService := map[string][]container.Summary{}
	var others []container.Summary
	for _, c := range cs {
		svc := c.Labels[ServiceLabel]
		inProject := false
		if p != nil {
			_, inProject = p.Services[svc]
		}
		if inProject && c.Labels[OneoffLabel] != "True" {
			byService[svc] = append(byService[svc], c)
		} else {
			others = append(others, c)
		}
	}
	if err := e.removeContainers(ctx, others, timeout, volumes); err != nil {
		return err
	}
	if p == nil {
		return nil
	}
	return graph.InDependencyOrder(ctx, p, func(ctx context.Context, name string, _ types.ServiceConfig) error {
		return e.removeContainers(ctx, byService[name], timeout, volumes)
	}, graph.InReverseOrder)
}
