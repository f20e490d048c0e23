// Package events is berthd's event bus: it records recent events and fans them out to subscribers.
package events
