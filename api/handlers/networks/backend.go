package networks

import (
	svc "github.com/berth-project/berth/service/networks"
	"github.com/moby/moby/api/types/network"
)

// Backend is what the handlers need from the networks service.
type Backend interface {
	Create(o svc.CreateOptions) (*svc.Network, error)
	Get(ref string) (*svc.Network, error)
	List(filters map[string][]string) ([]*svc.Network, error)
	Remove(ref string) error
	Prune(labels []string) ([]string, error)
	Users(id string) []svc.Use
}

// Containers connects containers to networks (the containers service).
type Containers interface {
	Connect(container, network string, es *network.EndpointSettings) error
	Disconnect(container, network string, force bool) error
}
