// Package labels matches Docker label filters ("key" or "key=value") against label sets.
package labels

import "strings"

// Parse turns filter values ("key" or "key=value") into key → value; a
// bare key maps to "" (any value).
func Parse(filters []string) map[string]string {
	out := make(map[string]string, len(filters))
	for _, f := range filters {
		k, v, _ := strings.Cut(f, "=")
		out[k] = v
	}
	return out
}

// Match reports whether have carries every wanted key, with the wanted
// value where one is given ("" matches any value).
func Match(have, want map[string]string) bool {
	for k, v := range want {
		got, ok := have[k]
		if !ok || (v != "" && got != v) {
			return false
		}
	}
	return true
}
