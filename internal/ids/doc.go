// Package ids makes Docker-style random 64-hex object IDs.
package ids
