package compose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// RunOptions are `compose run`'s choices for its one-off container.
type RunOptions struct {
	Name             string   // --name; else project-service-run-<slug>
	Command          []string // the command line after the service; empty: the service's
	Entrypoint       []string // --entrypoint
	Env              []string // -e
	Labels           map[string]string
	User, Workdir    string
	Volumes          []string        // -v, binds
	Exposed          network.PortSet // -p, parsed as docker run's
	Published        network.PortMap
	ServicePorts     bool // --service-ports: the service's published ports too
	UseAliases       bool // the service's network aliases too
	NoDeps           bool // do not start the services it depends on
	AutoRemove       bool // --rm
	Detach           bool
	TTY, Interactive bool
	Build            func(ctx context.Context, s types.ServiceConfig) error
}

// CreateOneOff creates the one-off container of `compose run`, after the
// project's networks and volumes and, unless NoDeps, the services it
// depends on are up. It returns the container's ID, name and config.
func (e *Engine) CreateOneOff(ctx context.Context, p *types.Project, service string, o RunOptions) (string, string, *container.Config, error) {
	s, err := p.GetService(service)
	if err != nil {
		return "", "", nil, fmt.Errorf("no such service: %s", service)
	}
	if !o.NoDeps && len(s.DependsOn) > 0 {
		var deps []string
		for d := range s.DependsOn {
			deps = append(deps, d)
		}
		if err := e.Up(ctx, p, UpOptions{Services: deps, Build: o.Build}); err != nil {
			return "", "", nil, err
		}
	} else {
		if err := e.ensureNetworks(ctx, p); err != nil {
			return "", "", nil, err
		}
		if err := e.ensureVolumes(ctx, p); err != nil {
			return "", "", nil, err
		}
	}
	if err := e.waitDependencies(ctx, p, s); err != nil && !o.NoDeps {
		return "", "", nil, err
	}
	if s.Build != nil && o.Build != nil {
		if err := o.Build(ctx, s); err != nil {
			return "", "", nil, err
		}
	}
	if !o.ServicePorts {
		s.Ports = nil
	}
	s.Restart = ""
	if s.Deploy != nil {
		d := *s.Deploy
		d.RestartPolicy = nil
		s.Deploy = &d
	}
	if len(o.Command) > 0 {
		s.Command = o.Command
	}
	if o.Entrypoint != nil {
		s.Entrypoint = o.Entrypoint
	}
	slug := newSlug()
	cc, err := containerConfig(p, s, 0, true)
	if err != nil {
		return "", "", nil, err
	}
	cc.Name = o.Name
	if cc.Name == "" {
		cc.Name = fmt.Sprintf("%s-%s-run-%s", p.Name, s.Name, slug[:12])
	}
	cc.Config.Labels[SlugLabel] = slug
	for k, v := range o.Labels {
		cc.Config.Labels[k] = v
	}
	cc.Config.Env = append(cc.Config.Env, o.Env...)
	if o.User != "" {
		cc.Config.User = o.User
	}
	if o.Workdir != "" {
		cc.Config.WorkingDir = o.Workdir
	}
	cc.Config.Tty = o.TTY
	cc.Config.OpenStdin = o.Interactive
	cc.Config.AttachStdin = o.Interactive && !o.Detach
	cc.Config.StdinOnce = o.Interactive && !o.Detach
	cc.Config.AttachStdout, cc.Config.AttachStderr = !o.Detach, !o.Detach
	cc.HostConfig.AutoRemove = o.AutoRemove
	cc.HostConfig.Binds = append(cc.HostConfig.Binds, o.Volumes...)
	if len(o.Published) > 0 {
		if cc.Config.ExposedPorts == nil {
			cc.Config.ExposedPorts = network.PortSet{}
		}
		if cc.HostConfig.PortBindings == nil {
			cc.HostConfig.PortBindings = network.PortMap{}
		}
		for k := range o.Exposed {
			cc.Config.ExposedPorts[k] = struct{}{}
		}
		for k, v := range o.Published {
			cc.HostConfig.PortBindings[k] = append(cc.HostConfig.PortBindings[k], v...)
		}
	}
	if cc.Networking != nil && !o.UseAliases {
		for _, ep := range cc.Networking.EndpointsConfig {
			ep.Aliases = nil
		}
	}
	opts := client.ContainerCreateOptions{Name: cc.Name, Config: cc.Config, HostConfig: cc.HostConfig, NetworkingConfig: cc.Networking}
	res, err := e.api.ContainerCreate(ctx, opts)
	if err != nil {
		return "", "", nil, err
	}
	if err := e.injectFiles(ctx, p, s, res.ID); err != nil {
		_, _ = e.api.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true})
		return "", "", nil, err
	}
	return res.ID, cc.Name, cc.Config, nil
}

func newSlug() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
