package containers

import "github.com/moby/moby/api/types/container"

// LogSource is where a container's log is (see service/containers/logs).
type LogSource struct {
	ID     string
	Driver string // HostConfig.LogConfig.Type
	Path   string
}

// LogSource locates ref's log.
func (s *Service) LogSource(ref string) (LogSource, error) {
	c, err := s.Get(ref)
	if err != nil {
		return LogSource{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return LogSource{ID: c.ID, Driver: c.HostConfig.LogConfig.Type, Path: c.logPath()}, nil
}

// LogEnded reports whether container id's log has no more to come: it
// stopped for good (no restart under way) or is gone.
func (s *Service) LogEnded(id string) bool {
	c, err := s.Get(id)
	if err != nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return (!c.running() && c.State.Status != container.StateRestarting && !c.restartingByUser) || c.removed
}
