package compose

import (
	"context"
	"fmt"

	"github.com/compose-spec/compose-go/v2/graph"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// eachService visits the project's services (or those named) in
// dependency order, or in reverse for stops.
func eachService(ctx context.Context, p *types.Project, services []string, reverse bool, fn func(ctx context.Context, s types.ServiceConfig) error) error {
	if len(services) > 0 {
		var err error
		if p, err = p.WithSelectedServices(services, types.IgnoreDependencies); err != nil {
			return err
		}
	}
	var opts []func(*graph.Options)
	if reverse {
		opts = append(opts, graph.InReverseOrder)
	}
	return graph.InDependencyOrder(ctx, p, func(ctx context.Context, _ string, s types.ServiceConfig) error { return fn(ctx, s) }, opts...)
}

// Start starts the existing containers of the project's services.
func (e *Engine) Start(ctx context.Context, p *types.Project, services []string) error {
	return eachService(ctx, p, services, false, func(ctx context.Context, s types.ServiceConfig) error {
		if err := e.waitDependencies(ctx, p, s); err != nil {
			return err
		}
		cs, err := e.containers(ctx, p.Name, false, s.Name)
		if err != nil {
			return err
		}
		if len(cs) == 0 && contains(services, s.Name) {
			return fmt.Errorf("service %q has no container to start", s.Name)
		}
		for _, c := range cs {
			if c.State == container.StateRunning {
				continue
			}
			if err := e.startContainer(ctx, name(c), c.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// Stop stops the running containers of a project (or of its named
// services), dependents first.
func (e *Engine) Stop(ctx context.Context, p *types.Project, services []string, timeout *int) error {
	return eachService(ctx, p, services, true, func(ctx context.Context, s types.ServiceConfig) error {
		cs, err := e.containers(ctx, p.Name, false, s.Name)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.State != container.StateRunning && c.State != container.StatePaused && c.State != container.StateRestarting {
				continue
			}
			ev := containerID(name(c))
			e.progress.Event(ev, "Stopping", "")
			if _, err := e.api.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: timeout}); err != nil {
				e.progress.Event(ev, "Error", err.Error())
				return err
			}
			e.progress.Event(ev, "Stopped", "")
		}
		return nil
	})
}

// Restart restarts the project's containers (or its named services', and
// those that depend on them with depends_on's restart: true).
func (e *Engine) Restart(ctx context.Context, p *types.Project, services []string, timeout *int) error {
	if len(services) > 0 {
		services = withRestartDependents(p, services)
	}
	return eachService(ctx, p, services, false, func(ctx context.Context, s types.ServiceConfig) error {
		cs, err := e.containers(ctx, p.Name, false, s.Name)
		if err != nil {
			return err
		}
		for _, c := range cs {
			ev := containerID(name(c))
			e.progress.Event(ev, "Restarting", "")
			if _, err := e.api.ContainerRestart(ctx, c.ID, client.ContainerRestartOptions{Timeout: timeout}); err != nil {
				e.progress.Event(ev, "Error", err.Error())
				return err
			}
			e.progress.Event(ev, "Started", "")
		}
		return nil
	})
}

// Kill sends signal to the project's running containers.
func (e *Engine) Kill(ctx context.Context, project string, services []string, signal string) error {
	cs, err := e.containers(ctx, project, false, services...)
	if err != nil {
		return err
	}
	n := 0
	for _, c := range cs {
		if c.State != container.StateRunning {
			continue
		}
		n++
		ev := containerID(name(c))
		e.progress.Event(ev, "Killing", "")
		if _, err := e.api.ContainerKill(ctx, c.ID, client.ContainerKillOptions{Signal: signal}); err != nil {
			e.progress.Event(ev, "Error", err.Error())
			return err
		}
		e.progress.Event(ev, "Killed", "")
	}
	if n == 0 {
		return fmt.Errorf("no container to kill")
	}
	return nil
}

// Pause pauses (or, with unpause, unpauses) the project's containers.
func (e *Engine) Pause(ctx context.Context, project string, services []string, unpause bool) error {
	cs, err := e.containers(ctx, project, false, services...)
	if err != nil {
		return err
	}
	for _, c := range cs {
		ev := containerID(name(c))
		if unpause {
			if c.State != container.StatePaused {
				continue
			}
			if _, err := e.api.ContainerUnpause(ctx, c.ID, client.ContainerUnpauseOptions{}); err != nil {
				return err
			}
			e.progress.Event(ev, "Unpaused", "")
			continue
		}
		if c.State != container.StateRunning {
			continue
		}
		if _, err := e.api.ContainerPause(ctx, c.ID, client.ContainerPauseOptions{}); err != nil {
			return err
		}
		e.progress.Event(ev, "Paused", "")
	}
	return nil
}

// Stopped lists the project's containers that are not running, for rm.
func (e *Engine) Stopped(ctx context.Context, project string, services []string) ([]container.Summary, error) {
	cs, err := e.containers(ctx, project, false, services...)
	if err != nil {
		return nil, err
	}
	var out []container.Summary
	for _, c := range cs {
		if c.State != container.StateRunning && c.State != container.StatePaused && c.State != container.StateRestarting {
			out = append(out, c)
		}
	}
	return out, nil
}

// Remove stops and removes containers, with their anonymous volumes when volumes says so.
func (e *Engine) Remove(ctx context.Context, cs []container.Summary, volumes bool) error {
	return e.removeContainers(ctx, cs, nil, volumes)
}

// Containers lists a project's containers for ps: those of the named
// services, stopped ones only with all.
func (e *Engine) Containers(ctx context.Context, project string, services []string, all bool) ([]container.Summary, error) {
	cs, err := e.containers(ctx, project, false, services...)
	if err != nil {
		return nil, err
	}
	if all {
		return cs, nil
	}
	var out []container.Summary
	for _, c := range cs {
		if c.State == container.StateRunning || c.State == container.StatePaused || c.State == container.StateRestarting {
			out = append(out, c)
		}
	}
	return out, nil
}

// withRestartDependents adds to services those that depend on one of
// them with restart: true, transitively.
func withRestartDependents(p *types.Project, services []string) []string {
	out := append([]string(nil), services...)
	for i := 0; i < len(out); i++ {
		s, err := p.GetService(out[i])
		if err != nil {
			continue
		}
		for _, dep := range p.GetDependentsForService(s, func(d types.ServiceDependency) bool { return d.Restart }) {
			if !contains(out, dep) {
				out = append(out, dep)
			}
		}
	}
	return out
}
