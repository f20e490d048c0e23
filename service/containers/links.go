package containers

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/berth-project/berth/service/networks"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Legacy links (--link, HostConfig.Links) of containers on the default
// bridge, as dockerd's daemon/links: /etc/hosts entries, the environment
// variables of the linked container, inspect's "/child:/parent/alias"
// and DELETE /containers/{parent}/{alias}?link=1. The record keeps each
// link as "<child ID>:<alias>", so renames of either side keep it.

// parseLink is dockerd's opts.ParseLink: name[:alias], or the
// "/child:/parent/alias" form inspect shows.
func parseLink(l string) (name, alias string, err error) {
	if l == "" {
		return "", "", errors.New("empty string specified for links")
	}
	f := strings.Split(l, ":")
	switch {
	case len(f) > 2:
		return "", "", errors.New("bad format for links: " + l)
	case len(f) == 1:
		return l, l, nil
	case strings.HasPrefix(f[0], "/"):
		_, alias := path.Split(f[1])
		return f[0][1:], alias, nil
	}
	return f[0], f[1], nil
}

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
		name, alias, err := parseLink(l)
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
		name, alias, err := parseLink(l)
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
		env = append(env, linkEnvVars(full, ip, childEnv, ports)...)
	}
	return env, nil
}

// linkEnvVars is dockerd's links.Link.ToEnv for the link named full
// ("/parent/alias") to a container at ip.
func linkEnvVars(full, ip string, childEnv []string, ports []network.Port) []string {
	_, n := path.Split(full)
	alias := strings.ReplaceAll(strings.ToUpper(n), "-", "_")
	sort.Slice(ports, func(i, j int) bool { return tcpFirst(ports[i], ports[j]) })
	var env []string
	var start, end network.Port
	for i, p := range ports {
		if i == 0 {
			start, end = p, p
			env = append(env, fmt.Sprintf("%s_PORT=%s://%s:%d", alias, p.Proto(), ip, p.Num()))
		}
		prefix := fmt.Sprintf("%s_PORT_%d_%s", alias, p.Num(), strings.ToUpper(string(p.Proto())))
		env = append(env, fmt.Sprintf("%s=%s://%s:%d", prefix, p.Proto(), ip, p.Num()),
			fmt.Sprintf("%s_ADDR=%s", prefix, ip), fmt.Sprintf("%s_PORT=%d", prefix, p.Num()), fmt.Sprintf("%s_PROTO=%s", prefix, p.Proto()))
		if int(p.Num()) == int(end.Num())+1 && strings.EqualFold(string(p.Proto()), string(start.Proto())) {
			end = p
			if i < len(ports)-1 {
				continue
			}
		}
		if end != start {
			prefix = fmt.Sprintf("%s_PORT_%d_%s", alias, start.Num(), strings.ToUpper(string(start.Proto())))
			env = append(env, fmt.Sprintf("%s_START=%s://%s:%d", prefix, start.Proto(), ip, start.Num()),
				fmt.Sprintf("%s_PORT_START=%d", prefix, start.Num()),
				fmt.Sprintf("%s_END=%s://%s:%d", prefix, end.Proto(), ip, end.Num()),
				fmt.Sprintf("%s_PORT_END=%d", prefix, end.Num()))
		}
		start, end = p, p
	}
	env = append(env, fmt.Sprintf("%s_NAME=%s", alias, full))
	for _, v := range childEnv {
		name, val, ok := strings.Cut(v, "=")
		if !ok || name == "HOME" || name == "PATH" {
			continue
		}
		env = append(env, fmt.Sprintf("%s_ENV_%s=%s", alias, name, val))
	}
	return env
}

// tcpFirst orders ports as dockerd's withTCPPriority: tcp first, then by
// protocol name, by number within a protocol.
func tcpFirst(a, b network.Port) bool {
	pa, pb := strings.ToLower(string(a.Proto())), strings.ToLower(string(b.Proto()))
	switch {
	case pa == pb:
		return a.Num() < b.Num()
	case pa == "tcp":
		return true
	case pb == "tcp":
		return false
	}
	return pa < pb
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
		if _, a, err := parseLink(l); err == nil && a == alias && !found {
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
		for _, n := range netOrder(parent) {
			if ep := parent.Networks[n].Endpoint; ep != nil {
				eps = append(eps, ep)
			}
		}
		_ = s.writeNetFiles(parent, eps, false)
	}
	return s.save(parent)
}
