package containers

import (
	"context"
	"errors"
	"fmt"
	eventtypes "github.com/moby/moby/api/types/events"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/berth-project/berth/internal/labels"
	"github.com/berth-project/berth/internal/trace"
	"github.com/berth-project/berth/store/metadata"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// RemoveOptions are rm's flags.
type RemoveOptions struct {
	Force         bool
	RemoveVolumes bool
	// Auto is an --rm container's removal after its exit: its record is
	// deleted in the background (the commit's fsync is 0.5-1.8 ms of every
	// `run --rm` here). Should berthd die first, the record still says
	// running, as the exit did not save it, and the next start handles the
	// exit again, this removal included.
	Auto bool
}

// Remove deletes a container and everything it had on the host.
func (s *Service) Remove(ref string, o RemoveOptions) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.removing {
		c.mu.Unlock()
		return fmt.Errorf("removal of container %s is already in progress: %w", ref, errdefs.ErrConflict)
	}
	if c.State.Status == container.StateRestarting {
		if !o.Force {
			c.mu.Unlock()
			return fmt.Errorf("cannot remove container %q: container is restarting: stop the container before removing or force remove: %w",
				c.Name, errdefs.ErrConflict)
		}
		s.cancelRestart(c)
	}
	if c.running() {
		if !o.Force {
			c.mu.Unlock()
			return fmt.Errorf("cannot remove container %q: container is running: stop the container before removing or force remove: %w",
				c.Name, errdefs.ErrConflict)
		}
	}
	c.removing = true
	c.mu.Unlock()
	if o.Force {
		_ = s.signal(c, syscall.SIGKILL)
		if _, err := s.waitNotRunning(context.Background(), c); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		return nil
	}
	s.cleanupRun(c)
	trace.Mark("remove: run cleaned up")
	if err := removeDir(c.dir); err != nil {
		c.removing = false
		c.mu.Unlock()
		return fmt.Errorf("remove container %s: %w", c.ID, err)
	}
	trace.Mark("remove: files deleted")
	if o.Auto {
		go func(id string) {
			if err := s.db.Delete(metadata.Containers, id); err != nil {
				fmt.Fprintf(os.Stderr, "berthd: auto-remove %s: its record stays, for the next start: %v\n", id, err)
			}
		}(c.ID)
	} else if err := s.db.Delete(metadata.Containers, c.ID); err != nil {
		c.removing = false
		c.mu.Unlock()
		return err
	}
	trace.Mark("remove: record deleted")
	s.releaseName(c)
	c.removed = true
	c.State.Status = container.StateDead
	c.notify()
	var anonymous []string
	for _, m := range c.Mounts {
		if m.Anonymous {
			anonymous = append(anonymous, m.Name)
		}
	}
	c.mu.Unlock()
	// rm -v and --rm take the container's anonymous volumes along (unless
	// another container still uses one); named volumes always stay.
	if o.RemoveVolumes {
		for _, name := range anonymous {
			if err := s.volumes.Remove(name, true); err != nil && !errdefs.IsConflict(err) {
				fmt.Fprintf(os.Stderr, "berthd: remove volume %s: %v\n", name, err)
			}
		}
	}
	go s.publish(c, "destroy", nil)
	return nil
}

// Rename gives a container a new name.
func (s *Service) Rename(ref, newName string) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	if !validName.MatchString(newName) {
		return fmt.Errorf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", newName, errdefs.ErrInvalidArgument)
	}
	newName = "/" + strings.TrimPrefix(newName, "/")
	s.mu.Lock()
	if other, ok := s.byName[newName]; ok {
		s.mu.Unlock()
		if other == c.ID {
			return fmt.Errorf("Renaming a container with the same name as its current name: %w", errdefs.ErrInvalidArgument)
		}
		return fmt.Errorf("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.: %w",
			newName, other, errdefs.ErrConflict)
	}
	c.mu.Lock()
	old := c.Name
	delete(s.byName, old)
	s.byName[newName] = c.ID
	c.setName(newName)
	err = s.save(c)
	if err != nil {
		c.setName(old)
		delete(s.byName, newName)
		s.byName[old] = c.ID
	}
	c.mu.Unlock()
	s.mu.Unlock()
	if err == nil {
		s.publish(c, "rename", map[string]string{"oldName": old})
	}
	return err
}

// Prune removes all stopped containers matching the label filters.
func (s *Service) Prune(want map[string]string) (container.PruneReport, error) {
	rep := container.PruneReport{ContainersDeleted: []string{}}
	for _, c := range s.all() {
		c.mu.Lock()
		skip := c.running() || !labels.Match(c.Config.Labels, want)
		c.mu.Unlock()
		if skip {
			continue
		}
		size, _ := overlay.DirSize(filepath.Join(c.dir, "upper"))
		if err := s.Remove(c.ID, RemoveOptions{}); err != nil {
			if errdefs.IsConflict(err) || errdefs.IsNotFound(err) {
				continue
			}
			return rep, err
		}
		rep.ContainersDeleted = append(rep.ContainersDeleted, c.ID)
		rep.SpaceReclaimed += uint64(size)
	}
	s.events.Publish(eventtypes.ContainerEventType, "prune", "", map[string]string{"reclaimed": strconv.FormatUint(rep.SpaceReclaimed, 10)})
	return rep, nil
}

// removeDir takes a removed container's directory out of the way at once,
// with a rename, and deletes it in the background: deleting its files
// (the writable layer, the logs) waits on the disk, 1-1.5 ms for an empty
// container here, and `run --rm` waits for the removal. A crash before
// the delete ends leaves the renamed directory, which the start-up sweep
// removes (no record names it).
func removeDir(dir string) error {
	trash := filepath.Join(filepath.Dir(dir), ".removed-"+filepath.Base(dir))
	if err := os.Rename(dir, trash); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return os.RemoveAll(dir)
	}
	go os.RemoveAll(trash)
	return nil
}
