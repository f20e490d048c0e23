package netns

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Pool makes network namespaces ahead of need: a container's start takes
// a ready one (one bind mount) instead of making one, which is a quarter
// of a millisecond of unshare here, on every start's critical path. A
// filler goroutine keeps up to size of them pinned in dir, making the
// next one after each take and removing the taken one's pool pin (an
// unmount waits for an RCU grace period).
type Pool struct {
	dir  string
	size int

	mu    sync.Mutex
	free  []string
	stale []string // taken ones' pool pins, for the filler to remove
	seq   int

	wake chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

// NewPool removes what a previous daemon left in dir and starts filling.
func NewPool(dir string, size int) (*Pool, error) {
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if err := Remove(filepath.Join(dir, e.Name())); err != nil {
				return nil, err
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &Pool{dir: dir, size: size, wake: make(chan struct{}, 1), done: make(chan struct{})}
	p.wg.Add(1)
	go p.fill()
	p.kick()
	return p, nil
}

func (p *Pool) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Pool) fill() {
	defer p.wg.Done()
	for {
		select {
		case <-p.done:
			return
		case <-p.wake:
		}
		// unpinning waits for an RCU grace period: here, not in a take
		p.mu.Lock()
		stale := p.stale
		p.stale = nil
		p.mu.Unlock()
		for _, path := range stale {
			_ = Remove(path)
		}
		for {
			p.mu.Lock()
			full := len(p.free) >= p.size
			p.seq++
			path := filepath.Join(p.dir, strconv.Itoa(p.seq))
			p.mu.Unlock()
			if full {
				break
			}
			if err := Create(path); err != nil {
				break // a take makes its own, and kicks again
			}
			p.mu.Lock()
			p.free = append(p.free, path)
			p.mu.Unlock()
			select {
			case <-p.done:
				return
			default:
			}
		}
	}
}

// Create pins a new network namespace, lo up, at path: a pooled one when
// one is ready, else one made now.
func (p *Pool) Create(path string) error {
	p.mu.Lock()
	var ready string
	if n := len(p.free); n > 0 {
		ready, p.free = p.free[n-1], p.free[:n-1]
	}
	p.mu.Unlock()
	if ready == "" {
		p.kick()
		return Create(path)
	}
	err := repin(ready, path)
	p.mu.Lock()
	p.stale = append(p.stale, ready)
	p.mu.Unlock()
	p.kick()
	if err != nil {
		_ = Remove(path)
		return Create(path)
	}
	return nil
}

// repin pins the namespace pinned at src at dst too.
func repin(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("create netns file: %w", err)
	}
	f.Close()
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("pin netns at %s: %w", dst, err)
	}
	return nil
}

// Close stops the filler and removes the namespaces it made.
func (p *Pool) Close() error {
	close(p.done)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	var first error
	for _, path := range append(p.free, p.stale...) {
		if err := Remove(path); err != nil && first == nil {
			first = err
		}
	}
	p.free, p.stale = nil, nil
	return first
}
