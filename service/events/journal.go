package events

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/moby/moby/api/types/events"
)

// journal keeps the bus's recent events in a file of JSON lines, so that
// --since replays reach back across a daemon restart (beyond dockerd,
// which forgets them). Publish only queues an event: a goroutine appends
// it, without an fsync, so no container start waits for the disk; a
// kill -9 loses at most the queued ones, and a torn last line is skipped
// when the file is read back. Once the file holds twice what the bus keeps
// it is rewritten with the newest (temp file, then rename).
type journal struct {
	path string
	// queue holds pointers: 4096 messages by value were 360 kB held
	// for the daemon's life
	queue chan *events.Message
	done  chan struct{}
	once  sync.Once
}

// load reads a journal's events, oldest first, at most keep of them, and
// how many lines the file has.
func load(path string) ([]events.Message, int) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0
	}
	defer f.Close()
	var out []events.Message
	lines := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines++
		var m events.Message
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue // torn by a crash
		}
		out = append(out, m)
	}
	if len(out) > keep {
		out = out[len(out)-keep:]
	}
	return out, lines
}

func openJournal(path string, lines int) *journal {
	j := &journal{path: path, queue: make(chan *events.Message, 4096), done: make(chan struct{})}
	go j.write(lines)
	return j
}

// write appends queued events until the queue is closed; lines is how
// many the file holds already.
func (j *journal) write(lines int) {
	defer close(j.done)
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		for range j.queue { // keep Publish from blocking; the file is lost
		}
		return
	}
	w := bufio.NewWriter(f)
	recent, _ := load(j.path)
	for m := range j.queue {
		b, err := json.Marshal(m)
		if err != nil {
			continue
		}
		w.Write(append(b, '\n'))
		recent = append(recent, *m)
		if len(recent) > keep {
			recent = recent[len(recent)-keep:]
		}
		lines++
		if len(j.queue) == 0 { // a burst ends: to the kernel
			w.Flush()
		}
		if lines >= 2*keep {
			w.Flush()
			f.Close()
			if j.rewrite(recent) == nil {
				lines = len(recent)
			}
			if f, err = os.OpenFile(j.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
				for range j.queue {
				}
				return
			}
			w.Reset(f)
		}
	}
	w.Flush()
	f.Close()
}

// rewrite replaces the file with the given events.
func (j *journal) rewrite(ms []events.Message) error {
	tmp, err := os.CreateTemp(filepath.Dir(j.path), ".events-*")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(tmp)
	for _, m := range ms {
		b, _ := json.Marshal(m)
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), j.path)
}

func (j *journal) add(m events.Message) {
	select {
	case j.queue <- &m:
	default: // the writer is behind: the event is still published, just not kept
	}
}

func (j *journal) close() {
	j.once.Do(func() { close(j.queue) })
	<-j.done
}
