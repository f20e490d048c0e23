// Package format renders docker-style tables, JSON and Go templates for --format.
package format
