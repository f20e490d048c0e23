package format

import (
	"strings"
	"time"
	"unicode/utf8"

	units "github.com/docker/go-units"
)

// Ellipsis shortens s to maxLen runes, ending in "…" when it was cut.
func Ellipsis(s string, maxLen int) string {
	if maxLen <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= maxLen {
		return s
	}
	r := []rune(s)
	return string(r[:maxLen-1]) + "…"
}

// TruncateID strips a "sha256:" prefix and shortens the ID to 12 characters.
func TruncateID(id string) string {
	if i := strings.IndexRune(id, ':'); i >= 0 {
		id = id[i+1:]
	}
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// HumanSize prints a size the way docker's tables do.
func HumanSize(size int64) string {
	return units.HumanSizeWithPrecision(float64(size), 3)
}

// Ago prints the time since t as "3 seconds ago".
func Ago(t time.Time, now time.Time) string {
	return units.HumanDuration(now.Sub(t)) + " ago"
}
