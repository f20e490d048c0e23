package events

import (
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
)

const keep = 1024

// Bus publishes events to subscribers and keeps the last events for --since.
type Bus struct {
	mu      sync.Mutex
	recent  []events.Message
	subs    map[chan events.Message]struct{}
	journal *journal // nil: the events live in memory only
}

// New returns an empty bus.
func New() *Bus { return &Bus{subs: map[chan events.Message]struct{}{}} }

// Open returns a bus that keeps its recent events in the file at path
// too, starting with those the file holds (journal.go).
func Open(path string) *Bus {
	b := New()
	var lines int
	b.recent, lines = load(path)
	b.journal = openJournal(path, lines)
	return b
}

// Close writes out the queued events of an Open bus.
func (b *Bus) Close() {
	if b.journal != nil {
		b.journal.close()
	}
}

// Publish records an event for an object.
func (b *Bus) Publish(typ events.Type, action events.Action, id string, attrs map[string]string) {
	now := time.Now().UTC()
	m := events.Message{
		Type:     typ,
		Action:   action,
		Actor:    events.Actor{ID: id, Attributes: attrs},
		Scope:    "local",
		Time:     now.Unix(),
		TimeNano: now.UnixNano(),
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recent = append(b.recent, m)
	if len(b.recent) > keep {
		b.recent = b.recent[len(b.recent)-keep:]
	}
	if b.journal != nil {
		b.journal.add(m)
	}
	for ch := range b.subs {
		select {
		case ch <- m:
		default: // a subscriber that does not read loses events rather than blocking the daemon
		}
	}
}

// Subscribe returns the recorded events since `since` and a channel of new
// ones; call cancel to stop.
func (b *Bus) Subscribe(since time.Time) (past []events.Message, ch <-chan events.Message, cancel func()) {
	c := make(chan events.Message, 256)
	b.mu.Lock()
	// without a since only new events are sent, as dockerd does (docker
	// stats counts on it: a replayed start adds a row for a gone container)
	for _, m := range b.recent {
		if since.IsZero() || time.Unix(0, m.TimeNano).Before(since) {
			continue
		}
		past = append(past, m)
	}
	b.subs[c] = struct{}{}
	b.mu.Unlock()
	return past, c, func() {
		b.mu.Lock()
		delete(b.subs, c)
		b.mu.Unlock()
	}
}
