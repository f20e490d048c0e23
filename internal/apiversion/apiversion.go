// Package apiversion holds the Engine API versions berthd speaks, for the
// server that enforces them and the client that asks for them.
package apiversion

// Max is the newest Engine API version berthd speaks; Min the oldest.
const (
	Max = "1.50"
	Min = "1.24"
)
