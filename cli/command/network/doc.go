// Package network holds `berth network …`: create, ls, inspect, rm, prune,
// connect, disconnect.
package network
