package runopts

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// parseKVFile reads an env or label file the way docker does: blank lines and
// "#" comments are skipped; a bare NAME takes its value from lookup, if given
// and set, and is dropped otherwise (labels keep bare names: lookup nil).
func parseKVFile(path string, lookup func(string) (string, bool)) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		if !utf8.ValidString(raw) {
			return nil, fmt.Errorf("invalid env file (%s): invalid utf8 bytes at line %d: %v", path, n, []byte(raw))
		}
		line := strings.TrimLeftFunc(raw, unicode.IsSpace)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, hasValue := strings.Cut(line, "=")
		if strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("variable '%s' contains whitespaces", name)
		}
		if name == "" {
			return nil, fmt.Errorf("invalid env file (%s): no variable name on line '%s'", path, line)
		}
		switch {
		case hasValue:
			lines = append(lines, name+"="+value)
		case lookup == nil:
			lines = append(lines, name)
		default:
			if v, ok := lookup(name); ok {
				lines = append(lines, name+"="+v)
			}
		}
	}
	return lines, sc.Err()
}

// Env is the environment --env-file and -e (or --env) give a container or
// an exec: the files' variables, then the -e values, in order.
func Env(envFiles, env []string) ([]string, error) {
	var out []string
	for _, f := range envFiles {
		lines, err := parseKVFile(f, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		out = append(out, lines...)
	}
	return append(out, expandEnv(env)...), nil
}

// expandEnv gives a bare -e NAME the value from the client's environment, as docker does.
func expandEnv(vals []string) []string {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if !strings.Contains(v, "=") {
			if val, ok := os.LookupEnv(v); ok {
				v = v + "=" + val
			}
		}
		out = append(out, v)
	}
	return out
}

// kvMap turns "k=v" strings into a map; a bare key maps to "".
func kvMap(vals []string) map[string]string {
	m := make(map[string]string, len(vals))
	for _, v := range vals {
		k, val, _ := strings.Cut(v, "=")
		m[k] = val
	}
	return m
}

// parseVolumes splits -v specs into HostConfig.Binds and anonymous Config.Volumes.
func parseVolumes(specs []string) (binds []string, volumes map[string]struct{}) {
	for _, spec := range specs {
		host, rest, ok := strings.Cut(spec, ":")
		if !ok || host == "" {
			if volumes == nil {
				volumes = map[string]struct{}{}
			}
			volumes[spec] = struct{}{}
			continue
		}
		if strings.HasPrefix(host, ".") {
			if abs, err := filepath.Abs(host); err == nil {
				host = abs
			}
		}
		binds = append(binds, host+":"+rest)
	}
	return binds, volumes
}

// parseTmpfs turns "--tmpfs /run:rw,size=64m" values into HostConfig.Tmpfs.
func parseTmpfs(specs []string) map[string]string {
	if len(specs) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, s := range specs {
		path, opts, _ := strings.Cut(s, ":")
		m[path] = opts
	}
	return m
}

// parseExpose adds --expose's ports and port ranges to exposed, in the
// docker CLI's words for a bad one.
func parseExpose(specs []string, exposed network.PortSet) (network.PortSet, error) {
	for _, e := range specs {
		pr, err := network.ParsePortRange(e)
		if err != nil {
			port, _, _ := strings.Cut(e, "/")
			return nil, fmt.Errorf("invalid range format for --expose: %s, error: %v", port, err)
		}
		if exposed == nil {
			exposed = network.PortSet{}
		}
		for p := range pr.All() {
			exposed[p] = struct{}{}
		}
	}
	return exposed, nil
}

