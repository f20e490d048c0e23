package oci

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const (
	seccompUnconfined = "unconfined"
	seccompBuiltin    = "builtin"
)

// securityOptions is what --security-opt asks for.
type securityOptions struct {
	noNewPrivileges bool
	seccompProfile  string // "", "unconfined", "builtin" or a JSON profile
	writableCgroups *bool
}

// parseSecurityOpt parses --security-opt values as Docker's parseSecurityOpt.
// AppArmor and SELinux labels are accepted and ignored.
func parseSecurityOpt(opts []string) (securityOptions, error) {
	var so securityOptions
	for _, opt := range opts {
		switch opt {
		case "no-new-privileges":
			so.noNewPrivileges = true
			continue
		case "writable-cgroups":
			t := true
			so.writableCgroups = &t
			continue
		case "disable":
			continue
		}
		var k, v string
		var ok bool
		if strings.Contains(opt, "=") {
			k, v, ok = strings.Cut(opt, "=")
		} else if strings.Contains(opt, ":") {
			k, v, ok = strings.Cut(opt, ":")
		}
		if !ok {
			return so, invalidf("invalid --security-opt 1: %q", opt)
		}
		switch k {
		case "label", "apparmor":
		case "seccomp":
			so.seccompProfile = v
		case "no-new-privileges", "writable-cgroups":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return so, invalidf("invalid --security-opt 2: %q", opt)
			}
			if k == "no-new-privileges" {
				so.noNewPrivileges = b
			} else {
				so.writableCgroups = &b
			}
		default:
			return so, invalidf("invalid --security-opt 2: %q", opt)
		}
	}
	return so, nil
}

// seccompFor returns the seccomp filter for s (whose capabilities must already
// be set) as Docker's WithSeccomp: none when unconfined, none for privileged
// containers unless a custom profile is given, else the custom or default one.
func seccompFor(s *specs.Spec, profile string, privileged bool) (*specs.LinuxSeccomp, error) {
	switch {
	case profile == seccompUnconfined:
		return nil, nil
	case privileged && (profile == "" || profile == seccompBuiltin):
		return nil, nil
	case profile == "" || profile == seccompBuiltin:
		sc, err := defaultProfiles.get(s)
		if err != nil {
			return nil, invalid(err)
		}
		return sc, nil
	default:
		sc, err := seccomp.LoadProfile(profile, s)
		if err != nil {
			return nil, invalid(err)
		}
		return sc, nil
	}
}

// defaultProfiles memoizes Docker's default seccomp profile, which depends
// only on the bounding capabilities (and on the host's arch and kernel,
// fixed for the process): containers with the same capabilities share one
// *LinuxSeccomp, which the spec's users only read. Building it takes a
// tenth of a millisecond, and the one pointer lets the native runtime find
// the compiled filter without building the policy text again. A few
// capability sets are kept; others are built each time.
var defaultProfiles = profileCache{byCaps: map[string]*specs.LinuxSeccomp{}}

const maxCachedProfiles = 16

type profileCache struct {
	mu     sync.Mutex
	byCaps map[string]*specs.LinuxSeccomp
}

func (pc *profileCache) get(s *specs.Spec) (*specs.LinuxSeccomp, error) {
	if s.Process == nil || s.Process.Capabilities == nil {
		return seccomp.GetDefaultProfile(s)
	}
	caps := slices.Clone(s.Process.Capabilities.Bounding)
	slices.Sort(caps)
	key := strings.Join(caps, ",")
	pc.mu.Lock()
	sc, ok := pc.byCaps[key]
	pc.mu.Unlock()
	if ok {
		return sc, nil
	}
	sc, err := seccomp.GetDefaultProfile(s)
	if err != nil {
		return nil, err
	}
	pc.mu.Lock()
	if len(pc.byCaps) < maxCachedProfiles {
		pc.byCaps[key] = sc
	}
	pc.mu.Unlock()
	return sc, nil
}
