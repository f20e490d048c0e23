package apiext

import "time"

// Frontends: published ports and DNS names that several containers stand
// behind, switched from one set of containers to another in one firewall
// transaction (blue/green deploys). Served under FrontendsPath, with or
// without the /vX.Y prefix; a Docker daemon answers 404 there.
const FrontendsPath = "/berth/frontends"

// FrontendEventType is the events' type of frontends (actions create,
// update, "update start", switch, rollback, destroy).
const FrontendEventType = "frontend"

// Frontend is GET /berth/frontends/{name}'s body.
type Frontend struct {
	ID        string            `json:"Id"`
	Name      string            `json:"Name"`
	Labels    map[string]string `json:"Labels"`
	Network   string            `json:"Network"` // its name
	NetworkID string            `json:"NetworkID"`
	Ports     []FrontendPort    `json:"Ports"`
	Aliases   []string          `json:"Aliases"`
	// Backends serve now; Previous were switched away from and are kept
	// for a rollback; Candidates are an update under way. Container IDs.
	Backends   []string         `json:"Backends"`
	Previous   []string         `json:"Previous"`
	Candidates []string         `json:"Candidates"`
	Members    []FrontendMember `json:"Members"`
	Generation int              `json:"Generation"` // counts switches
	Created    time.Time        `json:"Created"`
	Updated    time.Time        `json:"Updated"`
}

// FrontendMember is one container of a frontend: its role (backend,
// previous, candidate), its address on the frontend's network, and the
// connections it still has through the frontend's ports (-1: unknown). A
// drain waits for none. Counted for GET only: the answers of create,
// update and switch leave it 0.
type FrontendMember struct {
	ID          string `json:"Id"`
	Role        string `json:"Role"`
	Address     string `json:"Address,omitempty"`
	Connections int    `json:"Connections"`
}

// FrontendPort is one published port: connections to HostIP:HostPort
// (HostIP empty: every IPv4 address) reach a backend's TargetPort.
type FrontendPort struct {
	Protocol   string `json:"Protocol"` // tcp (default) or udp
	HostIP     string `json:"HostIp,omitempty"`
	HostPort   int    `json:"HostPort"`
	TargetPort int    `json:"TargetPort"`
}

// FrontendCreateRequest is POST /berth/frontends/create's body. Containers
// are named by name or ID; a port a member container publishes itself is
// taken over.
type FrontendCreateRequest struct {
	Name       string            `json:"Name"`
	Labels     map[string]string `json:"Labels,omitempty"`
	Network    string            `json:"Network"`
	Ports      []FrontendPort    `json:"Ports,omitempty"`
	Aliases    []string          `json:"Aliases,omitempty"`
	Backends   []string          `json:"Backends,omitempty"`
	Candidates []string          `json:"Candidates,omitempty"`
}

// FrontendUpdateRequest is POST /berth/frontends/{name}/update's body:
// the fields given replace the frontend's. Candidates given and not
// empty publish "update start".
type FrontendUpdateRequest struct {
	Ports      *[]FrontendPort    `json:"Ports,omitempty"`
	Aliases    *[]string          `json:"Aliases,omitempty"`
	Labels     *map[string]string `json:"Labels,omitempty"`
	Candidates *[]string          `json:"Candidates,omitempty"`
}

// FrontendSwitchRequest is POST /berth/frontends/{name}/switch's body: new
// connections go to Backends from the answer on. Previous (absent: the
// backends switched from) is kept for a rollback; Rollback names the
// event "rollback" instead of "switch".
type FrontendSwitchRequest struct {
	Backends []string  `json:"Backends"`
	Previous *[]string `json:"Previous,omitempty"`
	Rollback bool      `json:"Rollback,omitempty"`
}
