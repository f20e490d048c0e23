// Package runc drives an OCI runtime binary (runc or a compatible one) and receives its terminals.
package runc
