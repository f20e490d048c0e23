// Package registry holds login, logout and search.
package registry
