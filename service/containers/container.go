package containers

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/service/containers/monitors"
	"github.com/berth-project/berth/service/containers/networking"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// State is the persisted run state of a container.
type State struct {
	Status     container.ContainerState `json:"status"`
	Pid        int                      `json:"pid"`
	MonitorPid int                      `json:"monitorPid"`
	ExitCode   int                      `json:"exitCode"`
	OOMKilled  bool                     `json:"oomKilled"`
	Error      string                   `json:"error,omitempty"`
	StartedAt  time.Time                `json:"startedAt"`
	FinishedAt time.Time                `json:"finishedAt"`
	// StoppedByUser is set by stop/kill so restart policies know.
	StoppedByUser bool `json:"stoppedByUser,omitempty"`
	// Health is the healthcheck state, nil without a healthcheck.
	Health *container.Health `json:"health,omitempty"`
}

// Record is what is persisted for a container.
type Record struct {
	ID           string                `json:"id"`
	Name         string                `json:"name"` // with the leading "/"
	Created      time.Time             `json:"created"`
	Path         string                `json:"path"`
	Args         []string              `json:"args"`
	Config       *container.Config     `json:"config"`
	HostConfig   *container.HostConfig `json:"hostConfig"`
	Image        digest.Digest         `json:"image"`
	Chain        []digest.Digest       `json:"chain"`
	Hostname     string                `json:"hostname"`
	State        State                 `json:"state"`
	RestartCount int                   `json:"restartCount"`
	Mounts       []Mount               `json:"mounts,omitempty"`
	// Attachments are its networks: memberships by network name and the
	// ports published for the current run ("networks" and "ports").
	networking.Attachments
}

// Container is a record plus its live parts.
type Container struct {
	mu sync.Mutex
	Record
	// nameMu also guards Name, so events (published with or without mu
	// held) read it safely while a rename writes it
	nameMu sync.RWMutex

	dir     string // data-root/containers/<id>
	runDir  string // exec-root/containers/<id>
	monitor net.Conn
	// spec is the runtime spec of the last start, as config.json holds
	// it (nil after a daemon restart: read the file); read-only.
	spec *specs.Spec
	// changed is closed and replaced whenever the state changes.
	changed chan struct{}
	// started is closed when the container is running with a monitor
	// connection, so attach can send stdin.
	started  chan struct{}
	attached monitors.Clients
	removed  bool
	removing bool
	exits    int        // number of exits seen, for wait?condition=next-exit
	lastExit WaitResult // the latest of them, which a start right after it must not hide from waiters
	// releaseMounts undoes the volume mounts of the current run.
	releaseMounts func()
	resolver      networking.Resolver // the embedded resolver on user-defined networks

	// restart policy bookkeeping: restarts since the last manual start,
	// the last back-off and the pending restart.
	policyRestarts int
	backoff        time.Duration
	restartTimer   *time.Timer
	// restartingByUser is set while `restart` stops and starts c, so
	// log followers carry on
	restartingByUser bool
	// health stops the running healthcheck loop.
	health chan struct{}
}

func newContainer(r Record, dataRoot, execRoot string) *Container {
	return &Container{
		Record:   r,
		dir:      filepath.Join(dataRoot, r.ID),
		runDir:   filepath.Join(execRoot, runDirName(r.ID)),
		changed:  make(chan struct{}),
		started:  make(chan struct{}),
		attached: monitors.Clients{},
	}
}

func (c *Container) rootfs() string { return filepath.Join(c.dir, "rootfs") }

// logPath is where the monitor writes the log: Docker's json-file name,
// or the local driver's local-logs/container.log.
func (c *Container) logPath() string {
	if c.HostConfig != nil && c.HostConfig.LogConfig.Type == "local" {
		return filepath.Join(c.dir, "local-logs", "container.log")
	}
	return filepath.Join(c.dir, c.ID+"-json.log")
}
func (c *Container) exitPath() string   { return filepath.Join(c.dir, "exit.json") }
func (c *Container) socketPath() string { return filepath.Join(c.runDir, "monitor.sock") }
func (c *Container) bundle() string     { return filepath.Join(c.runDir, "bundle") }

// notify wakes waiters; callers hold c.mu.
func (c *Container) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Container) running() bool {
	return c.State.Status == container.StateRunning || c.State.Status == container.StatePaused
}

// errNotRunning is Docker's message for operations that need a running container.
func errNotRunning(id string) error {
	return fmt.Errorf("container %s is not running: %w", id, errdefs.ErrConflict)
}

// runDirName is short because unix socket paths (monitor.sock,
// console.sock) must fit in 108 bytes whatever the exec root.
func runDirName(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

// recordExit counts an exit (or a failed start) for waiters, with its
// code. Callers hold c.mu.
func (c *Container) recordExit() {
	c.exits++
	c.lastExit = WaitResult{StatusCode: c.State.ExitCode, Error: c.State.Error}
}

// currentName is the container's name without its slash, safe to read
// without mu.
func (c *Container) currentName() string {
	c.nameMu.RLock()
	defer c.nameMu.RUnlock()
	return strings.TrimPrefix(c.Name, "/")
}

// setName renames the record (mu held).
func (c *Container) setName(name string) {
	c.nameMu.Lock()
	c.Name = name
	c.nameMu.Unlock()
}
