// Package native is berth's own runtime: berthd lowers the OCI spec to a
// plan (plan.go) and a cached seccomp filter, and berth-monitor starts the
// container from them itself (cmd/berth-monitor/native.c), without an OCI
// runtime process per start, exec or delete.
package native

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/berth-project/berth/core/runtime"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Name is the runtime's name in daemon.json and the monitor's --runtime.
const Name = "native"

// Runtime implements runtime.Runtime with berth-monitor.
type Runtime struct {
	monitor string
	dir     string
	cg      *Cgroups

	// last is the filter of the profile seen last, by identity: a
	// container's execs share the spec of its start (the profile is
	// never changed once made), so they skip building and hashing the
	// policy. Holding the profile keeps its address from being reused.
	mu   sync.Mutex
	last struct {
		profile *specs.LinuxSeccomp
		path    string
	}
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns the runtime; monitor is the berth-monitor binary, dir a
// directory for its state (the seccomp filter cache).
func New(monitor, dir string) (*Runtime, error) {
	cg, err := DetectCgroups()
	if err != nil {
		return nil, err
	}
	return &Runtime{monitor: monitor, dir: dir, cg: cg}, nil
}

func (r *Runtime) Name() string { return Name }

// CgroupV2 reports a cgroup v2-only host.
func (r *Runtime) CgroupV2() bool { return r.cg.V2 }

// Prepare writes bundle/plan.
func (r *Runtime) Prepare(bundle string, spec *specs.Spec) error {
	filter, err := r.filter(spec)
	if err != nil {
		return err
	}
	plan, err := containerPlan(spec, r.cg, filter)
	if err != nil {
		return fmt.Errorf("native runtime: %w", err)
	}
	return os.WriteFile(filepath.Join(bundle, "plan"), plan, 0o600)
}

func (r *Runtime) filter(spec *specs.Spec) (string, error) {
	if spec.Linux == nil || spec.Linux.Seccomp == nil {
		return "", nil
	}
	profile := spec.Linux.Seccomp
	r.mu.Lock()
	path := r.last.path
	hit := r.last.profile == profile
	r.mu.Unlock()
	if hit {
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	path, err := seccompFilter(filepath.Join(r.dir, "seccomp"), r.monitor, profile)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	r.last.profile, r.last.path = profile, path
	r.mu.Unlock()
	return path, nil
}

// MakeCgroups makes the cgroup directories at path in every hierarchy
// (and their parents), for the monitor to write the limits in.
func (r *Runtime) MakeCgroups(path string) error {
	if err := r.cg.ensureParents(path); err != nil {
		return err
	}
	for _, d := range r.cg.Dirs(path) {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create cgroup %s: %w", d, err)
		}
	}
	return nil
}

// RemoveCgroups removes what MakeCgroups made.
func (r *Runtime) RemoveCgroups(path string) error { return r.cg.Remove(path) }

// Exec returns `berth-monitor exec` for req.
func (r *Runtime) Exec(req runtime.ExecRequest) (*exec.Cmd, error) {
	filter, err := r.filter(req.Spec)
	if err != nil {
		return nil, err
	}
	plan, err := execPlan(req.Spec, req.Process, r.cg, filter)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(req.ProcessFile, plan, 0o600); err != nil {
		return nil, err
	}
	args := []string{"exec", "--pid", strconv.Itoa(req.Pid), "--plan", req.ProcessFile}
	if req.PidFile != "" {
		args = append(args, "--pid-file", req.PidFile)
	}
	if req.LogFile != "" {
		args = append(args, "--log", req.LogFile)
	}
	if req.ConsoleSocket != "" {
		args = append(args, "--console-socket", req.ConsoleSocket)
	}
	if req.Detach {
		args = append(args, "--detach")
	}
	return exec.Command(r.monitor, args...), nil
}

// Delete removes the container's cgroups (the monitor does it when the
// container ends; this is for a monitor that died).
func (r *Runtime) Delete(_ string, spec *specs.Spec) error {
	if spec == nil || spec.Linux == nil || spec.Linux.CgroupsPath == "" {
		return nil
	}
	return r.cg.Remove(spec.Linux.CgroupsPath)
}

// Update writes the cgroup files for the limits set in res.
func (r *Runtime) Update(_ string, spec *specs.Spec, res *specs.LinuxResources) error {
	if spec == nil || spec.Linux == nil || spec.Linux.CgroupsPath == "" {
		return errors.New("native runtime: the container has no cgroup")
	}
	return r.cg.Update(spec.Linux.CgroupsPath, res)
}

// Orphans lists the container cgroups under parent: the native runtime
// keeps no other state, so a cgroup is what a crash can leave behind.
func (r *Runtime) Orphans(parent string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, d := range r.cg.Dirs(filepath.Join("/", parent)) {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() && isContainerID(e.Name()) && !seen[e.Name()] {
				seen[e.Name()] = true
				out = append(out, e.Name())
			}
		}
	}
	return out, nil
}

func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func syscallKill(pid int) error { return unix.Kill(pid, unix.SIGKILL) }

func sleepBriefly() { time.Sleep(time.Millisecond) }
