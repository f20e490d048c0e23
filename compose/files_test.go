package compose

import (
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestFileReferenceTarget(t *testing.T) {
	for _, tc := range []struct {
		kind, source, target, want string
	}{
		{"secret", "token", "", "/run/secrets/token"},
		{"secret", "token", "api", "/run/secrets/api"},
		{"secret", "token", "/etc/token", "/etc/token"},
		{"config", "motd", "", "/motd"},
		{"config", "motd", "/etc/motd", "/etc/motd"},
	} {
		r := fileReference{types.FileReferenceConfig{Source: tc.source, Target: tc.target}, tc.kind}
		if got := r.target(); got != tc.want {
			t.Errorf("%s %s target %q: %s, want %s", tc.kind, tc.source, tc.target, got, tc.want)
		}
	}
}
