package containers

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/berth-project/berth/service/networks"
	"github.com/berth-project/berth/service/networks/sandbox"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Legacy links (--link, HostConfig.Links) of containers on the default
// bridge, as dockerd's daemon/links (package sandbox makes their hosts
// lines and variables): inspect's "/child:/parent/alias"
// and DELETE /containers/{parent}/{alias}?link=1. The record keeps each
// link as "<child ID>:<alias>", so renames of either side keep it.

// resolveLinks checks a create's links (the containers must exist and
// not use the host's network; dockerd's errors) and records them by
// child ID. Links of a container on a user-defined network are endpoint
// links, left as they are (dockerd ignores them here too).
func (s *Service) resolveLinks(hc *container.HostConfig) error {
	if hc.NetworkMode.IsUserDefined() {
		return nil
	}
	resolved := make([]string, 0, len(hc.Links))
	for _, l := range hc.Links {
		name, alias, err := sandbox.ParseLink(l)
		if err != nil {
			return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
		}
		child, err := s.Get(name)
		if err != nil {
			return fmt.Errorf("could not get container for %s: %v: %w", name, strings.TrimSuffix(err.Error(), ": "+errdefs.ErrNotFound.Error()), errdefs.ErrInvalidArgument)
		}
		for child.HostConfig.NetworkMode.IsContainer() {
			cid := child.HostConfig.NetworkMode.ConnectedContainer()
			if child, err = s.Get(cid); err != nil {
				return fmt.Errorf("could not get container for %s: %w", cid, errdefs.ErrInvalidArgument)
			}
		}
		if child.HostConfig.NetworkMode.IsHost() {
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
	child *Container
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
		if child, err := s.Get(name); err == nil {
			out = append(out, link{child, alias})
		}
	}
	return out
}

// inspectHostConfig is c's HostConfig as inspect shows it: the links as
// dockerd lists them, "/child:/parent/alias" (null without any).
func (s *Service) inspectHostConfig(c *Container) *container.HostConfig {
	if c.HostConfig == nil || len(c.HostConfig.Links) == 0 || c.HostConfig.NetworkMode.IsUserDefined() {
		return c.HostConfig
	}
	hc := *c.HostConfig
	hc.Links = nil
	for _, l := range s.links(c) {
		l.child.mu.Lock()
		name := l.child.Name
		l.child.mu.Unlock()
		hc.Links = append(hc.Links, name+":"+path.Join(c.Name, l.alias))
	}
	return &hc
}

// linkEnv is the environment dockerd gives a container for its links
// (daemon/links.ToEnv): ALIAS_NAME, ALIAS_PORT and ALIAS_PORT_<port>_<PROTO>
// with _ADDR, _PORT, _PROTO (and _START/_END for ranges), ALIAS_ENV_<VAR>.
// Every linked container must run. Callers hold c.mu.
func (s *Service) linkEnv(c *Container) ([]string, error) {
	var env []string
	for _, l := range s.links(c) {
		full := path.Join(c.Name, l.alias)
		l.child.mu.Lock()
		running, name := l.child.running(), l.child.Name
		var ip string
		if cfg := l.child.Networks[network.NetworkBridge]; cfg != nil && cfg.Endpoint != nil {
			ip = cfg.Endpoint.IP.String()
		}
		childEnv := append([]string{}, l.child.Config.Env...)
		var ports []network.Port
		for p := range l.child.Config.ExposedPorts {
			ports = append(ports, p)
		}
		l.child.mu.Unlock()
		if !running {
			return nil, fmt.Errorf("Cannot link to a non running container: %s AS %s", name, full)
		}
		if ip == "" {
			return nil, fmt.Errorf("container %s not attached to default bridge network", l.child.ID)
		}
		env = append(env, sandbox.LinkEnv(full, ip, childEnv, ports)...)
	}
	return env, nil
}

// withLinkEnv is c's Config for the runtime: the link variables first,
// the container's own environment over them (dockerd's
// CreateDaemonEnvironment). Callers hold c.mu.
func (s *Service) withLinkEnv(c *Container) (*container.Config, error) {
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

// RemoveLink removes the legacy link name ("/parent/alias" or
// "parent/alias"), dockerd's DELETE /containers/{name}?link=1. A running
// parent's /etc/hosts loses the entry; its environment stays until the
// next start.
func (s *Service) RemoveLink(name string) error {
	ref := name
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	parentName, alias := path.Split(name)
	if parentName == "/" {
		if _, err := s.Get(ref); err != nil {
			return err
		}
		return errors.New("Conflict, cannot remove the default link name of the container")
	}
	parent, err := s.Get(strings.TrimSuffix(parentName, "/"))
	if err != nil {
		return NotFound(ref)
	}
	parent.mu.Lock()
	defer parent.mu.Unlock()
	if parent.HostConfig == nil {
		return NotFound(ref)
	}
	var kept []string
	found := false
	for _, l := range parent.HostConfig.Links {
		if _, a, err := sandbox.ParseLink(l); err == nil && a == alias && !found {
			found = true
			continue
		}
		kept = append(kept, l)
	}
	if !found {
		return NotFound(ref)
	}
	parent.HostConfig.Links = kept
	if parent.running() {
		var eps []*networks.Endpoint
		for _, n := range sandbox.Order(parent.HostConfig, parent.Networks) {
			if ep := parent.Networks[n].Endpoint; ep != nil {
				eps = append(eps, ep)
			}
		}
		_ = s.writeNetFiles(parent, eps, false)
	}
	return s.save(parent)
}
