package events

import (
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

func TestSubscribeReplay(t *testing.T) {
	start := time.Now()
	for _, tc := range []struct {
		name  string
		since time.Time
		want  int
	}{
		{"no since: only new events", time.Time{}, 0},
		{"since before both", start.Add(-time.Second), 2},
		{"since the epoch", time.Unix(0, 0), 2},
		{"since after both", time.Now().Add(time.Second), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New()
			b.Publish(events.ContainerEventType, "start", "a", nil)
			b.Publish(events.ContainerEventType, "die", "a", nil)
			past, ch, cancel := b.Subscribe(tc.since)
			defer cancel()
			if len(past) != tc.want {
				t.Fatalf("%d past events, want %d", len(past), tc.want)
			}
			b.Publish(events.ContainerEventType, "destroy", "a", nil)
			select {
			case m := <-ch:
				if m.Action != "destroy" {
					t.Fatalf("live event %q", m.Action)
				}
			case <-time.After(time.Second):
				t.Fatal("no live event")
			}
		})
	}
}
