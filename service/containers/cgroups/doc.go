// Package cgroups is a container's cgroup where berthd touches it itself rather than through the runtime: where it is, its directories made ahead of a start, and the freezer that pauses it.
package cgroups
