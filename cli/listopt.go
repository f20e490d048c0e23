package cli

import "strings"

// ListOpt is a repeatable string flag (-t a -t b).
type ListOpt struct{ Values []string }

func (l *ListOpt) String() string     { return strings.Join(l.Values, ",") }
func (l *ListOpt) Set(v string) error { l.Values = append(l.Values, v); return nil }
func (l *ListOpt) Type() string       { return "list" }

// MapOpt is a repeatable key=value flag (--label k=v, -o k=v).
type MapOpt map[string]string

func (m MapOpt) String() string { return "" }
func (m MapOpt) Type() string   { return "map" }
func (m MapOpt) Set(v string) error {
	k, val, _ := strings.Cut(v, "=")
	m[k] = val
	return nil
}
