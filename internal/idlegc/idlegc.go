// Package idlegc returns a quiet daemon's free heap to the kernel.
package idlegc

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Run checks every period how much the process allocated since the last
// check; on the first quiet check (less than quiet bytes) after a busy
// one it collects and returns the free heap to the kernel. The Go runtime
// keeps pages up to its heap goal (at least 4 MB) for the next burst:
// berthd's live heap is about 1 MB, so between bursts most of its
// anonymous memory was heap it had freed. A forced collection costs a
// millisecond or two once per quiet spell. Run returns when ctx is done.
func Run(ctx context.Context, period time.Duration, quiet uint64) {
	t := time.NewTicker(period)
	defer t.Stop()
	w := watch{quiet: quiet, busy: true, last: allocated()}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if w.next(allocated()) {
				debug.FreeOSMemory()
			}
		}
	}
}

// watch decides from the allocation counter when a quiet spell begins.
type watch struct {
	quiet uint64 // bytes per period below which the process is quiet
	busy  bool   // allocations since the last release
	last  uint64 // the counter at the last check
}

// next takes the counter's value now and says whether to release.
func (w *watch) next(total uint64) bool {
	n := total - w.last
	w.last = total
	if n >= w.quiet {
		w.busy = true
		return false
	}
	release := w.busy
	w.busy = false
	return release
}

var sample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

// allocated is the bytes allocated on the heap since the process began.
func allocated() uint64 {
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}
