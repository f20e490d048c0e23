package networking

import (
	"fmt"
	"path"
	"strings"

	"github.com/berth-project/berth/service/networks"
	"github.com/berth-project/berth/service/networks/sandbox"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// Legacy links (--link, HostConfig.Links) of containers on the default
// bridge, as dockerd's daemon/links (package sandbox makes their hosts
// lines and variables): inspect's "/child:/parent/alias"
// and DELETE /containers/{parent}/{alias}?link=1. The record keeps each
// link as "<child ID>:<alias>", so renames of either side keep it.

// ResolveLinks checks a create's links (the containers must exist and
// not use the host's network; dockerd's errors) and records them by
// child ID. Links of a container on a user-defined network are endpoint
// links, left as they are (dockerd ignores them here too).
func (s *Service) ResolveLinks(hc *container.HostConfig) error {
	if hc.NetworkMode.IsUserDefined() {
		return nil
	}
	resolved := make([]string, 0, len(hc.Links))
	for _, l := range hc.Links {
		name, alias, err := sandbox.ParseLink(l)
		if err != nil {
			return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
		}
		child, err := s.containers.Peer(name)
		if err != nil {
			return fmt.Errorf("could not get container for %s: %v: %w", name, strings.TrimSuffix(err.Error(), ": "+errdefs.ErrNotFound.Error()), errdefs.ErrInvalidArgument)
		}
		for child.Mode.IsContainer() {
			cid := child.Mode.ConnectedContainer()
			if child, err = s.containers.Peer(cid); err != nil {
				return fmt.Errorf("could not get container for %s: %w", cid, errdefs.ErrInvalidArgument)
			}
		}
		if child.Mode.IsHost() {
			return fmt.Errorf("conflicting options: host type networking can't be used with links. This would result in undefined behavior: %w", errdefs.ErrInvalidArgument)
		}
		resolved = append(resolved, child.ID+":"+alias)
	}
	if len(hc.Links) > 0 {
		hc.Links = resolved
	}
	return nil
}

// link is one legacy link of a container.
type link struct {
	child Peer
	alias string
}

// links resolves c's legacy links (children that are gone are skipped).
func (s *Service) links(c *Container) []link {
	if c.HostConfig == nil || c.HostConfig.NetworkMode.IsUserDefined() {
		return nil
	}
	var out []link
	for _, l := range c.HostConfig.Links {
		name, alias, err := sandbox.ParseLink(l)
		if err != nil {
			continue
		}
		if child, err := s.containers.Peer(name); err == nil {
			out = append(out, link{child, alias})
		}
	}
	return out
}

// InspectHostConfig is c's HostConfig as inspect shows it: the links as
// dockerd lists them, "/child:/parent/alias" (null without any).
func (s *Service) InspectHostConfig(c *Container) *container.HostConfig {
	if c.HostConfig == nil || len(c.HostConfig.Links) == 0 || c.HostConfig.NetworkMode.IsUserDefined() {
		return c.HostConfig
	}
	hc := *c.HostConfig
	hc.Links = nil
	for _, l := range s.links(c) {
		hc.Links = append(hc.Links, l.child.Name+":"+path.Join(c.Name, l.alias))
	}
	return &hc
}

// linkEnv is the environment dockerd gives a container for its links
// (daemon/links.ToEnv): ALIAS_NAME, ALIAS_PORT and ALIAS_PORT_<port>_<PROTO>
// with _ADDR, _PORT, _PROTO (and _START/_END for ranges), ALIAS_ENV_<VAR>.
// Every linked container must run.
func (s *Service) linkEnv(c *Container) ([]string, error) {
	var env []string
	for _, l := range s.links(c) {
		full := path.Join(c.Name, l.alias)
		if !l.child.Running {
			return nil, fmt.Errorf("Cannot link to a non running container: %s AS %s", l.child.Name, full)
		}
		if !l.child.OnBridge {
			return nil, fmt.Errorf("container %s not attached to default bridge network", l.child.ID)
		}
		env = append(env, sandbox.LinkEnv(full, l.child.BridgeIP.String(), l.child.Env, l.child.Exposed)...)
	}
	return env, nil
}

// WithLinkEnv is c's Config for the runtime: the link variables first,
// the container's own environment over them (dockerd's
// CreateDaemonEnvironment).
func (s *Service) WithLinkEnv(c *Container) (*container.Config, error) {
	env, err := s.linkEnv(c)
	if err != nil || len(env) == 0 {
		return c.Config, err
	}
	cfg := *c.Config
	for _, e := range c.Config.Env {
		k, _, _ := strings.Cut(e, "=")
		replaced := false
		for i, le := range env {
			if lk, _, _ := strings.Cut(le, "="); lk == k {
				env[i], replaced = e, true
			}
		}
		if !replaced {
			env = append(env, e)
		}
	}
	cfg.Env = env
	return &cfg, nil
}

// RemoveLink removes c's legacy link alias (DELETE
// /containers/{name}?link=1) and reports whether c had it. A running
// c's /etc/hosts loses the entry; its environment stays until the next
// start. The caller saves c's record.
func (s *Service) RemoveLink(c *Container, running bool, alias string) bool {
	var kept []string
	found := false
	for _, l := range c.HostConfig.Links {
		if _, a, err := sandbox.ParseLink(l); err == nil && a == alias && !found {
			found = true
			continue
		}
		kept = append(kept, l)
	}
	if !found {
		return false
	}
	c.HostConfig.Links = kept
	if running {
		var eps []*networks.Endpoint
		for _, n := range sandbox.Order(c.HostConfig, c.Networks) {
			if ep := c.Networks[n].Endpoint; ep != nil {
				eps = append(eps, ep)
			}
		}
		_ = s.WriteFiles(c, eps, false)
	}
	return true
}
