// Package integration runs a real berthd on a temporary root and drives it with the berth and docker CLIs.
package integration
