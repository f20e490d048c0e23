package containers

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/core/runtime"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ExecTarget is a running container as an exec in it sees it (see
// service/containers/execs).
type ExecTarget struct {
	ID       string
	Pid      int // the init's
	Bundle   string
	Rootfs   string
	GroupAdd []string
	Spec     *specs.Spec // its last start's
	Runtime  runtime.Runtime

	s *Service
	c *Container
}

// Publish sends a container event about the exec.
func (t *ExecTarget) Publish(action eventtypes.Action, extra map[string]string) {
	t.s.publish(t.c, action, extra)
}

// Execer runs processes in running containers: the execs service, which
// the daemon sets after both exist.
type Execer interface {
	Probe(t *ExecTarget, cmd []string, user string, out io.Writer, kill <-chan struct{}) (int, error)
	ExecIDs(containerID string) []string
}

// SetExecer sets what runs the healthchecks' probes and lists execs.
func (s *Service) SetExecer(e Execer) { s.execer = e }

// ExecTarget checks that ref is running (for a create, also that it is
// neither restarting nor paused, as dockerd) and describes it.
func (s *Service) ExecTarget(ref string, create bool) (*ExecTarget, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	switch {
	case create && c.State.Status == container.StateRestarting:
		err = errRestarting(c.ID)
	case !c.running():
		err = fmt.Errorf("container %s is not running: %w", c.ID, errdefs.ErrConflict)
	case create && c.State.Status == container.StatePaused:
		err = fmt.Errorf("Container %s is paused, unpause the container before exec: %w", c.ID, errdefs.ErrConflict)
	}
	t := s.execTargetOf(c)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !create {
		if t.Spec, err = s.startSpec(c, t.Bundle); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// execTargetOf describes c, without its spec; callers hold c.mu.
func (s *Service) execTargetOf(c *Container) *ExecTarget {
	return &ExecTarget{ID: c.ID, Pid: c.State.Pid, Bundle: c.bundle(), Rootfs: c.rootfs(),
		GroupAdd: c.HostConfig.GroupAdd, Runtime: s.runtimeOf(c), s: s, c: c}
}

// startSpec is the spec c's last start wrote to bundle (kept in memory
// by that start; read back from the file after a daemon restart).
func (s *Service) startSpec(c *Container, bundle string) (*specs.Spec, error) {
	c.mu.Lock()
	spec := c.spec
	c.mu.Unlock()
	if spec != nil {
		return spec, nil
	}
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("container %s is not running: %w", c.ID, errdefs.ErrConflict)
	}
	spec = &specs.Spec{}
	if err := json.Unmarshal(b, spec); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.spec = spec
	c.mu.Unlock()
	return spec, nil
}

// execIDs lists c's execs.
func (s *Service) execIDs(c *Container) []string {
	if s.execer == nil {
		return nil
	}
	return s.execer.ExecIDs(c.ID)
}
