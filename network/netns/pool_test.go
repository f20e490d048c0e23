package netns

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func nsID(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestPool: a pooled namespace is a new one with lo up, each take gets
// its own, the pool refills, and Close and the next NewPool leave nothing.
func TestPool(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	// the host's, before any Create (a Create's locked thread may be the
	// main one, which Go keeps: /proc/self would then show its namespace)
	runtime.LockOSThread()
	host := nsID(t, "/proc/thread-self/ns/net")
	runtime.UnlockOSThread()
	dir := filepath.Join(t.TempDir(), "pool")
	p, err := NewPool(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	waitFree := func(n int) {
		t.Helper()
		for i := 0; i < 200; i++ {
			p.mu.Lock()
			got := len(p.free)
			p.mu.Unlock()
			if got >= n {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("the pool did not fill to %d", n)
	}
	waitFree(2)
	seen := map[uint64]bool{host: true}
	run := t.TempDir()
	for i, name := range []string{"a", "b", "c", "d"} { // more than the pool holds
		path := filepath.Join(run, name)
		if err := p.Create(path); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = Remove(path) })
		id := nsID(t, path)
		if seen[id] {
			t.Fatalf("take %d: namespace %d given before (or the host's)", i, id)
		}
		seen[id] = true
		err := Do(path, func() error {
			return loFlags(func(flags uint16) uint16 {
				if flags&unix.IFF_UP == 0 {
					t.Errorf("take %d: lo is down", i)
				}
				return flags
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFree(2)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("Close left %d namespaces", len(ents))
	}
	// a crash leaves pinned ones: the next pool removes them
	if err := Create(filepath.Join(dir, "left")); err != nil {
		t.Fatal(err)
	}
	p, err = NewPool(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := os.Stat(filepath.Join(dir, "left")); !os.IsNotExist(err) {
		t.Fatalf("a previous daemon's namespace is still there: %v", err)
	}
}