// ParsePublish turns -p values into exposed ports and bindings, as docker
// run does: [ip:][hostPort:]containerPort[/proto], with equal-length
// ranges. Commands beside run use it too (compose run).
func ParsePublish(specs []string) (network.PortSet, network.PortMap, error) {
	if len(specs) == 0 {
		return nil, nil, nil
	}
	exposed := network.PortSet{}
	bindings := network.PortMap{}
	for _, spec := range specs {
		rawIP, hostPort, ctrPort := "", "", spec
		if i := strings.LastIndex(spec, ":"); i >= 0 {
			ctrPort = spec[i+1:]
			rest := spec[:i]
			if j := strings.LastIndex(rest, ":"); j >= 0 {
				rawIP, hostPort = rest[:j], rest[j+1:]
			} else {
				hostPort = rest
			}
		}
		proto := "tcp"
		if p, pr, ok := strings.Cut(ctrPort, "/"); ok {
			ctrPort, proto = p, pr
		}
		if ctrPort == "" {
			return nil, nil, fmt.Errorf("no port specified: %s<empty>", spec)
		}
		var ip netip.Addr
		if rawIP != "" {
			a, err := netip.ParseAddr(strings.Trim(rawIP, "[]"))
			if err != nil {
				return nil, nil, fmt.Errorf("invalid IP address: %s", rawIP)
			}
			ip = a
		}
		cStart, cEnd, err := parseRange(ctrPort)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid containerPort: %s", ctrPort)
		}
		var hStart, hEnd uint64
		if hostPort != "" {
			if hStart, hEnd, err = parseRange(hostPort); err != nil {
				return nil, nil, fmt.Errorf("invalid hostPort: %s", hostPort)
			}
			// a host range may differ from the container's only when
			// that is one port: the daemon picks a free one in it
			if hEnd-hStart != cEnd-cStart && cStart != cEnd {
				return nil, nil, fmt.Errorf("invalid ranges specified for container and host Ports: %s and %s", ctrPort, hostPort)
			}
		}
		for i := uint64(0); i <= cEnd-cStart; i++ {
			p, err := network.ParsePort(strconv.FormatUint(cStart+i, 10) + "/" + proto)
			if err != nil {
				return nil, nil, err
			}
			exposed[p] = struct{}{}
			hp := ""
			switch {
			case hostPort == "":
			case cStart == cEnd && hStart != hEnd:
				hp = strconv.FormatUint(hStart, 10) + "-" + strconv.FormatUint(hEnd, 10)
			default:
				hp = strconv.FormatUint(hStart+i, 10)
			}
			bindings[p] = append(bindings[p], network.PortBinding{HostIP: ip, HostPort: hp})
		}
	}
	return exposed, bindings, nil
}

func parseRange(s string) (start, end uint64, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if start, err = strconv.ParseUint(a, 10, 16); err != nil {
		return 0, 0, err
	}
	end = start
	if isRange {
		if end, err = strconv.ParseUint(b, 10, 16); err != nil {
			return 0, 0, err
		}
		if end < start {
			return 0, 0, fmt.Errorf("invalid range")
		}
	}
	return start, end, nil
}

// parseMount parses a --mount CSV value (type=bind,source=…,target=…,readonly).
func parseMount(v string) (mount.Mount, error) {
	m := mount.Mount{Type: mount.TypeVolume}
	for _, field := range strings.Split(v, ",") {
		key, val, hasVal := strings.Cut(field, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		switch key {
		case "type":
			m.Type = mount.Type(strings.ToLower(val))
		case "source", "src":
			m.Source = val
		case "target", "dst", "destination":
			m.Target = val
		case "readonly", "ro":
			ro := true
			if hasVal {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return m, fmt.Errorf("invalid value for %s: %s", key, val)
				}
				ro = b
			}
			m.ReadOnly = ro
		case "consistency":
			m.Consistency = mount.Consistency(val)
		case "bind-propagation":
			if m.BindOptions == nil {
				m.BindOptions = &mount.BindOptions{}
			}
			m.BindOptions.Propagation = mount.Propagation(val)
		case "volume-nocopy":
			if m.VolumeOptions == nil {
				m.VolumeOptions = &mount.VolumeOptions{}
			}
			m.VolumeOptions.NoCopy = !hasVal || val == "true" || val == "1"
		case "volume-driver":
			if m.VolumeOptions == nil {
				m.VolumeOptions = &mount.VolumeOptions{}
			}
			m.VolumeOptions.DriverConfig = &mount.Driver{Name: val}
		case "tmpfs-size":
			n, err := units.RAMInBytes(val)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			if m.TmpfsOptions == nil {
				m.TmpfsOptions = &mount.TmpfsOptions{}
			}
			m.TmpfsOptions.SizeBytes = n
		case "tmpfs-mode":
			n, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			if m.TmpfsOptions == nil {
				m.TmpfsOptions = &mount.TmpfsOptions{}
			}
			m.TmpfsOptions.Mode = os.FileMode(n)
		default:
			return m, fmt.Errorf("unexpected key '%s' in '%s'", key, field)
		}
	}
	if m.Target == "" {
		return m, fmt.Errorf("target is required")
	}
	return m, nil
}

// parseSecurityOpts inlines a seccomp profile file, as docker does.
func parseSecurityOpts(opts []string) ([]string, error) {
	for i, opt := range opts {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(opt, ":")
		}
		if !ok && opt != "no-new-privileges" {
			return nil, fmt.Errorf("Invalid --security-opt: %q", opt)
		}
		if k == "seccomp" && v != "unconfined" && v != "builtin" {
			data, err := os.ReadFile(v)
			if err != nil {
				return nil, fmt.Errorf("opening seccomp profile (%s) failed: %w", v, err)
			}
			b := &bytes.Buffer{}
			if err := json.Compact(b, data); err != nil {
				return nil, fmt.Errorf("compacting json for seccomp profile (%s) failed: %w", v, err)
			}
			opts[i] = "seccomp=" + b.String()
		}
	}
	return opts, nil
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, fmt.Errorf("%s is not an ip address", s)
	}
	return a, nil
}
