package cli

import (
	"io"
	"os"
	"path/filepath"

	"github.com/moby/moby/client"
	"github.com/moby/term"
)

// DefaultHost is the daemon address used when neither -H nor DOCKER_HOST is set.
const DefaultHost = "unix:///run/berth/berth.sock"

// Version is the client version printed by `berth version`.
var Version = "0.1.0-dev"

// Cli holds the standard streams and the lazily built daemon client.
type Cli struct {
	in     io.ReadCloser
	out    io.Writer
	err    io.Writer
	Host   string
	client *client.Client
}

// NewCli returns a Cli writing to the given streams.
func NewCli(in io.ReadCloser, out, errOut io.Writer) *Cli {
	return &Cli{in: in, out: out, err: errOut}
}

// In is the standard input.
func (c *Cli) In() io.ReadCloser { return c.in }

// Out is the standard output.
func (c *Cli) Out() io.Writer { return c.out }

// Err is the standard error.
func (c *Cli) Err() io.Writer { return c.err }

// InFd returns the descriptor of stdin and whether it is a terminal.
func (c *Cli) InFd() (uintptr, bool) { return term.GetFdInfo(c.in) }

// OutFd returns the descriptor of stdout and whether it is a terminal.
func (c *Cli) OutFd() (uintptr, bool) { return term.GetFdInfo(c.out) }

// ResolveHost picks the daemon address: the -H flag, then DOCKER_HOST, then DefaultHost.
func ResolveHost(flag string) string {
	if flag != "" {
		return flag
	}
	if h := os.Getenv(client.EnvOverrideHost); h != "" {
		return h
	}
	return DefaultHost
}

// Client returns the API client, building it on first use. The API version is
// negotiated with the daemon on the first request unless DOCKER_API_VERSION pins it.
func (c *Cli) Client() (*client.Client, error) {
	if c.client != nil {
		return c.client, nil
	}
	cl, err := client.New(
		client.WithHost(ResolveHost(c.Host)),
		client.WithAPIVersionNegotiation(),
		client.WithAPIVersionFromEnv(),
		client.WithUserAgent("berth-cli/"+Version),
	)
	if err != nil {
		return nil, err
	}
	c.client = cl
	return cl, nil
}

// Close releases the client's connections.
func (c *Cli) Close() {
	if c.client != nil {
		_ = c.client.Close()
	}
}

// ProgramName is the basename of argv[0], used where docker prints "docker".
func ProgramName() string {
	if len(os.Args) == 0 || os.Args[0] == "" {
		return "berth"
	}
	return filepath.Base(os.Args[0])
}

// Aliases builds the "Aliases:" line of a command's usage from its paths
// without the program name, e.g. Aliases("container ls", "ps").
func Aliases(paths ...string) map[string]string {
	s := ""
	for i, p := range paths {
		if i > 0 {
			s += ", "
		}
		s += ProgramName() + " " + p
	}
	return map[string]string{"aliases": s}
}
