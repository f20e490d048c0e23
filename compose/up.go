package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/graph"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// UpOptions are `compose up`'s (and `compose create`'s) choices.
type UpOptions struct {
	Services      []string       // only these (and, unless NoDeps, what they depend on)
	NoDeps        bool           // not their dependencies
	ForceRecreate bool           // recreate containers even when their config did not change
	NoRecreate    bool           // never recreate an existing container
	RemoveOrphans bool           // remove containers of services the project no longer has
	NoStart       bool           // create only (compose create)
	Scale         map[string]int // --scale SERVICE=N
	Timeout       *int           // -t: seconds to wait for a replaced container to stop
	Wait          bool           // wait for the services to be running or healthy
	WaitTimeout   time.Duration
	Build         func(ctx context.Context, s types.ServiceConfig) error // builds a service's image; nil: no builds
	PullOut       io.Writer                                              // where pulls report; nil: progress only
}

// Up creates, recreates and starts the project's services in dependency
// order, as `docker compose up -d` does: a container whose config hash or
// image changed is recreated, a stopped one started, a missing one created.
func (e *Engine) Up(ctx context.Context, p *types.Project, o UpOptions) error {
	if len(o.Services) > 0 {
		dep := types.IncludeDependencies
		if o.NoDeps {
			dep = types.IgnoreDependencies
		}
		var err error
		if p, err = p.WithSelectedServices(o.Services, dep); err != nil {
			return err
		}
	}
	for _, s := range p.Services {
		if s.ContainerName != "" && replicas(s, o.Scale) > 1 {
			return fmt.Errorf("services.%s: can't set container_name and %s as container name must be unique: invalid compose project", s.Name, s.Name)
		}
	}
	all, err := e.containers(ctx, p.Name, false)
	if err != nil {
		return err
	}
	if orph := orphans(p, all); len(orph) > 0 {
		if o.RemoveOrphans {
			if err := e.removeContainers(ctx, orph, o.Timeout, false); err != nil {
				return err
			}
		} else {
			e.progress.Event("", "", fmt.Sprintf("Found orphan containers (%v) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.", names(orph)))
		}
	}
	if err := checkFiles(p); err != nil {
		return err
	}
	if !o.NoStart {
		if err := e.checkPorts(ctx, p); err != nil {
			return err
		}
	}
	if err := e.ensureNetworks(ctx, p); err != nil {
		return err
	}
	if err := e.ensureVolumes(ctx, p); err != nil {
		return err
	}
	err = graph.InDependencyOrder(ctx, p, func(ctx context.Context, _ string, s types.ServiceConfig) error {
		if !o.NoStart {
			if err := e.waitDependencies(ctx, p, s); err != nil {
				return err
			}
		}
		return e.converge(ctx, p, s, o)
	})
	if err != nil {
		return err
	}
	if o.Wait && !o.NoStart {
		return e.waitReady(ctx, p, o.WaitTimeout)
	}
	return nil
}

