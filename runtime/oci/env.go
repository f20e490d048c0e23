package oci

import "strings"

// replaceOrAppendEnv returns defaults with overrides replacing entries of the
// same key or appended; an override without "=" unsets the key (Docker's
// ReplaceOrAppendEnvValues).
func replaceOrAppendEnv(defaults, overrides []string) []string {
	out := append([]string(nil), defaults...)
	index := make(map[string]int, len(out))
	for i, e := range out {
		k, _, _ := strings.Cut(e, "=")
		index[k] = i
	}
	for _, v := range overrides {
		k, _, hasValue := strings.Cut(v, "=")
		i, exists := index[k]
		switch {
		case !hasValue:
			if exists {
				out[i] = ""
			}
		case exists:
			out[i] = v
		default:
			index[k] = len(out)
			out = append(out, v)
		}
	}
	res := out[:0]
	for _, e := range out {
		if e != "" {
			res = append(res, e)
		}
	}
	return res
}

// containerEnv builds the process environment as Docker's
// CreateDaemonEnvironment: PATH, HOSTNAME, TERM (with a tty), then the
// container's own variables replacing or appending.
func containerEnv(hostname string, tty bool, env []string) []string {
	base := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=" + hostname}
	if tty {
		base = append(base, "TERM=xterm")
	}
	return replaceOrAppendEnv(base, env)
}

// lookupEnv returns the value of key in env.
func lookupEnv(env []string, key string) (string, bool) {
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}
