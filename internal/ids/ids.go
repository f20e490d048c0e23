package ids

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
)

// New returns a random 64-hex ID whose 12-character short form is not a
// plain number (Docker avoids those so short IDs are never read as ints).
func New() string {
	b := make([]byte, 32)
	for {
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		if _, err := strconv.ParseUint(id[:12], 10, 64); err == nil {
			continue
		}
		return id
	}
}

// Short returns the 12-character form of an ID.
func Short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