// converge brings one service to its wanted containers.
func (e *Engine) converge(ctx context.Context, p *types.Project, s types.ServiceConfig, o UpOptions) error {
	if s.Build != nil && o.Build != nil {
		if err := o.Build(ctx, s); err != nil {
			return err
		}
	}
	if s.PullPolicy == types.PullPolicyAlways && s.Image != "" && s.Build == nil {
		if err := e.pull(ctx, s, o.PullOut); err != nil {
			return err
		}
	}
	if startFirst(s) && e.fe.served(ctx) {
		return e.convergeStartFirst(ctx, p, s, o)
	}
	existing, err := e.containers(ctx, p.Name, false, s.Name)
	if err != nil {
		return err
	}
	current, err := e.upToDate(ctx, p, s, o)
	if err != nil {
		return err
	}
	want := replicas(s, o.Scale)
	have := map[int]bool{}
	for _, c := range existing {
		n := number(c)
		switch {
		case n > want || have[n]: // scaled down, or a duplicate number
			if err := e.removeContainers(ctx, []container.Summary{c}, o.Timeout, false); err != nil {
				return err
			}
			continue
		case !current(c):
			if err := e.recreate(ctx, p, s, c, n, o); err != nil {
				return err
			}
		case o.NoStart:
		case c.State == container.StateRunning:
			e.progress.Event(containerID(name(c)), "Running", "")
		default:
			if err := e.startContainer(ctx, name(c), c.ID); err != nil {
				return err
			}
		}
		have[n] = true
	}
	for n := 1; n <= want; n++ {
		if have[n] {
			continue
		}
		id, cname, err := e.createContainer(ctx, p, s, n, "", o.PullOut)
		if err != nil {
			return err
		}
		if !o.NoStart {
			if err := e.startContainer(ctx, cname, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// upToDate tells whether a container of s has the service's config hash
// and image, as up's options say (--no-recreate: always, --force-recreate:
// never).
func (e *Engine) upToDate(ctx context.Context, p *types.Project, s types.ServiceConfig, o UpOptions) (func(container.Summary) bool, error) {
	hash, err := ServiceHash(s)
	if err != nil {
		return nil, err
	}
	imageID := ""
	if img, err := e.api.ImageInspect(ctx, ImageName(p, s)); err == nil {
		imageID = img.ID
	}
	return func(c container.Summary) bool {
		return o.NoRecreate || (!o.ForceRecreate && c.Labels[ConfigHashLabel] == hash && (imageID == "" || c.ImageID == imageID))
	}, nil
}

// createContainer creates a service's number'th container, pulling its
// image when it is missing. replaces names the container it replaces.
func (e *Engine) createContainer(ctx context.Context, p *types.Project, s types.ServiceConfig, n int, replaces string, pullOut io.Writer) (string, string, error) {
	cc, err := containerConfig(p, s, n, false)
	if err != nil {
		return "", "", err
	}
	if replaces != "" {
		cc.Config.Labels[ReplaceLabel] = replaces
	}
	if img, err := e.api.ImageInspect(ctx, cc.Config.Image); err == nil {
		cc.Config.Labels[ImageDigestLabel] = img.ID
	}
	id := containerID(cc.Name)
	if replaces == "" {
		e.progress.Event(id, "Creating", "")
	}
	opts := client.ContainerCreateOptions{Name: cc.Name, Config: cc.Config, HostConfig: cc.HostConfig, NetworkingConfig: cc.Networking}
	res, err := e.api.ContainerCreate(ctx, opts)
	if err != nil && errdefs.IsNotFound(err) && strings.Contains(err.Error(), "No such image") && s.PullPolicy != types.PullPolicyNever && s.Build == nil {
		if perr := e.pull(ctx, s, pullOut); perr != nil {
			return "", "", perr
		}
		res, err = e.api.ContainerCreate(ctx, opts)
	}
	if err == nil {
		if err = e.injectFiles(ctx, p, s, res.ID); err != nil {
			_, _ = e.api.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true})
		}
	}
	if err != nil {
		e.progress.Event(id, "Error", err.Error())
		return "", "", err
	}
	if replaces == "" {
		e.progress.Event(id, "Created", "")
	}
	return res.ID, cc.Name, nil
}

// recreate replaces a container whose config changed: the old one stops
// and steps aside under a temporary name, the new one takes its name,
// the old one goes.
func (e *Engine) recreate(ctx context.Context, p *types.Project, s types.ServiceConfig, old container.Summary, n int, o UpOptions) error {
	oldName := name(old)
	ev := containerID(oldName)
	e.progress.Event(ev, "Recreate", "")
	timeout := o.Timeout
	if timeout == nil {
		timeout = seconds(s.StopGracePeriod)
	}
	if !o.NoStart {
		if err := e.stopRestartDependents(ctx, p, s, o.Timeout); err != nil {
			return err
		}
	}
	if _, err := e.api.ContainerStop(ctx, old.ID, client.ContainerStopOptions{Timeout: timeout}); err != nil {
		return err
	}
	if _, err := e.api.ContainerRename(ctx, old.ID, client.ContainerRenameOptions{NewName: old.ID[:12] + "_" + oldName}); err != nil {
		return err
	}
	id, cname, err := e.createContainer(ctx, p, s, n, old.ID, o.PullOut)
	if err != nil {
		return err
	}
	if _, err := e.api.ContainerRemove(ctx, old.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	e.progress.Event(ev, "Recreated", "")
	if o.NoStart {
		return nil
	}
	return e.startContainer(ctx, cname, id)
}

// stopRestartDependents stops the running containers of the services that
// depend on s with restart: true before s is recreated, as Docker Compose
// does; converging them afterwards, in dependency order, starts them again.
func (e *Engine) stopRestartDependents(ctx context.Context, p *types.Project, s types.ServiceConfig, timeout *int) error {
	deps := p.GetDependentsForService(s, func(d types.ServiceDependency) bool { return d.Restart })
	if len(deps) == 0 {
		return nil
	}
	cs, err := e.containers(ctx, p.Name, false, deps...)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.State != container.StateRunning {
			continue
		}
		ev := containerID(name(c))
		e.progress.Event(ev, "Stopping", "")
		t := timeout
		if t == nil {
			if ds, err := p.GetService(c.Labels[ServiceLabel]); err == nil {
				t = seconds(ds.StopGracePeriod)
			}
		}
		if _, err := e.api.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: t}); err != nil {
			return err
		}
		e.progress.Event(ev, "Stopped", "")
	}
	return nil
}

