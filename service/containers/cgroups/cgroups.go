package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-project/berth/core/runtime"
	"github.com/containerd/errdefs"
)

// Path is container id's cgroup below each hierarchy's root: under its
// own parent (HostConfig.CgroupParent) if it names one, else under the
// daemon's.
func Path(daemonParent, own, id string) string {
	parent := daemonParent
	if own != "" {
		parent = own
	}
	return filepath.Join("/", parent, id)
}

// Ahead starts making the cgroups at path when rt can (the native
// runtime). made waits until that is done and says whether it was tried;
// remove removes them.
func Ahead(rt runtime.Runtime, path string) (made func() bool, remove func()) {
	cm, ok := rt.(runtime.CgroupMaker)
	if !ok {
		return func() bool { return false }, func() {}
	}
	done := make(chan struct{})
	// an error leaves the making to the monitor, which reports it in
	// Docker's words; what was made is removed like the rest
	go func() { _ = cm.MakeCgroups(path); close(done) }()
	made = func() bool { <-done; return true }
	return made, func() { _ = cm.RemoveCgroups(path) }
}

// Freeze freezes (or thaws) the processes of container id, in the
// cgroup at path: through the v1 freezer hierarchy, or cgroup.freeze on
// v2.
func Freeze(path, id string, frozen bool) error {
	v1 := filepath.Join("/sys/fs/cgroup/freezer", path, "freezer.state")
	if _, err := os.Stat(v1); err == nil {
		want := "THAWED"
		if frozen {
			want = "FROZEN"
		}
		if err := os.WriteFile(v1, []byte(want), 0o644); err != nil {
			return err
		}
		// FREEZING until every task has stopped
		for i := 0; i < 1000; i++ {
			b, err := os.ReadFile(v1)
			if err != nil {
				return err
			}
			if strings.TrimSpace(string(b)) == want {
				return nil
			}
			time.Sleep(time.Millisecond)
		}
		return fmt.Errorf("container %s did not reach %s", id, want)
	}
	v2 := filepath.Join("/sys/fs/cgroup", path, "cgroup.freeze")
	val := "0"
	if frozen {
		val = "1"
	}
	if err := os.WriteFile(v2, []byte(val), 0o644); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no freezer for container %s: %w", id, errdefs.ErrNotImplemented)
		}
		return err
	}
	return nil
}
