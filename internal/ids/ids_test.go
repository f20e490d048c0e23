package ids

import (
	"regexp"
	"testing"
)

func TestNew(t *testing.T) {
	re := regexp.MustCompile(`^[a-f0-9]{64}$`)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := New()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
		if Short(id) != id[:12] {
			t.Fatal("Short")
		}
	}
}
