package system

import (
	"net/http"
	"strings"
	"time"

	"github.com/berth-project/berth/api/httputil"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/events"
)

// events streams events as JSON lines, filtered like docker's.
func (h handlers) events(w http.ResponseWriter, r *http.Request) error {
	since, err := httputil.ParseTime(r.URL.Query().Get("since"))
	if err != nil {
		return err
	}
	until, err := httputil.ParseTime(r.URL.Query().Get("until"))
	if err != nil {
		return err
	}
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	if since.IsZero() && !until.IsZero() {
		since = time.Unix(0, 0) // an until alone replays the past up to it, as dockerd does
	}
	past, ch, cancel := h.b.Subscribe(since)
	defer cancel()
	s := httputil.NewJSONStream(w)
	send := func(m events.Message) bool {
		if !until.IsZero() && time.Unix(0, m.TimeNano).After(until) {
			return false
		}
		if match(m, f) {
			return s.Send(m) == nil
		}
		return true
	}
	for _, m := range past {
		if !send(m) {
			return nil
		}
	}
	var deadline <-chan time.Time
	if !until.IsZero() {
		deadline = time.After(time.Until(until))
	}
	for {
		select {
		case m := <-ch:
			if !send(m) {
				return nil
			}
		case <-deadline:
			return nil
		case <-r.Context().Done():
			return nil
		}
	}
}

func match(m events.Message, f map[string][]string) bool {
	anyOf := func(key, val string, alt ...string) bool {
		vals := f[key]
		if len(vals) == 0 {
			return true
		}
		for _, v := range vals {
			if v == val {
				return true
			}
			for _, a := range alt {
				if v == a {
					return true
				}
			}
		}
		return false
	}
	action := string(m.Action)
	if i := strings.Index(action, ":"); i > 0 {
		action = action[:i]
	}
	name := m.Actor.Attributes["name"]
	// container=, volume=, network=, daemon=… as dockerd's fuzzy name
	// match: the actor's ID or name, whole or by prefix, whatever the
	// event's type. Keys dockerd does not know are ignored, as it does.
	idMatch := true
	for _, key := range []string{"container", "volume", "network", "daemon", "plugin", "service", "node", "secret", "config"} {
		if len(f[key]) == 0 {
			continue
		}
		ok := false
		for _, v := range f[key] {
			if v == name || v == m.Actor.ID || strings.HasPrefix(m.Actor.ID, v) || (name != "" && strings.HasPrefix(name, v)) {
				ok = true
			}
		}
		idMatch = idMatch && ok
	}
	labelsOK := true
	for _, l := range f["label"] {
		k, v, hasV := strings.Cut(l, "=")
		got, ok := m.Actor.Attributes[k]
		if !ok || (hasV && got != v) {
			labelsOK = false
		}
	}
	return anyOf("type", string(m.Type)) && anyOf("scope", m.Scope) && anyOf("event", action, string(m.Action)) &&
		imageMatch(m, f["image"]) && idMatch && labelsOK
}

// imageMatch is dockerd's image filter: the actor's ID, or the image it
// names (the "name" attribute of an image event, "image" otherwise), as
// given or without its tag.
func imageMatch(m events.Message, want []string) bool {
	if len(want) == 0 {
		return true
	}
	attr := "image"
	if m.Type == events.ImageEventType {
		attr = "name"
	}
	name := m.Actor.Attributes[attr]
	for _, v := range want {
		if v == m.Actor.ID || v == name || v == stripTag(m.Actor.ID) || (name != "" && v == stripTag(name)) {
			return true
		}
	}
	return false
}

// stripTag is an image reference's familiar name without tag or digest.
func stripTag(image string) string {
	n, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return image
	}
	return reference.FamiliarName(n)
}
