// Package containers runs the container lifecycle: create, start, stop, attach, logs, exec and removal.
package containers
