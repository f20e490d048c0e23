// Package execs runs processes in running containers: docker exec, and
// the healthchecks' probes for the containers service.
package execs

import (
	"sync"

	"github.com/berth-project/berth/service/containers"
)

// Containers is what execs needs of the containers service.
type Containers interface {
	Get(ref string) (*containers.Container, error)
	ExecTarget(ref string, create bool) (*containers.ExecTarget, error)
}

// Service keeps the execs and runs them.
type Service struct {
	containers Containers

	mu          sync.Mutex
	execs       map[string]*execProcess
	byContainer map[string]map[string]bool // container ID → its execs' IDs
}

// New returns the service over cs; cs runs its probes through it.
func New(cs Containers) *Service {
	return &Service{containers: cs, execs: map[string]*execProcess{}, byContainer: map[string]map[string]bool{}}
}
