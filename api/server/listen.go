package server

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// Listen opens a unix socket for addr ("unix:///path" or a path), mode 0660
// and group `berth` (created if missing), never world-writable.
func Listen(addr string) (net.Listener, error) {
	path := strings.TrimPrefix(addr, "unix://")
	if strings.Contains(path, "://") {
		return nil, fmt.Errorf("unsupported listen address %q: only unix sockets", addr)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("another daemon is listening on %s", path)
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	gid := 0
	if g, err := ensureGroup("berth"); err == nil {
		gid = g
	}
	if err := os.Chown(path, 0, gid); err != nil && os.Geteuid() == 0 {
		ln.Close()
		return nil, err
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

func ensureGroup(name string) (int, error) {
	if g, err := user.LookupGroup(name); err == nil {
		return strconv.Atoi(g.Gid)
	}
	if os.Geteuid() != 0 {
		return 0, fmt.Errorf("group %s missing", name)
	}
	if err := runGroupadd(name); err != nil {
		return 0, err
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(g.Gid)
}
