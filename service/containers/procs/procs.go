// Package procs observes a container's processes from the host: top (ps
// filtered by the container's cgroup) and stats (its cgroup's and network
// namespace's counters).
package procs

import (
	"github.com/berth-project/berth/service/containers"
	"github.com/moby/moby/api/types/events"
)

// Containers is what procs needs of the containers service.
type Containers interface {
	Process(ref string) (containers.Process, error)
	PublishEvent(ref string, action events.Action) error
}

// Service answers top and stats.
type Service struct {
	containers Containers
}

// New returns the service over cs.
func New(cs Containers) *Service { return &Service{containers: cs} }
