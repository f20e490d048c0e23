package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/apiversion"
	"github.com/moby/moby/client"
	"github.com/moby/term"
)

// DefaultHost is the daemon address used when neither -H nor DOCKER_HOST is set.
const DefaultHost = "unix:///run/berth/berth.sock"

// Version is the client version printed by `berth version`.
var Version = "0.1.0-dev"

// Cli holds the standard streams and the lazily built daemon client.
type Cli struct {
	in        *input
	out       io.Writer
	err       io.Writer
	Host      string
	client    *client.Client
	negotiate bool // ping for the daemon's API version before the first request
}

// NewCli returns a Cli writing to the given streams.
func NewCli(in io.ReadCloser, out, errOut io.Writer) *Cli {
	return &Cli{in: &input{ReadCloser: in}, out: out, err: errOut}
}

// input is stdin, noting whether a command has read from it (Run may run
// a command again only if it has not).
type input struct {
	io.ReadCloser
	read bool
}

func (i *input) Read(p []byte) (int, error) {
	i.read = true
	return i.ReadCloser.Read(p)
}

// Fd is the descriptor of a file's stdin, for the terminal checks.
func (i *input) Fd() uintptr {
	if f, ok := i.ReadCloser.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// In is the standard input.
func (c *Cli) In() io.ReadCloser { return c.in }

// Out is the standard output.
func (c *Cli) Out() io.Writer { return c.out }

// Err is the standard error.
func (c *Cli) Err() io.Writer { return c.err }

// InFd returns the descriptor of stdin and whether it is a terminal.
func (c *Cli) InFd() (uintptr, bool) { return term.GetFdInfo(c.in.ReadCloser) }

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

// Client returns the API client, building it on first use. It asks for
// the newest API version berthd speaks straight away, where the docker CLI
// pings the daemon for its version first (a round trip before every
// command's first request); a daemon that speaks only older versions
// refuses that request as "too new", and Run runs the command again with
// the version negotiated. DOCKER_API_VERSION pins the version.
func (c *Cli) Client() (*client.Client, error) {
	if c.client != nil {
		return c.client, nil
	}
	version := apiversion.Max
	if c.negotiate {
		version = "" // negotiated on the first request
	}
	cl, err := client.New(
		client.WithHost(ResolveHost(c.Host)),
		client.WithAPIVersion(version),
		client.WithAPIVersionFromEnv(),
		client.WithUserAgent("berth-cli/"+Version),
		client.WithHTTPRequestHook(askToStart),
		client.WithHTTPResponseHook(readStartAnswer),
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
		c.client = nil
	}
}

// NegotiateVersion makes the client ping for the daemon's API version
// before its first request, for a command whose first request streams
// stdin (load, import -): a daemon refusing it as too new could not be
// sent it again. Call it before Client.
func (c *Cli) NegotiateVersion() { c.negotiate = true }

// RunsAgain says whether a command that failed with err should run
// again with the API version negotiated: the daemon refused the version
// asked for as too new (an older dockerd), the version was not pinned, and
// the command has not read stdin (which it could not read again). A
// daemon refuses such a request before it does anything.
func (c *Cli) RunsAgain(err error) bool {
	if c.negotiate || c.in.read || os.Getenv(client.EnvOverrideAPIVersion) != "" {
		return false
	}
	return err != nil && strings.Contains(err.Error(), "is too new. Maximum supported API version is")
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
