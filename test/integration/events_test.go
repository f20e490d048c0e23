package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
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

// TestDaemonReload: SIGHUP makes berthd read daemon.json again and take
// what dockerd takes while running (labels, registry mirrors, insecure
// registries, debug), publishing a daemon reload event; a file it cannot
// take changes nothing and the daemon keeps serving.
func TestDaemonReload(t *testing.T) {
	d := startDaemonWith(t, map[string]any{"labels": []string{"tier=a"}})
	id := strings.TrimSpace(must(t, d.berth("info", "--format", "{{.ID}}")))
	if len(id) != 36 {
		t.Fatalf("engine ID %q is not a UUID", id)
	}
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	write := func(conf map[string]any) {
		b, _ := os.ReadFile(filepath.Join(d.root, "daemon.json"))
		var full map[string]any
		if err := json.Unmarshal(b, &full); err != nil {
			t.Fatal(err)
		}
		for k, v := range conf {
			full[k] = v
		}
		b, _ = json.Marshal(full)
		if err := os.WriteFile(filepath.Join(d.root, "daemon.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	write(map[string]any{"labels": []string{"tier=b", "zone=x"}, "registry-mirrors": []string{"http://127.0.0.1:5999"},
		"insecure-registries": []string{"10.9.0.0/16"}, "debug": true})
	info := must(t, d.berth("info", "--format", "{{json .Labels}} {{json .RegistryConfig.Mirrors}} {{.Debug}} {{.ID}}"))
	if want := `["tier=b","zone=x"] ["http://127.0.0.1:5999/"] true ` + id; strings.TrimSpace(info) != want {
		t.Fatalf("info after reload: %q, want %q", info, want)
	}
	if out := must(t, d.berth("info")); !strings.Contains(out, " 10.9.0.0/16\n") {
		t.Fatalf("info lacks the reloaded insecure registry:\n%s", out)
	}
	// an invalid mirror: the reload is refused as a whole
	write(map[string]any{"labels": []string{"tier=c"}, "registry-mirrors": []string{"not a url"}})
	if info := must(t, d.berth("info", "--format", "{{json .Labels}}")); strings.TrimSpace(info) != `["tier=b","zone=x"]` {
		t.Fatalf("a refused reload changed the labels: %s", info)
	}
	until := strconv.FormatInt(time.Now().Unix()+1, 10)
	out := must(t, d.berth("events", "--since", since, "--until", until, "--filter", "type=daemon", "--filter", "daemon="+id,
		"--format", `{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "labels"}} {{index .Actor.Attributes "registry-mirrors"}} {{index .Actor.Attributes "debug"}}`))
	if want := "reload " + id + ` ["tier=b","zone=x"] ["http://127.0.0.1:5999"] true`; strings.TrimSpace(out) != want {
		t.Fatalf("daemon events:\n%s\nwant exactly one %q", out, want)
	}
	log, _ := os.ReadFile(filepath.Join(d.root, "berthd.log"))
	if !strings.Contains(string(log), "invalid mirror") {
		t.Fatalf("the refused reload is not in the log:\n%s", log)
	}
	write(map[string]any{"registry-mirrors": []string{}})
	d.stop(syscall.SIGTERM)
	d.start() // the ID lasts
	if again := strings.TrimSpace(must(t, d.berth("info", "--format", "{{.ID}}"))); again != id {
		t.Fatalf("engine ID changed across a restart: %s, was %s", again, id)
	}
}

// TestContainerEventActions: the container actions dockerd publishes for
// the everyday commands, with its action strings (exec's keep the space
// after the program even without arguments).
func TestContainerEventActions(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	must(t, d.berth("run", "-d", "--name", "acts", "--network", "none", "busybox", "sleep", "100"))
	must(t, d.berth("exec", "acts", "true"))
	must(t, d.berth("exec", "acts", "sh", "-c", "exit 0"))
	must(t, d.berth("top", "acts"))
	must(t, d.berth("export", "-o", filepath.Join(t.TempDir(), "fs.tar"), "acts"))
	must(t, d.berth("commit", "acts", "acts-img"))
	must(t, d.berth("run", "--rm", "--network", "none", "busybox", "true"))
	must(t, d.berth("rm", "-f", "acts"))
	time.Sleep(100 * time.Millisecond)
	until := strconv.FormatInt(time.Now().Unix()+1, 10)
	out := must(t, d.berth("events", "--since", since, "--until", until, "--filter", "type=container", "--format", "{{.Action}}|{{.Actor.Attributes.execID}}"))
	got := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		action, execID, _ := strings.Cut(l, "|")
		if strings.HasPrefix(action, "exec_") && len(execID) != 64 {
			t.Errorf("%q has no execID", l)
		}
		got[action] = true
	}
	for _, want := range []string{"create", "start", "exec_create: true ", "exec_start: true ", "exec_die", "exec_start: sh -c exit 0",
		"top", "export", "pause", "unpause", "commit", "attach", "die", "kill", "destroy"} {
		if !got[want] {
			t.Errorf("no %q event in:\n%s", want, out)
		}
	}
}
