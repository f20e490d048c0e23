// Package volume holds `berth volume …`: create, ls, inspect, rm, prune.
package volume