func (e *Engine) startContainer(ctx context.Context, cname, id string) error {
	ev := containerID(cname)
	e.progress.Event(ev, "Starting", "")
	if _, err := e.api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		e.progress.Event(ev, "Error", err.Error())
		return err
	}
	e.progress.Event(ev, "Started", "")
	return nil
}

// waitDependencies waits for what s depends on: its containers started
// (service_started), healthy (service_healthy), or exited 0
// (service_completed_successfully).
func (e *Engine) waitDependencies(ctx context.Context, p *types.Project, s types.ServiceConfig) error {
	for dep, d := range s.DependsOn {
		if _, ok := p.Services[dep]; !ok {
			if d.Required {
				return fmt.Errorf("service %q depends on undefined service %q: invalid compose project", s.Name, dep)
			}
			continue
		}
		switch d.Condition {
		case types.ServiceConditionHealthy, types.ServiceConditionCompletedSuccessfully:
		default:
			continue
		}
		cs, err := e.containers(ctx, p.Name, false, dep)
		if err != nil {
			return err
		}
		for _, c := range cs {
			ev := containerID(name(c))
			e.progress.Event(ev, "Waiting", "")
			if err := e.waitFor(ctx, c.ID, d.Condition); err != nil {
				e.progress.Event(ev, "Error", err.Error())
				return err
			}
			if d.Condition == types.ServiceConditionHealthy {
				e.progress.Event(ev, "Healthy", "")
			} else {
				e.progress.Event(ev, "Exited", "")
			}
		}
	}
	return nil
}

// waitFor polls a container until it is healthy or exited 0, as the condition says.
func (e *Engine) waitFor(ctx context.Context, id, condition string) error {
	for {
		res, err := e.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		st := res.Container.State
		cname := strings.TrimPrefix(res.Container.Name, "/")
		switch condition {
		case types.ServiceConditionHealthy:
			if st.Health == nil {
				return fmt.Errorf("container %s has no healthcheck configured", cname)
			}
			if st.Health.Status == container.Healthy {
				return nil
			}
			if st.Health.Status == container.Unhealthy {
				return fmt.Errorf("dependency failed to start: container %s is unhealthy", cname)
			}
			if !st.Running {
				return fmt.Errorf("dependency failed to start: container %s exited (%d)", cname, st.ExitCode)
			}
		case types.ServiceConditionCompletedSuccessfully:
			if !st.Running && st.Status == container.StateExited {
				if st.ExitCode != 0 {
					return fmt.Errorf("service %q didn't complete successfully: exit %d", res.Container.Config.Labels[ServiceLabel], st.ExitCode)
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitReady waits until every container of the project runs (and is
// healthy if it has a healthcheck), for up --wait.
func (e *Engine) waitReady(ctx context.Context, p *types.Project, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cs, err := e.containers(ctx, p.Name, false, p.ServiceNames()...)
	if err != nil {
		return err
	}
	for _, c := range cs {
		ev := containerID(name(c))
		e.progress.Event(ev, "Waiting", "")
		for {
			res, err := e.api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
			if err != nil {
				return err
			}
			st := res.Container.State
			if st.Running && (st.Health == nil || st.Health.Status == container.Healthy) {
				e.progress.Event(ev, "Healthy", "")
				break
			}
			if !st.Running {
				err := fmt.Errorf("container %s exited (%d)", name(c), st.ExitCode)
				e.progress.Event(ev, "Error", err.Error())
				return err
			}
			if st.Health != nil && st.Health.Status == container.Unhealthy {
				err := fmt.Errorf("container %s is unhealthy", name(c))
				e.progress.Event(ev, "Error", err.Error())
				return err
			}
			select {
			case <-ctx.Done():
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return fmt.Errorf("timeout waiting for the project to be running and healthy")
				}
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}
