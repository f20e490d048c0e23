// Package htpasswd reads Apache htpasswd files (bcrypt entries, as
// `htpasswd -B` writes and the reference registry accepts).
package htpasswd

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Load reads an htpasswd file into name → password check.
func Load(path string) (map[string]func(string) bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

// Parse reads htpasswd lines ("name:$2y$…"); blank lines and comments are
// skipped, and an entry that is not bcrypt is refused (the other htpasswd
// schemes are not safe to accept).
func Parse(r io.Reader) (map[string]func(string) bool, error) {
	users := map[string]func(string) bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		name, hash, ok := strings.Cut(t, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("htpasswd line %d: not name:hash", line)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("htpasswd line %d: %s: only bcrypt entries are supported", line, name)
		}
		h := []byte(hash)
		users[name] = func(password string) bool { return bcrypt.CompareHashAndPassword(h, []byte(password)) == nil }
	}
	return users, sc.Err()
}
