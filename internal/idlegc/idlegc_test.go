package idlegc

import "testing"

func TestWatch(t *testing.T) {
	w := watch{quiet: 100, busy: true}
	for i, c := range []struct {
		total   uint64
		release bool
	}{
		{50, true},    // quiet from the start: the start-up garbage goes
		{60, false},   // still quiet: nothing more to give back
		{500, false},  // busy
		{2000, false}, // busy
		{2050, true},  // the first quiet check after a burst
		{2060, false},
		{2160, false}, // exactly quiet bytes: busy
		{2170, true},
	} {
		if got := w.next(c.total); got != c.release {
			t.Fatalf("check %d (total %d): release %v, want %v", i, c.total, got, c.release)
		}
	}
}

func TestAllocated(t *testing.T) {
	before := allocated()
	buf := make([][]byte, 0, 64)
	for i := 0; i < 64; i++ {
		buf = append(buf, make([]byte, 4096))
	}
	// the runtime counts a span when it is handed out or given back:
	// most, not all, of what was allocated shows at once
	if after := allocated(); after < before+32*4096 || len(buf) != 64 {
		t.Fatalf("allocated %d then %d: the 256 kB allocated in between do not count", before, after)
	}
}
