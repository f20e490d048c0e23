// Package container implements the container commands: run, create, start, ps, logs, exec and the rest.
package container
