package integration

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEventsAcrossRestart: berthd keeps its recent events in a file, so a
// --since replay reaches back across a restart, even after a kill -9.
func TestEventsAcrossRestart(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	must(t, d.berth("run", "--name", "ev", "--network", "none", "busybox", "true"))
	must(t, d.berth("volume", "create", "evvol"))
	must(t, d.berth("network", "create", "evnet"))
	must(t, d.berth("network", "rm", "evnet"))
	time.Sleep(200 * time.Millisecond) // the journal's writer appends in the background
	d.stop(syscall.SIGKILL)
	d.start()
	until := strconv.FormatInt(time.Now().Unix()+1, 10)
	out := must(t, d.berth("events", "--since", since, "--until", until, "--format", `{{.Type}} {{.Action}} {{if eq .Type "volume"}}{{.Actor.ID}}{{else}}{{.Actor.Attributes.name}}{{end}}`))
	for _, want := range []string{"container create ev", "container start ev", "container die ev", "volume create evvol", "network create evnet", "network destroy evnet"} {
		if !strings.Contains(out, want+"\n") && !strings.HasSuffix(out, want) {
			t.Fatalf("replay after a kill -9 lacks %q:\n%s", want, out)
		}
	}
	// filters combine as dockerd's: the same key ORs, different keys AND
	out = must(t, d.berth("events", "--since", since, "--until", until, "--filter", "type=container", "--filter", "event=start", "--filter", "event=die", "--format", "{{.Action}}"))
	if strings.Contains(out, "create") || !strings.Contains(out, "start") || !strings.Contains(out, "die") {
		t.Fatalf("filtered replay:\n%s", out)
	}
}

// TestEventTypes: volume mount and unmount around a container's run, the
// prune events of system prune, and the volume= filter.
func TestEventTypes(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	must(t, d.berth("run", "--rm", "--network", "none", "-v", "evdata:/data", "busybox", "true"))
	must(t, d.berth("system", "prune", "-f", "--volumes"))
	time.Sleep(100 * time.Millisecond)
	until := strconv.FormatInt(time.Now().Unix()+1, 10)
	out := must(t, d.berth("events", "--since", since, "--until", until, "--filter", "type=volume", "--format", `{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "destination"}} {{index .Actor.Attributes "read/write"}}`))
	for _, want := range []string{"create evdata  ", "mount evdata /data true", "unmount evdata  "} {
		if !strings.Contains(out, want) {
			t.Fatalf("volume events lack %q:\n%s", want, out)
		}
	}
	out = must(t, d.berth("events", "--since", since, "--until", until, "--filter", "event=prune", "--format", `{{.Type}} {{.Action}}`))
	for _, typ := range []string{"container", "network", "volume", "image", "builder"} {
		if !strings.Contains(out, typ+" prune") {
			t.Fatalf("no %s prune event:\n%s", typ, out)
		}
	}
	out = must(t, d.berth("events", "--since", since, "--until", until, "--filter", "volume=evdata", "--format", `{{.Type}} {{.Action}}`))
	if !strings.Contains(out, "volume mount") || strings.Contains(out, "container") {
		t.Fatalf("volume=evdata:\n%s", out)
	}
}
