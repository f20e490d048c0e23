package images

import (
	"github.com/berth-project/berth/service/events"
	"github.com/opencontainers/go-digest"

	eventtypes "github.com/moby/moby/api/types/events"
)

// SetEvents makes the service publish image events (tag, untag, delete,
// import, load, save, create) on bus, as dockerd does.
func (s *Service) SetEvents(bus *events.Bus) { s.events = bus }

// Publish sends an image event: the actor is the image, its attributes the
// image's labels and name (dockerd's LogImageEvent; name is the new tag
// for tag, the image ID otherwise).
func (s *Service) Publish(action eventtypes.Action, id digest.Digest, name string) {
	if s.events == nil {
		return
	}
	attrs := map[string]string{}
	if img, ok := s.Get(id); ok && img.Config != nil {
		for k, v := range img.Config.Config.Labels {
			attrs[k] = v
		}
	}
	if name == "" {
		name = id.String()
	}
	attrs["name"] = name
	s.events.Publish(eventtypes.ImageEventType, action, id.String(), attrs)
}
