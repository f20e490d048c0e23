// Package runtime defines how the container service drives a container
// runtime: the monitor (cmd/berth-monitor) starts the container from what
// Prepare leaves in the bundle; Exec runs further processes in it.
// Implementations: runtime/native (the monitor does it itself, the default)
// and runtime/runc (an OCI runtime binary, as Docker does).
package runtime

import (
	"os/exec"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Runtime is one way of running containers.
type Runtime interface {
	// Name is the monitor's --runtime value: "native", or a runtime binary.
	Name() string
	// Prepare writes into bundle what the monitor needs to start spec's
	// container (config.json is already there).
	Prepare(bundle string, spec *specs.Spec) error
	// Exec returns the command that starts req.Process in the running
	// container; errors it meets are logged as JSON lines to req.LogFile
	// ({"level":"error","msg":…}, runc's format).
	Exec(req ExecRequest) (*exec.Cmd, error)
	// Delete releases what the runtime holds for a container that is not
	// running (runtime state, cgroups), killing what is left in it.
	Delete(id string, spec *specs.Spec) error
	// Orphans lists the containers the runtime holds state for, including
	// cgroups left under cgroupParent.
	Orphans(cgroupParent string) ([]string, error)
	// Update changes the resource limits of a running container whose
	// spec is spec; only the limits set in r change.
	Update(id string, spec *specs.Spec, r *specs.LinuxResources) error
}

// CgroupMaker is a runtime that can make a container's cgroups before its
// monitor runs, while the start does its other work (the native runtime;
// its monitor then finds them made and writes the limits).
type CgroupMaker interface {
	MakeCgroups(path string) error
	// RemoveCgroups undoes MakeCgroups for a start that failed before the
	// monitor took the cgroups over.
	RemoveCgroups(path string) error
}

// ExecRequest describes one exec.
type ExecRequest struct {
	ID            string      // container ID
	Pid           int         // the container's init, as the host sees it
	Spec          *specs.Spec // the container's spec
	Process       *specs.Process
	ProcessFile   string // where to write the process description (the caller removes it)
	PidFile       string // receives the process's host pid
	LogFile       string
	ConsoleSocket string // with a terminal: where to send its master
	Detach        bool   // return once the process runs (the caller reaps it)
}
