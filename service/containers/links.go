package containers

import (
	"errors"
	"path"
	"strings"
)

// RemoveLink removes the legacy link name ("/parent/alias" or
// "parent/alias"), dockerd's DELETE /containers/{name}?link=1. A running
// parent's /etc/hosts loses the entry; its environment stays until the
// next start (package networking keeps the links).
func (s *Service) RemoveLink(name string) error {
	ref := name
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	parentName, alias := path.Split(name)
	if parentName == "/" {
		if _, err := s.Get(ref); err != nil {
			return err
		}
		return errors.New("Conflict, cannot remove the default link name of the container")
	}
	parent, err := s.Get(strings.TrimSuffix(parentName, "/"))
	if err != nil {
		return NotFound(ref)
	}
	parent.mu.Lock()
	defer parent.mu.Unlock()
	if parent.HostConfig == nil || !s.net.RemoveLink(parent.net(), parent.running(), alias) {
		return NotFound(ref)
	}
	return s.save(parent)
}
