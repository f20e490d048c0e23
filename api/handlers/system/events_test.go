package system

import (
	"testing"

	"github.com/moby/moby/api/types/events"
)

func TestMatchImage(t *testing.T) {
	const id = "sha256:78ca59e897f0a3d0f186246567eca5fe1b3fbb3d98b14d4d157502f2ebbf4c2f"
	tagged := events.Message{Type: events.ImageEventType, Action: events.ActionTag,
		Actor: events.Actor{ID: id, Attributes: map[string]string{"name": "emits:latest"}}}
	started := events.Message{Type: events.ContainerEventType, Action: events.ActionStart,
		Actor: events.Actor{ID: "c0ffee", Attributes: map[string]string{"image": "busybox", "name": "web"}}}
	for _, tc := range []struct {
		m    events.Message
		want string
		ok   bool
	}{
		{tagged, id, true},             // the image ID, as `build --iidfile` wrote it
		{tagged, "emits:latest", true}, // the name as tagged
		{tagged, "emits", true},        // without its tag
		{tagged, "other", false},
		{started, "busybox", true}, // a container event: the image it runs
		{started, "web", false},    // not its name
	} {
		if got := match(tc.m, map[string][]string{"image": {tc.want}}); got != tc.ok {
			t.Errorf("image=%s on %s %s: %v, want %v", tc.want, tc.m.Type, tc.m.Action, got, tc.ok)
		}
	}
}

func TestMatchKeys(t *testing.T) {
	died := events.Message{Type: events.ContainerEventType, Action: "die", Scope: "local",
		Actor: events.Actor{ID: "c0ffee11", Attributes: map[string]string{"name": "web", "exitCode": "0", "app": "shop"}}}
	health := events.Message{Type: events.ContainerEventType, Action: "health_status: healthy", Scope: "local",
		Actor: events.Actor{ID: "c0ffee11", Attributes: map[string]string{"name": "web"}}}
	reload := events.Message{Type: events.DaemonEventType, Action: events.ActionReload, Scope: "local",
		Actor: events.Actor{ID: "3f1b-daemon", Attributes: map[string]string{"name": "host1"}}}
	for _, tc := range []struct {
		name string
		m    events.Message
		f    map[string][]string
		ok   bool
	}{
		{"no filter", died, nil, true},
		{"type", died, map[string][]string{"type": {"container"}}, true},
		{"other type", died, map[string][]string{"type": {"image"}}, false},
		{"same key ORs", died, map[string][]string{"type": {"image", "container"}}, true},
		{"keys AND", died, map[string][]string{"type": {"container"}, "event": {"start"}}, false},
		{"event", died, map[string][]string{"event": {"die"}}, true},
		{"event prefix of a health status", health, map[string][]string{"event": {"health_status"}}, true},
		{"whole health status", health, map[string][]string{"event": {"health_status: healthy"}}, true},
		{"container by name", died, map[string][]string{"container": {"web"}}, true},
		{"container by ID prefix", died, map[string][]string{"container": {"c0ff"}}, true},
		{"container elsewhere", died, map[string][]string{"container": {"db"}}, false},
		{"label key", died, map[string][]string{"label": {"app"}}, true},
		{"label key=value", died, map[string][]string{"label": {"app=shop"}}, true},
		{"label other value", died, map[string][]string{"label": {"app=bank"}}, false},
		{"labels AND", died, map[string][]string{"label": {"app=shop", "tier"}}, false},
		{"daemon by name", reload, map[string][]string{"daemon": {"host1"}}, true},
		{"daemon by ID", reload, map[string][]string{"daemon": {"3f1b-daemon"}}, true},
		{"daemon elsewhere", reload, map[string][]string{"daemon": {"host2"}}, false},
		{"scope", died, map[string][]string{"scope": {"local"}}, true},
		{"scope swarm", died, map[string][]string{"scope": {"swarm"}}, false},
		{"a key dockerd does not know", died, map[string][]string{"colour": {"red"}}, true},
	} {
		if got := match(tc.m, tc.f); got != tc.ok {
			t.Errorf("%s: %v on %s %s: %v, want %v", tc.name, tc.f, tc.m.Type, tc.m.Action, got, tc.ok)
		}
	}
}
