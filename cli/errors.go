package cli

import (
	"fmt"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// StatusError carries the message to print and the process exit status, as
// the docker CLI's StatusError does.
type StatusError struct {
	Status     string
	StatusCode int
}

func (e StatusError) Error() string {
	return fmt.Sprintf("Status: %s, Code: %d", e.Status, e.StatusCode)
}

// FlagErrorFunc turns a flag parse error into docker's usage message and exit 125.
func FlagErrorFunc(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	return StatusError{
		Status:     fmt.Sprintf("%s\n\nUsage:  %s\n\nRun '%s --help' for more information", err, cmd.UseLine(), cmd.CommandPath()),
		StatusCode: 125,
	}
}

// WithHelp wraps a failure of command name the way docker run/create report it.
func WithHelp(err error, name string) error {
	return fmt.Errorf("%s: %w\n\nRun '%s %s --help' for more information", ProgramName(), normalize(err), ProgramName(), name)
}

// normalize rewrites a connection failure to docker's wording.
func normalize(err error) error {
	if !client.IsErrConnectionFailed(err) {
		return err
	}
	msg := err.Error()
	if i := strings.Index(msg, "docker API at "); i >= 0 {
		host := msg[i+len("docker API at "):]
		if j := strings.IndexAny(host, ";:"); j >= 0 && strings.HasPrefix(host, "unix://") {
			host = host[:strings.Index(host[len("unix://"):], ";")+len("unix://")]
		} else if j >= 0 {
			host = host[:strings.Index(host, ";")]
		}
		return fmt.Errorf("Cannot connect to the Docker daemon at %s. Is the docker daemon running?", host)
	}
	return err
}

// ExitCodeForStartError maps an OCI runtime start failure to the exit status
// docker uses: 127 for a missing command, 126 for one that cannot be executed.
func ExitCodeForStartError(err error) int {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "is a directory"):
		return 126
	}
	return 125
}
