// Package server serves the Docker Engine API: listener, routing and API-version negotiation.
package server
