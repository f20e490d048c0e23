package server

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidTag: the hand-written check agrees with the spec's grammar.
func TestValidTag(t *testing.T) {
	spec := regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	for _, tag := range []string{
		"latest", "1", "v1.2.3", "_x", "A-b_c.d", "9", strings.Repeat("a", 128),
		"", ".x", "-x", "a/b", "a:b", "a b", "é", strings.Repeat("a", 129), "x\n",
	} {
		if got, want := validTag(tag), spec.MatchString(tag); got != want {
			t.Errorf("validTag(%q) = %v, the spec's grammar says %v", tag, got, want)
		}
	}
}
