// Package daemon wires berthd: configuration, stores, services and the API server.
package daemon
