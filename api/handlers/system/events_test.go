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
