package sandbox

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/network"
)

// Legacy links (--link, HostConfig.Links) of containers on the default
// bridge, as dockerd's daemon/links: /etc/hosts entries and the
// environment variables of the linked container.

// ParseLink is dockerd's opts.ParseLink: name[:alias], or the
// "/child:/parent/alias" form inspect shows.
func ParseLink(l string) (name, alias string, err error) {
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

// LinkEnv is dockerd's links.Link.ToEnv for the link named full
// ("/parent/alias") to a container at ip.
func LinkEnv(full, ip string, childEnv []string, ports []network.Port) []string {
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

// LinkHostsLine is the hosts line of a link on the default bridge, as
// dockerd's addLegacyLinks: the alias, the linked container's hostname,
// its name if that is not the alias.
func LinkHostsLine(ip netip.Addr, alias string, linked Owner) string {
	names := []string{alias, linked.Hostname}
	if linked.Name != alias {
		names = append(names, linked.Name)
	}
	return ip.String() + "\t" + strings.Join(names, " ") + "\n"
}
