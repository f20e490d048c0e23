// Package cli holds the berth root command, the daemon client and the exit-status conventions of the docker CLI.
package cli
