// Package apiext names berthd's extensions of the Engine API, for the
// server that serves them and the berth CLI that uses them
// (docs/api-extensions.md). A Docker daemon ignores them: an unknown
// query parameter is not an error there, so a client asking for an
// extension learns from the answer whether it was served.
package apiext

// One-request run -d: POST /containers/create?berth-start=1 creates the
// container and starts it. The answer is the create's (201, its body) with
// StartedHeader set, or, when the start failed, the start's error with
// ContainerHeader naming the container that was created.
const (
	StartParam      = "berth-start"
	StartedHeader   = "Berth-Started"
	ContainerHeader = "Berth-Container"
)
