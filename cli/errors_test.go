package cli

import (
	"errors"
	"testing"
)

func TestExitCodeForStartError(t *testing.T) {
	tests := []struct {
		msg  string
		want int
	}{
		{`exec: "nope": executable file not found in $PATH`, 127},
		{`open /x: no such file or directory`, 127},
		{`exec /etc: permission denied`, 126},
		{`exec /etc: is a directory`, 126},
		{`No such image: x:latest`, 125},
	}
	for _, tt := range tests {
		if got := ExitCodeForStartError(errors.New(tt.msg)); got != tt.want {
			t.Errorf("%q: got %d, want %d", tt.msg, got, tt.want)
		}
	}
}

func TestResolveHost(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	if got := ResolveHost(""); got != DefaultHost {
		t.Errorf("default: got %q", got)
	}
	t.Setenv("DOCKER_HOST", "unix:///tmp/x.sock")
	if got := ResolveHost(""); got != "unix:///tmp/x.sock" {
		t.Errorf("env: got %q", got)
	}
	if got := ResolveHost("tcp://1.2.3.4:2375"); got != "tcp://1.2.3.4:2375" {
		t.Errorf("flag: got %q", got)
	}
}
