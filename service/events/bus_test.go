package events

import (
	"os"
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

func TestJournal(t *testing.T) {
	path := t.TempDir() + "/events.log"
	b := Open(path)
	b.Publish(events.ContainerEventType, "create", "a", map[string]string{"name": "x"})
	b.Publish(events.ContainerEventType, "start", "a", nil)
	b.Close()

	// a restart replays them; a torn last line (a crash mid-write) is skipped
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"Type":"container","Action":"di`)
	f.Close()
	b = Open(path)
	past, _, cancel := b.Subscribe(time.Unix(0, 0))
	cancel()
	if len(past) != 2 || past[0].Action != "create" || past[0].Actor.Attributes["name"] != "x" || past[1].Action != "start" {
		t.Fatalf("replayed %+v", past)
	}
	// bounded: the file is rewritten with the newest keep once it holds twice as many
	for i := 0; i < 3*keep; i++ {
		b.Publish(events.ContainerEventType, "die", "a", nil)
	}
	b.Close()
	got, lines := load(path)
	if len(got) != keep || lines > 2*keep {
		t.Fatalf("%d events kept, %d lines", len(got), lines)
	}
	b = Open(path)
	past, _, cancel = b.Subscribe(time.Unix(0, 0))
	cancel()
	b.Close()
	if len(past) != keep || past[len(past)-1].Action != "die" {
		t.Fatalf("after the bound: %d events", len(past))
	}
}
