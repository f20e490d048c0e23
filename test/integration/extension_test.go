package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
)

// createAndStart posts a create asking berthd to start the container too
// (internal/apiext) and returns the status, the answer's headers and body.
func (d *daemon) createAndStart(t *testing.T, body map[string]any, ask bool) (int, http.Header, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	path := "http://berth/v1.50/containers/create"
	if ask {
		path += "?berth-start=1"
	}
	req, err := http.NewRequest("POST", path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.unixClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

func TestCreateAndStartInOneRequest(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	state := func(id string) string {
		return must(t, d.berth("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", id))
	}
	for _, tc := range []struct {
		name      string
		body      map[string]any
		ask       bool
		code      int
		started   bool
		named     bool   // the failed start's answer names the created container
		wantState string // inspect's status and exit code; "" for a container that is gone
	}{
		{"asked", map[string]any{"Image": "busybox", "Cmd": []string{"sleep", "100"}}, true, 201, true, false, "running 0"},
		{"not asked", map[string]any{"Image": "busybox", "Cmd": []string{"sleep", "100"}}, false, 201, false, false, "created 0"},
		{"start fails", map[string]any{"Image": "busybox", "Cmd": []string{"nosuch"}}, true, 500, false, true, "created 127"},
		{"start fails, auto-remove", map[string]any{"Image": "busybox", "Cmd": []string{"nosuch"}, "HostConfig": map[string]any{"AutoRemove": true}}, true, 500, false, true, ""},
		{"create fails", map[string]any{"Image": "nosuchimage"}, true, 404, false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := d.createAndStart(t, tc.body, tc.ask)
			if code != tc.code || (h.Get("Berth-Started") != "") != tc.started || (h.Get("Berth-Container") != "") != tc.named {
				t.Fatalf("%d %v %s", code, h, body)
			}
			var id string
			if code == 201 {
				var cr struct{ Id string }
				if err := json.Unmarshal(body, &cr); err != nil || cr.Id == "" {
					t.Fatalf("%s: %v", body, err)
				}
				id = cr.Id
			} else if tc.named {
				id = h.Get("Berth-Container")
				if !strings.Contains(string(body), `executable file not found`) {
					t.Fatalf("error: %s", body)
				}
			}
			if id == "" {
				return
			}
			if tc.wantState == "" {
				waitFor(t, func() bool { return d.berth("inspect", id).code != 0 })
				return
			}
			if got := state(id); got != tc.wantState {
				t.Fatalf("state %q, want %q", got, tc.wantState)
			}
		})
	}

	// run -d: the berth CLI in one request, the docker CLI in two; both print
	// the ID, a failed start's error after it
	for cliName, cli := range map[string]func(...string) result{"berth": d.berth, "docker": d.docker} {
		r := cli("run", "-d", "busybox", "sleep", "100")
		if r.code != 0 || state(strings.TrimSpace(r.stdout)) != "running 0" {
			t.Fatalf("%s run -d: %s", cliName, r)
		}
		r = cli("run", "-d", "busybox", "nosuch")
		if id := strings.TrimSpace(r.stdout); r.code != 127 || len(id) != 64 || state(id) != "created 127" || !strings.Contains(r.stderr, "executable file not found") {
			t.Fatalf("%s run -d of a missing command: %s", cliName, r)
		}
	}

	// the answer waits for the record: a kill -9 right after it loses nothing
	id := strings.TrimSpace(must(t, d.berth("run", "-d", "busybox", "sleep", "100")))
	d.stop(syscall.SIGKILL)
	d.start()
	if got := state(id); got != "running 0" {
		t.Fatalf("after a kill -9: %q", got)
	}
	must(t, d.berth("rm", "-f", id))
}
