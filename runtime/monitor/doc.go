// Package monitor defines the protocol between berthd and the per-container berth-monitor process.
package monitor
