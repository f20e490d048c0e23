// Package names generates Docker-style container names.
package names
