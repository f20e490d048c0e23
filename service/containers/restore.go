package containers

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/core/runtime"
	"github.com/berth-project/berth/internal/trace"
	"github.com/berth-project/berth/runtime/monitor"
	"github.com/berth-project/berth/service/containers/cgroups"
	"github.com/berth-project/berth/service/containers/monitors"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// restore reconciles records with the host after a daemon (re)start:
// containers whose monitor still runs are re-attached, the others get the
// exit their monitor recorded, and anything a crash left half-made goes.
func (s *Service) restore() {
	for _, c := range s.all() {
		c.mu.Lock()
		wasRunning := c.running()
		c.mu.Unlock()
		if wasRunning && s.reconnect(c) {
			continue
		}
		c.mu.Lock()
		if wasRunning {
			exit := monitors.Lost(c.exitPath())
			c.mu.Unlock()
			_ = s.runtimeOf(c).Delete(c.ID, s.readSpec(c))
			s.handleExit(c, exit)
			continue
		}
		// A crash between the monitor's start and its Started frame can
		// leave the runtime's state (cgroups) behind.
		if spec := s.readSpec(c); spec != nil {
			_ = s.runtimeOf(c).Delete(c.ID, spec)
		}
		s.cleanupRun(c)
		c.mu.Unlock()
	}
	trace.Mark("containers: reconciled with their monitors")
	// The cgroups under the cgroup parent that are this daemon's: other
	// daemons may share the parent, so they must be told apart before the
	// sweep below kills anything (read before the directories go).
	owned := s.ownedIDs()
	// Directories without a record are from a create that a crash cut short.
	keep := map[string]bool{}
	for _, c := range s.all() {
		keep[c.dir], keep[c.runDir] = true, true
	}
	for _, root := range []string{s.cfg.DataRoot, s.cfg.ExecRoot} {
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			p := filepath.Join(root, e.Name())
			if !keep[p] {
				s.cleanupRun(&Container{dir: p, runDir: p})
				_ = os.RemoveAll(p)
			}
		}
	}
	// Runtime state of containers that are not running by our records (a
	// crash between `runc create` and the Started frame leaves such state).
	// Cgroups of removed containers go too, with whatever still runs in
	// them (their monitors then end on their own).
	trace.Mark("containers: leftover directories swept")
	for _, rt := range s.runtimes() {
		s.removeOrphans(rt, owned)
	}
}

// removeOrphans removes what rt holds for containers of this daemon that
// are not running by its records.
func (s *Service) removeOrphans(rt runtime.Runtime, owned ownership) {
	if ids, err := rt.Orphans(s.cfg.CgroupParent); err == nil {
		for _, id := range ids {
			if !owned.has(id) {
				continue // another daemon's container
			}
			c, err := s.Get(id)
			if err == nil && c.ID == id {
				c.mu.Lock()
				running := c.running()
				c.mu.Unlock()
				if running {
					continue
				}
			}
			spec := &specs.Spec{Linux: &specs.Linux{CgroupsPath: cgroups.Path(s.cfg.CgroupParent, "", id)}}
			if err := rt.Delete(id, spec); err != nil {
				fmt.Fprintf(os.Stderr, "berthd: orphaned container %s: %v\n", id, err)
			}
		}
	}
}

// reconnect attaches to a live monitor; false if there is none.
func (s *Service) reconnect(c *Container) bool {
	conn, typ, payload, err := monitors.Dial(c.socketPath())
	if err != nil {
		return false
	}
	switch typ {
	case monitor.Started:
		var info monitor.StartInfo
		_ = json.Unmarshal(payload, &info)
		c.mu.Lock()
		c.monitor = conn
		c.State.Pid = info.Pid
		if c.State.Status != container.StatePaused {
			c.State.Status = container.StateRunning
		}
		s.net.Restore(c.net())
		close(c.started)
		s.startHealth(c, false)
		c.mu.Unlock()
		go s.pump(c, conn)
		return true
	case monitor.Exited:
		var exit monitor.Exit
		_ = json.Unmarshal(payload, &exit)
		conn.Close()
		s.handleExit(c, exit)
		return true
	default:
		conn.Close()
		fmt.Fprintf(os.Stderr, "berthd: container %s: unexpected monitor frame %d\n", c.ID, typ)
		return false
	}
}

// readSpec returns the spec of c's last start, nil if there is none.
func (s *Service) readSpec(c *Container) *specs.Spec {
	b, err := os.ReadFile(filepath.Join(c.bundle(), "config.json"))
	if err != nil {
		return nil
	}
	var spec specs.Spec
	if json.Unmarshal(b, &spec) != nil {
		return nil
	}
	return &spec
}

// ownership is the set of container IDs this daemon has made: a container
// directory under the data root is created before the container's first
// cgroup and removed after its last, and the run directory under the exec
// root (named by the ID's first 16 hex) lives from start to exit. A cgroup
// whose ID is in neither belongs to another daemon sharing the parent.
type ownership struct{ ids, runDirs map[string]bool }

func (o ownership) has(id string) bool {
	return o.ids[id] || o.runDirs[runDirName(id)]
}

func (s *Service) ownedIDs() ownership {
	o := ownership{ids: map[string]bool{}, runDirs: map[string]bool{}}
	for _, c := range s.all() {
		o.ids[c.ID] = true
	}
	for root, set := range map[string]map[string]bool{s.cfg.DataRoot: o.ids, s.cfg.ExecRoot: o.runDirs} {
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			if e.IsDir() {
				set[e.Name()] = true
			}
		}
	}
	return o
}
