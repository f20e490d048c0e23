package cli

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestRunsAgain: a command runs again with the version negotiated only
// when the daemon refused the version asked for, nothing pinned it, and
// stdin is untouched.
func TestRunsAgain(t *testing.T) {
	tooNew := errors.New("Error response from daemon: client version 1.50 is too new. Maximum supported API version is 1.41")
	tests := []struct {
		name      string
		err       error
		negotiate bool
		readStdin bool
		env       string
		want      bool
	}{
		{name: "too new", err: tooNew, want: true},
		{name: "no error", err: nil},
		{name: "another error", err: errors.New("No such container: x")},
		{name: "already negotiated", err: tooNew, negotiate: true},
		{name: "stdin read", err: tooNew, readStdin: true},
		{name: "pinned by DOCKER_API_VERSION", err: tooNew, env: "1.50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_API_VERSION", tt.env)
			c := NewCli(io.NopCloser(strings.NewReader("body")), io.Discard, io.Discard)
			c.negotiate = tt.negotiate
			if tt.readStdin {
				_, _ = c.In().Read(make([]byte, 1))
			}
			if got := c.RunsAgain(tt.err); got != tt.want {
				t.Errorf("RunsAgain = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCommandName(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"ps", "-a"}, "ps"},
		{[]string{"-H", "unix:///x.sock", "exec", "web", "true"}, "exec"},
		{[]string{"--host=unix:///x.sock", "run", "busybox"}, "run"},
		{[]string{"-D", "--log-level", "debug", "container", "ls"}, "container"},
		{[]string{"--log-level", "ps"}, ""}, // "ps" is the flag's value
		{[]string{"run", "--help"}, "run"},
		{[]string{"--help"}, ""},
		{[]string{"help", "run"}, ""},
		{[]string{"-v"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := CommandName(tt.args); got != tt.want {
			t.Errorf("CommandName(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
