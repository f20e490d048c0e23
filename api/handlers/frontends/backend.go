package frontends

import "github.com/berth-project/berth/internal/apiext"

// Backend is what the frontend handlers need.
type Backend interface {
	List(filters map[string][]string) ([]apiext.Frontend, error)
	Get(ref string) (*apiext.Frontend, error)
	Create(req apiext.FrontendCreateRequest) (*apiext.Frontend, error)
	Update(ref string, req apiext.FrontendUpdateRequest) (*apiext.Frontend, error)
	Switch(ref string, req apiext.FrontendSwitchRequest) (*apiext.Frontend, error)
	Remove(ref string) error
}
