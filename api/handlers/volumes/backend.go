package volumes

import svc "github.com/berth-project/berth/service/volumes"

// Backend is what the handlers need from the volumes service.
type Backend interface {
	Create(o svc.CreateOptions) (*svc.Volume, error)
	Get(name string) (*svc.Volume, error)
	List(filters map[string][]string) ([]*svc.Volume, error)
	Remove(name string, force bool) error
	Prune(all bool, filters map[string][]string) ([]string, uint64, error)
	Mountpoint(name string) string
}
