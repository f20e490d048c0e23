package compose

import (
	"fmt"
	"io"
	"sync"
)

// Progress writes Docker Compose's plain progress lines (its output when
// stderr is not a terminal, or with --progress plain): " Container
// proj-web-1 Started ".
type Progress struct {
	mu  sync.Mutex
	out io.Writer
}

// NewProgress writes progress to out; nil discards it.
func NewProgress(out io.Writer) *Progress {
	if out == nil {
		out = io.Discard
	}
	return &Progress{out: out}
}

// Event reports one step of a resource, e.g. ("Container proj-web-1", "Started", "").
func (p *Progress) Event(id, text, details string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.out, "", id, text, details)
}

func containerID(name string) string { return "Container " + name }
func networkID(name string) string   { return "Network " + name }
func volumeID(name string) string    { return "Volume " + name }
