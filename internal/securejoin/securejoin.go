// Package securejoin resolves paths inside a root directory the way the
// kernel would if the root were "/": symlinks and ".." never lead out.
package securejoin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Resolve resolves path inside root as if root were "/", following
// symlinks without ever leaving root (like securejoin.SecureJoin).
func Resolve(root, path string) (string, error) {
	const maxLinks = 255
	var resolved string // always "" or "/..." relative to root
	rest := filepath.Clean("/" + path)
	links := 0
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(strings.TrimPrefix(rest, "/"), "/")
		if rest != "" {
			rest = "/" + rest
		}
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir("/" + resolved)
			if resolved == "/" {
				resolved = ""
			}
			continue
		}
		next := resolved + "/" + part
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			// Missing components are fine: the caller gets a path to open.
			resolved = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("resolve %s in %s: too many symlinks", path, root)
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", fmt.Errorf("resolve %s in %s: %w", path, root, err)
		}
		if filepath.IsAbs(target) {
			resolved = ""
		}
		rest = "/" + target + rest
	}
	return filepath.Join(root, resolved), nil
}
