package cli

import "strings"

// ListOpt is a repeatable string flag (-t a -t b).
type ListOpt struct{ Values []string }

func (l *ListOpt) String() string     { return strings.Join(l.Values, ",") }
func (l *ListOpt) Set(v string) error { l.Values = append(l.Values, v); return nil }
func (l *ListOpt) Type() string       { return "list" }
