package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPsFiltersAndFormats(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("tag", "busybox", "other:1"))
	up := must(t, d.berth("run", "-d", "--name", "up1", "-l", "tier=web", "busybox", "sleep", "1000"))
	if r := d.berth("run", "--name", "done3", "-l", "tier=db", "other:1", "sh", "-c", "exit 3"); r.code != 3 {
		t.Fatalf("exit 3: %s", r)
	}
	must(t, d.berth("create", "--name", "fresh", "busybox", "true"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ps", "--format", "{{.Names}}"}, "up1"},
		{[]string{"ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}"}, "done3"},
		{[]string{"ps", "-a", "--filter", "status=created", "--format", "{{.Names}}"}, "fresh"},
		{[]string{"ps", "-a", "--filter", "name=done", "--format", "{{.Names}}"}, "done3"},
		{[]string{"ps", "-a", "--filter", "label=tier=db", "--format", "{{.Names}}"}, "done3"},
		// other:1 is busybox under another name: ancestor matches by image ID, as Docker.
		{[]string{"ps", "-a", "--filter", "ancestor=other:1", "--format", "{{.Names}}"}, "fresh\ndone3\nup1"},
		{[]string{"ps", "-a", "--filter", "id=" + up[:6], "--format", "{{.Names}}"}, "up1"},
		{[]string{"ps", "-a", "--filter", "exited=3", "--format", "{{.Names}} {{.Status}}"}, "done3 Exited (3)"},
		{[]string{"ps", "-l", "--format", "{{.Names}}"}, "fresh"},
		{[]string{"ps", "-a", "-n", "2", "--format", "{{.Names}}"}, "fresh\ndone3"},
		{[]string{"ps", "-q", "--no-trunc"}, up},
		{[]string{"images", "--filter", "reference=other", "--format", "{{.Repository}}:{{.Tag}}"}, "other:1"},
	} {
		if out := must(t, d.berth(tc.args...)); !strings.HasPrefix(out, tc.want) || (len(tc.want) > 0 && strings.Count(out, "\n") != strings.Count(tc.want, "\n")) {
			t.Errorf("%v: got %q, want %q", tc.args, out, tc.want)
		}
	}
	// before/since name containers (created strictly before/after), network
	// a network by name or ID prefix, publish the published ports, expose
	// the exposed ones, is-task swarm tasks (none here)
	must(t, d.berth("network", "create", "fnet"))
	netID := must(t, d.berth("network", "inspect", "-f", "{{.Id}}", "fnet"))
	must(t, d.berth("create", "--name", "pub", "--network", "fnet", "-p", "8081:80", "--expose", "9000/udp", "busybox", "true"))
	for _, tc := range []struct {
		filter string
		want   string
	}{
		{"before=done3", "up1"},
		{"since=done3", "pub\nfresh"},
		{"network=fnet", "pub"},
		{"network=" + netID[:8], "pub"},
		{"network=bridge", "fresh\ndone3\nup1"},
		{"publish=80", "pub"},
		{"publish=79-81/tcp", "pub"},
		{"publish=80/udp", ""},
		{"expose=9000/udp", "pub"},
		{"expose=9000", ""},
		{"is-task=true", ""},
		{"is-task=false", "pub\nfresh\ndone3\nup1"},
	} {
		if out := must(t, d.berth("ps", "-a", "--filter", tc.filter, "--format", "{{.Names}}")); out != tc.want {
			t.Errorf("ps --filter %s: got %q, want %q", tc.filter, out, tc.want)
		}
	}
	for _, bad := range []struct{ filter, msg string }{
		{"before=nosuch", "No such container: nosuch"},
		{"publish=x", "invalid publish filter"},
		{"is-task=maybe", "Invalid filter 'is-task=maybe'"},
	} {
		if r := d.berth("ps", "-a", "--filter", bad.filter); r.code == 0 || !strings.Contains(r.stderr, bad.msg) {
			t.Errorf("ps --filter %s: %s", bad.filter, r)
		}
	}
	must(t, d.berth("rm", "pub"))
	must(t, d.berth("network", "rm", "fnet"))
	head := strings.SplitN(must(t, d.berth("ps")), "\n", 2)[0]
	if !matchRE(`^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$`, head) {
		t.Errorf("ps header: %q", head)
	}
	head = strings.SplitN(must(t, d.berth("images")), "\n", 2)[0]
	if !matchRE(`^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$`, head) {
		t.Errorf("images header: %q", head)
	}
	// --env-file and --stop-signal.
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# comment\nFROM_FILE=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := must(t, d.berth("run", "--rm", "--env-file", envFile, "busybox", "sh", "-c", "echo $FROM_FILE")); out != "yes" {
		t.Errorf("--env-file: %q", out)
	}
	id := must(t, d.berth("run", "-d", "--stop-signal", "USR1", "busybox", "sh", "-c", "trap 'exit 9' USR1; while true; do sleep 0.1; done"))
	must(t, d.berth("stop", id))
	if out := must(t, d.berth("inspect", "-f", "{{.State.ExitCode}}", id)); out != "9" {
		t.Errorf("--stop-signal USR1: exit %q", out)
	}
}

func TestEventsAndLogTimes(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	must(t, d.berth("run", "--name", "ev", "busybox", "sh", "-c", "echo first"))
	must(t, d.berth("rm", "ev"))
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	out := must(t, d.berth("events", "--since", since, "--until", until, "--filter", "container=ev", "--format", "{{json .}}"))
	var actions []string
	for _, line := range strings.Split(out, "\n") {
		var m struct{ Action string }
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("events line %q: %v", line, err)
		}
		actions = append(actions, m.Action)
	}
	if got := strings.Join(actions, " "); got != "create attach start die destroy" && got != "create start die destroy" {
		t.Errorf("events: %q", got)
	}
	out = must(t, d.berth("events", "--since", since, "--until", until, "--filter", "event=die", "--format", "{{.Actor.Attributes.exitCode}}"))
	if out != "0" {
		t.Errorf("die events: %q", out)
	}
	// logs --since/--until select by time.
	id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", "echo early; sleep 2; echo late; sleep 1000"))
	waitFor(t, func() bool { return strings.Contains(d.berth("logs", id).stdout, "late") })
	mid := must(t, d.berth("inspect", "-f", "{{.State.StartedAt}}", id))
	start, err := time.Parse(time.RFC3339Nano, mid)
	if err != nil {
		t.Fatal(err)
	}
	cut := start.Add(time.Second).Format(time.RFC3339Nano)
	if out := must(t, d.berth("logs", "--since", cut, id)); out != "late" {
		t.Errorf("logs --since: %q", out)
	}
	if out := must(t, d.berth("logs", "--until", cut, id)); out != "early" {
		t.Errorf("logs --until: %q", out)
	}
}

func matchRE(pattern, s string) bool {
	return regexp.MustCompile(pattern).MatchString(s)
}
