package integration

// Engine API behaviours Docker clients (docker-py, Moby's suites) rely on,
// checked at the HTTP level.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// api sends one request to the daemon and returns the status and body.
func (d *daemon) api(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://berth/v1.50"+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.unixClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// apiJSON sends a request that must answer want and decodes the answer into v.
func (d *daemon) apiJSON(t *testing.T, method, path string, body any, want int, v any) {
	t.Helper()
	code, b := d.api(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s: %d %s (want %d)", method, path, code, b, want)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// hijack sends an upgrading POST and returns the connection after the
// response head, with the head's Content-Type.
func (d *daemon) hijack(t *testing.T, path string, body any) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	conn, err := net.Dial("unix", d.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	b, _ := json.Marshal(body)
	fmt.Fprintf(conn, "POST /v1.50%s HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: %d\r\n\r\n%s", path, len(b), b)
	// Read the head as docker-py does: one read into a buffer, after which
	// it takes the raw socket; stream bytes that came with the head would
	// be lost to it, so the head must arrive alone.
	first := make([]byte, 8192)
	n, err := conn.Read(first)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(first[:n], []byte("\r\n\r\n")) && bytes.HasPrefix(first[:n], []byte("HTTP/1.1 101")) {
		t.Fatalf("POST %s: stream bytes arrived with the response head: %q", path, first[:n])
	}
	br := bufio.NewReader(io.MultiReader(bytes.NewReader(first[:n]), conn))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, msg)
	}
	return conn, br, resp.Header.Get("Content-Type")
}

// TestKillWaitsForExit: after POST /kill (SIGKILL) returns, inspect shows
// the container stopped and a plain rm succeeds (docker-py's kill tests).
func TestKillWaitsForExit(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	for i := 0; i < 5; i++ {
		id := must(t, d.berth("run", "-d", "busybox", "sleep", "1000"))
		d.apiJSON(t, "POST", "/containers/"+id+"/kill", nil, http.StatusNoContent, nil)
		var info struct {
			State struct {
				Running  bool
				ExitCode int
			}
		}
		d.apiJSON(t, "GET", "/containers/"+id+"/json", nil, http.StatusOK, &info)
		if info.State.Running || info.State.ExitCode != 137 {
			t.Fatalf("after kill: %+v", info.State)
		}
		d.apiJSON(t, "DELETE", "/containers/"+id, nil, http.StatusNoContent, nil)
	}
	// another signal only has to be delivered
	id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", "trap 'exit 3' USR1; while :; do sleep 0.1; done"))
	time.Sleep(300 * time.Millisecond) // let the shell set its trap
	d.apiJSON(t, "POST", "/containers/"+id+"/kill?signal=USR1", nil, http.StatusNoContent, nil)
	if out := must(t, d.berth("wait", id)); out != "3" {
		t.Fatalf("exit after USR1: %s", out)
	}
}

// TestExecStartFraming: the start request's Tty picks the stream format,
// whatever the exec was created with; a detached start answers an empty
// 200; detach keys end a terminal session and leave the process running.
func TestExecStartFraming(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ctr := must(t, d.berth("run", "-d", "busybox", "sleep", "1000"))
	create := func(body map[string]any) string {
		var resp struct{ ID string }
		d.apiJSON(t, "POST", "/containers/"+ctr+"/exec", body, http.StatusCreated, &resp)
		return resp.ID
	}
	// created without a terminal, started with Tty: raw output
	id := create(map[string]any{"Cmd": []string{"echo", "hi"}, "AttachStdout": true, "AttachStderr": true})
	conn, br, ct := d.hijack(t, "/exec/"+id+"/start", map[string]any{"Tty": true})
	out, _ := io.ReadAll(br)
	conn.Close()
	if ct != "application/vnd.docker.raw-stream" || string(out) != "hi\n" {
		t.Fatalf("Tty start of a pipe exec: %s %q", ct, out)
	}
	// created with a terminal, started without: multiplexed frames
	id = create(map[string]any{"Cmd": []string{"echo", "hi"}, "AttachStdout": true, "Tty": true})
	conn, br, ct = d.hijack(t, "/exec/"+id+"/start", map[string]any{"Tty": false})
	out, _ = io.ReadAll(br)
	conn.Close()
	if ct != "application/vnd.docker.multiplexed-stream" || len(out) < 8 || out[0] != 1 || !strings.HasPrefix(string(out[8:]), "hi") {
		t.Fatalf("non-Tty start of a terminal exec: %s %q", ct, out)
	}
	// detached: 200, empty body
	id = create(map[string]any{"Cmd": []string{"sleep", "1"}})
	code, body := d.api(t, "POST", "/exec/"+id+"/start", map[string]any{"Detach": true})
	if code != http.StatusOK || len(body) != 0 {
		t.Fatalf("detached start: %d %q", code, body)
	}
	// detach keys (the exec's own, then the default ctrl-p ctrl-q)
	for _, keys := range []struct {
		create string
		typed  string
	}{{"ctrl-x", "\x18"}, {"", "\x10\x11"}} {
		id = create(map[string]any{"Cmd": []string{"sh"}, "AttachStdin": true, "AttachStdout": true, "Tty": true, "DetachKeys": keys.create})
		conn, br, _ = d.hijack(t, "/exec/"+id+"/start", map[string]any{"Tty": true})
		fmt.Fprintf(conn, "echo started\n")
		waitForOutput(t, br, "started")
		fmt.Fprint(conn, keys.typed)
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, br); err != nil {
			t.Fatalf("detach keys %q did not end the session: %v", keys.typed, err)
		}
		var info struct{ Running bool }
		d.apiJSON(t, "GET", "/exec/"+id+"/json", nil, http.StatusOK, &info)
		if !info.Running {
			t.Fatalf("detach keys %q stopped the process", keys.typed)
		}
		// and its terminal can still be resized
		d.apiJSON(t, "POST", "/exec/"+id+"/resize?h=30&w=100", nil, http.StatusOK, nil)
	}
	for user, msg := range map[string]string{
		"no-such-user":    "unable to find user no-such-user: no matching entries in passwd file",
		"1:no-such-group": "unable to find group no-such-group: no matching entries in group file",
	} {
		code, body := d.api(t, "POST", "/containers/"+ctr+"/exec", map[string]any{"Cmd": []string{"id"}, "User": user})
		if code != http.StatusBadRequest || !strings.Contains(string(body), msg) {
			t.Fatalf("exec -u %s: %d %s", user, code, body)
		}
	}
	code, body = d.api(t, "POST", "/containers/"+ctr+"/exec", map[string]any{"Cmd": []string{"true"}, "DetachKeys": "ctrl-"})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "Invalid escape keys (ctrl-) provided") {
		t.Fatalf("bad detach keys: %d %s", code, body)
	}
	for _, q := range []string{"h=foo&w=80", "h=24&w=-1"} {
		if code, body := d.api(t, "POST", "/containers/"+ctr+"/resize?"+q, nil); code != http.StatusBadRequest || !strings.Contains(string(body), "invalid resize") {
			t.Fatalf("resize %s: %d %s", q, code, body)
		}
	}
}

// waitForOutput reads until a terminal shows s twice: the echo of the
// command typed, then its output.
func waitForOutput(t *testing.T, r *bufio.Reader, s string) {
	t.Helper()
	var seen strings.Builder
	buf := make([]byte, 256)
	for strings.Count(seen.String(), s) < 2 {
		n, err := r.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			t.Fatalf("no %q in %q: %v", s, seen.String(), err)
		}
	}
}

// TestInspectLegacyFields: the container-wide MacAddress of a create is
// used, the deprecated top-level NetworkSettings fields describe the
// default bridge endpoint, and HostConfig.Runtime picks and names the
// runtime.
func TestInspectLegacyFields(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	const mac = "92:d0:c6:0a:29:33"
	var created struct {
		ID       string
		Warnings []string
	}
	d.apiJSON(t, "POST", "/containers/create", map[string]any{"Image": "busybox", "Cmd": []string{"sleep", "1000"}, "MacAddress": mac}, http.StatusCreated, &created)
	d.apiJSON(t, "POST", "/containers/"+created.ID+"/start", nil, http.StatusNoContent, nil)
	var info struct {
		NetworkSettings struct {
			IPAddress, Gateway, MacAddress, EndpointID string
			IPPrefixLen                                int
			Networks                                   map[string]struct{ IPAddress, MacAddress string }
		}
		HostConfig struct{ Runtime string }
	}
	d.apiJSON(t, "GET", "/containers/"+created.ID+"/json", nil, http.StatusOK, &info)
	ns := info.NetworkSettings
	if ns.MacAddress != mac || ns.IPAddress == "" || ns.IPAddress != ns.Networks["bridge"].IPAddress || ns.Gateway == "" || ns.IPPrefixLen == 0 || ns.EndpointID == "" {
		t.Fatalf("legacy NetworkSettings: %+v", ns)
	}
	if out := must(t, d.berth("exec", created.ID, "cat", "/sys/class/net/eth0/address")); out != mac {
		t.Fatalf("the interface's address: %s", out)
	}
	if info.HostConfig.Runtime == "" {
		t.Fatal("HostConfig.Runtime is empty")
	}
	// the other runtime, by name, for one container
	other := "runc"
	if info.HostConfig.Runtime == "runc" {
		other = "native"
	}
	d.apiJSON(t, "POST", "/containers/create?name=other", map[string]any{"Image": "busybox", "Cmd": []string{"echo", "ran"}, "HostConfig": map[string]any{"Runtime": other}}, http.StatusCreated, nil)
	if out := must(t, d.berth("start", "-a", "other")); out != "ran" {
		t.Fatalf("on %s: %q", other, out)
	}
	if out := must(t, d.berth("inspect", "-f", "{{.HostConfig.Runtime}}", "other")); out != other {
		t.Fatalf("runtime recorded: %s", out)
	}
	code, body := d.api(t, "POST", "/containers/create", map[string]any{"Image": "busybox", "HostConfig": map[string]any{"Runtime": "nope"}})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "unknown or invalid runtime name: nope") {
		t.Fatalf("unknown runtime: %d %s", code, body)
	}
}

// TestLogsFollowHeadAtOnce: a follower gets the response head before the
// container prints anything; attach with logs and no stream replays the
// log of an exited container every time.
func TestLogsFollowHeadAtOnce(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", "sleep 3; echo late"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a deadline for progress
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://berth/v1.50/containers/"+id+"/logs?follow=1&stdout=1&stderr=1", nil)
	resp, err := d.unixClient().Do(req)
	if err != nil {
		t.Fatalf("no response head while the container is silent: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) < 8 || !strings.HasPrefix(string(b[8:]), "late") {
		t.Fatalf("followed output: %q", b)
	}
	id = must(t, d.berth("run", "-d", "busybox", "sh", "-c", "echo out; echo err >&2"))
	must(t, d.berth("wait", id))
	for i := 0; i < 10; i++ {
		conn, br, _ := d.hijack(t, "/containers/"+id+"/attach?logs=1&stream=0&stdout=1&stderr=1", nil)
		out, _ := io.ReadAll(br)
		conn.Close()
		if !strings.Contains(string(out), "out\n") || !strings.Contains(string(out), "err\n") {
			t.Fatalf("attempt %d: attach replayed %q", i, out)
		}
	}
}

// TestVolumeAPIDetails: a volume created without a name is anonymous, so
// prune removes it; a volume mount with a Subpath mounts that directory;
// an unknown log driver gets dockerd's words.
func TestVolumeAPIDetails(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	var v struct {
		Name   string
		Labels map[string]string
	}
	d.apiJSON(t, "POST", "/volumes/create", map[string]any{}, http.StatusCreated, &v)
	if _, ok := v.Labels["com.docker.volume.anonymous"]; !ok {
		t.Fatalf("unnamed volume is not anonymous: %+v", v)
	}
	must(t, d.berth("volume", "create", "named"))
	var pruned struct{ VolumesDeleted []string }
	d.apiJSON(t, "POST", "/volumes/prune", nil, http.StatusOK, &pruned)
	if len(pruned.VolumesDeleted) != 1 || pruned.VolumesDeleted[0] != v.Name {
		t.Fatalf("pruned %v, want only %s", pruned.VolumesDeleted, v.Name)
	}
	must(t, d.berth("run", "--rm", "-v", "named:/v", "busybox", "sh", "-c", "mkdir -p /v/sub && echo inner > /v/sub/f && echo outer > /v/top"))
	body := map[string]any{"Image": "busybox", "Cmd": []string{"ls", "/m"},
		"HostConfig": map[string]any{"Mounts": []map[string]any{{"Type": "volume", "Source": "named", "Target": "/m", "VolumeOptions": map[string]any{"Subpath": "sub"}}}}}
	d.apiJSON(t, "POST", "/containers/create?name=sub", body, http.StatusCreated, nil)
	if out := must(t, d.berth("start", "-a", "sub")); out != "f" {
		t.Fatalf("subpath mount shows %q", out)
	}
	body["HostConfig"].(map[string]any)["Mounts"].([]map[string]any)[0]["VolumeOptions"] = map[string]any{"Subpath": "../x"}
	if code, b := d.api(t, "POST", "/containers/create", body); code != http.StatusBadRequest || !strings.Contains(string(b), "subpath must be a relative path within the volume") {
		t.Fatalf("escaping subpath: %d %s", code, b)
	}
	r := d.berth("run", "--rm", "--log-driver", "asdf", "busybox", "true")
	if r.code == 0 || !strings.Contains(r.stderr, "logger: no log driver named 'asdf' is registered") || strings.Contains(r.stderr, "failed to create logger") {
		t.Fatalf("unknown log driver: %s", r)
	}
}

// TestImageEventsAndInspect: image operations publish dockerd's events;
// image inspect has Parent, Comment, Author and DockerVersion.
func TestImageEventsAndInspect(t *testing.T) {
	d := startDaemon(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	d.loadBusybox() // import
	must(t, d.berth("tag", "busybox", "copy:1"))
	archive := filepath.Join(t.TempDir(), "a.tar")
	must(t, d.berth("save", "-o", archive, "copy:1"))
	must(t, d.berth("rmi", "copy:1"))
	must(t, d.berth("load", "-i", archive))
	ctr := must(t, d.berth("create", "busybox", "true"))
	must(t, d.berth("commit", "-m", "the message", "-a", "someone", ctr, "committed:1"))
	must(t, d.berth("rmi", "committed:1"))
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	out := must(t, d.berth("events", "--since", since, "--until", until, "--filter", "type=image", "--format", "{{.Action}} {{.Actor.Attributes.name}}"))
	for _, want := range []string{"import ", "tag copy:1", "save sha256:", "untag sha256:", "load sha256:", "create sha256:", "tag committed:1", "delete sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q event in:\n%s", want, out)
		}
	}
	// a build's image: one create (each step's commit has its own) and one
	// tag, as Moby's TestBuildEmitsEvents wants
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN echo hi >/hello\n"), 0o644)
	iid := filepath.Join(dir, "iid")
	must(t, d.berth("build", "-q", "--no-cache", "--iidfile", iid, "-t", "emits", dir))
	built, _ := os.ReadFile(iid)
	until = strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	out = must(t, d.berth("events", "--since", since, "--until", until, "--filter", "type=image", "--filter", "image="+string(built), "--format", "{{.Action}} {{.Actor.Attributes.name}}"))
	if strings.Count(out, "create ") != 1 || strings.Count(out, "tag emits:latest") != 1 {
		t.Errorf("a build's events:\n%s", out)
	}
	// a committed image's inspect
	id := must(t, d.berth("commit", "-m", "msg2", "-a", "me", ctr))
	var img map[string]any
	d.apiJSON(t, "GET", "/images/"+id+"/json", nil, http.StatusOK, &img)
	base := must(t, d.berth("images", "-q", "--no-trunc", "busybox"))
	for k, want := range map[string]any{"Parent": base, "Comment": "msg2", "Author": "me", "DockerVersion": ""} {
		if img[k] != want {
			t.Errorf("image %s = %#v, want %#v", k, img[k], want)
		}
	}
}

// TestSharedIpcPidAndConsole: IPC and PID namespaces of another container
// (shareable donors; their /dev/shm a host mount), the host's /dev/shm with
// --ipc host, dockerd's errors, the first terminal size, and masked paths
// recorded at create.
func TestSharedIpcPidAndConsole(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	donor := must(t, d.berth("run", "-d", "--ipc", "shareable", "busybox", "sh", "-c", "echo shared > /dev/shm/x; sleep 1000"))
	if b, _ := os.ReadFile("/proc/self/mountinfo"); !strings.Contains(string(b), filepath.Join(d.dataRoot, "containers", donor, "mounts", "shm")) {
		t.Fatal("a shareable container's /dev/shm is not a host mount")
	}
	if out := must(t, d.berth("run", "--rm", "--ipc", "container:"+donor, "busybox", "cat", "/dev/shm/x")); out != "shared" {
		t.Fatalf("joined /dev/shm: %q", out)
	}
	ipcOf := func(args ...string) string {
		return must(t, d.berth(append([]string{"run", "--rm"}, append(args, "busybox", "readlink", "/proc/self/ns/ipc")...)...))
	}
	donorIPC := must(t, d.berth("exec", donor, "readlink", "/proc/self/ns/ipc"))
	if got := ipcOf("--ipc", "container:"+donor); got != donorIPC {
		t.Fatalf("ipc namespace %s, donor's %s", got, donorIPC)
	}
	hostIPC, _ := os.Readlink("/proc/self/ns/ipc")
	if got := ipcOf("--ipc", "host"); got != hostIPC {
		t.Fatalf("--ipc host: %s, host's %s", got, hostIPC)
	}
	marker := filepath.Join("/dev/shm", "berth-it-"+strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(marker, []byte("host"), 0o644); err == nil {
		defer os.Remove(marker)
		if out := must(t, d.berth("run", "--rm", "--ipc", "host", "busybox", "cat", marker)); out != "host" {
			t.Fatalf("--ipc host does not see the host's /dev/shm: %q", out)
		}
	}
	// PID namespace of another container: its processes are visible
	if out := must(t, d.berth("run", "--rm", "--pid", "container:"+donor, "busybox", "ps", "-o", "args")); !strings.Contains(out, "sleep 1000") {
		t.Fatalf("--pid container: %s", out)
	}
	private := must(t, d.berth("run", "-d", "busybox", "sleep", "1000"))
	if r := d.berth("run", "--rm", "--ipc", "container:"+private, "busybox", "true"); r.code == 0 || !strings.Contains(r.stderr, "non-shareable IPC (hint: use IpcMode:shareable for the donor container)") {
		t.Fatalf("joining a private IPC: %s", r)
	}
	stopped := must(t, d.berth("create", "busybox", "true"))
	if r := d.berth("run", "--rm", "--pid", "container:"+stopped, "busybox", "true"); r.code == 0 || !strings.Contains(r.stderr, "is not running") {
		t.Fatalf("joining a stopped container's PID: %s", r)
	}
	code, body := d.api(t, "POST", "/containers/create", map[string]any{"Image": "busybox", "HostConfig": map[string]any{"IpcMode": "weird"}})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "invalid IPC mode: weird") {
		t.Fatalf("bad IpcMode: %d %s", code, body)
	}
	if out := must(t, d.berth("inspect", "-f", "{{.HostConfig.IpcMode}} {{len .HostConfig.MaskedPaths}}", private)); !strings.HasPrefix(out, "private ") || strings.HasSuffix(out, " 0") {
		t.Fatalf("recorded defaults: %s", out)
	}
	// a terminal starts at HostConfig.ConsoleSize
	d.apiJSON(t, "POST", "/containers/create?name=sized", map[string]any{"Image": "busybox", "Tty": true, "Cmd": []string{"stty", "size"},
		"HostConfig": map[string]any{"ConsoleSize": []int{33, 111}}}, http.StatusCreated, nil)
	must(t, d.berth("start", "sized"))
	must(t, d.berth("wait", "sized"))
	if out := must(t, d.berth("logs", "sized")); out != "33 111" {
		t.Fatalf("stty size: %q", out)
	}
	// custom masked paths
	d.apiJSON(t, "POST", "/containers/create?name=masked", map[string]any{"Image": "busybox", "Cmd": []string{"sh", "-c", "cat /etc/hostname >/dev/null; wc -c < /proc/keys"},
		"HostConfig": map[string]any{"MaskedPaths": []string{}}}, http.StatusCreated, nil)
	if out := must(t, d.berth("start", "-a", "masked")); out == "0" {
		t.Fatalf("/proc/keys masked though MaskedPaths is empty")
	}
}

// TestRestartKeepsAutoRemoveAndWakesWaiters: `restart` of an --rm
// container keeps it; a wait that began before a restart ends with the
// exit the restart caused.
func TestRestartKeepsAutoRemoveAndWakesWaiters(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	trap := "trap 'exit 5' TERM; while :; do sleep 0.1; done"
	rm := must(t, d.berth("run", "-d", "--rm", "busybox", "sh", "-c", trap))
	time.Sleep(300 * time.Millisecond) // the shell sets its trap
	must(t, d.berth("restart", "-t", "10", rm))
	if out := must(t, d.berth("inspect", "-f", "{{.State.Running}}", rm)); out != "true" {
		t.Fatalf("after restart: running %s", out)
	}
	must(t, d.berth("rm", "-f", rm))
	for _, cond := range []string{"", "not-running", "next-exit"} {
		id := must(t, d.berth("run", "-d", "busybox", "sh", "-c", trap))
		time.Sleep(300 * time.Millisecond)
		type res struct {
			code int
			body []byte
		}
		done := make(chan res, 1)
		go func() {
			q := ""
			if cond != "" {
				q = "?condition=" + cond
			}
			code, body := d.api(t, "POST", "/containers/"+id+"/wait"+q, nil)
			done <- res{code, body}
		}()
		time.Sleep(200 * time.Millisecond) // the wait is registered
		must(t, d.berth("restart", "-t", "10", id))
		select {
		case r := <-done:
			var w struct{ StatusCode int }
			_ = json.Unmarshal(r.body, &w)
			if r.code != http.StatusOK || w.StatusCode != 5 {
				t.Fatalf("wait %q across a restart: %d %s", cond, r.code, r.body)
			}
		case <-time.After(20 * time.Second): // a deadline for progress
			t.Fatalf("wait %q did not end after the restart", cond)
		}
	}
}

// TestReadOnlyBindsRecursive: a read-only bind is read-only below its
// source's submounts too (API 1.44's default); ReadOnlyNonRecursive and
// NonRecursive give dockerd's other shapes.
func TestReadOnlyBindsRecursive(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	src := t.TempDir()
	sub := filepath.Join(src, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", sub, "tmpfs", 0, "size=1m"); err != nil {
		t.Skip(err)
	}
	defer syscall.Unmount(sub, syscall.MNT_DETACH)
	if err := os.WriteFile(filepath.Join(sub, "seen"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	write := "touch /m/sub/new 2>&1 && echo wrote"
	for _, runtime := range []string{"", "runc"} {
		args := []string{"run", "--rm"}
		if runtime != "" {
			args = append(args, "--runtime", runtime)
		}
		if out := d.berth(append(args, "-v", src+":/m:ro", "busybox", "sh", "-c", write)...).stdout; strings.Contains(out, "wrote") || !strings.Contains(out, "Read-only file system") {
			t.Fatalf("runtime %q: a submount of a read-only bind is writable: %q", runtime, out)
		}
	}
	mountSpec := func(opts map[string]any) map[string]any {
		return map[string]any{"Image": "busybox", "Cmd": []string{"sh", "-c", "ls /m/sub; " + write},
			"HostConfig": map[string]any{"Mounts": []map[string]any{{"Type": "bind", "Source": src, "Target": "/m", "ReadOnly": true, "BindOptions": opts}}}}
	}
	d.apiJSON(t, "POST", "/containers/create?name=nonrec-ro", mountSpec(map[string]any{"ReadOnlyNonRecursive": true}), http.StatusCreated, nil)
	if out := must(t, d.berth("start", "-a", "nonrec-ro")); !strings.Contains(out, "wrote") {
		t.Fatalf("ReadOnlyNonRecursive: %q", out)
	}
	d.apiJSON(t, "POST", "/containers/create?name=nonrec", mountSpec(map[string]any{"NonRecursive": true}), http.StatusCreated, nil)
	if out := d.berth("start", "-a", "nonrec").stdout; strings.Contains(out, "seen") {
		t.Fatalf("NonRecursive bound the submount: %q", out)
	}
	code, body := d.api(t, "POST", "/containers/create", map[string]any{"Image": "busybox",
		"HostConfig": map[string]any{"Mounts": []map[string]any{{"Type": "bind", "Source": src, "Target": "/m", "BindOptions": map[string]any{"ReadOnlyForceRecursive": true}}}}})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "option 'ReadOnlyForceRecursive' requires 'ReadOnly' to be set") {
		t.Fatalf("ReadOnlyForceRecursive without ReadOnly: %d %s", code, body)
	}
}

// TestImageFiltersTagsChangesPlatform: images --filter since/before/until,
// a tag named after a digest algorithm refused, commit --change expanding
// the image's variables, import --platform.
func TestImageFiltersTagsChangesPlatform(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	tarball := filepath.Join(imagesDir(), "busybox.tar")
	for _, n := range []string{"first", "second", "third"} {
		must(t, d.berth("import", tarball, n+":1"))
		time.Sleep(1100 * time.Millisecond) // Created differs by a second
	}
	list := func(filter string) string {
		return must(t, d.berth("images", "--filter", filter, "--filter", "reference=*:1", "--format", "{{.Repository}}"))
	}
	if got := list("since=first:1"); got != "third\nsecond" {
		t.Errorf("since=first:1: %q", got)
	}
	if got := list("before=third:1"); got != "second\nfirst" {
		t.Errorf("before=third:1: %q", got)
	}
	if got := list("until=1h"); got != "" {
		t.Errorf("until=1h (an hour ago): %q", got)
	}
	if r := d.berth("images", "--filter", "bogus=1"); r.code == 0 || !strings.Contains(r.stderr, "invalid filter 'bogus'") {
		t.Errorf("unknown filter: %s", r)
	}
	if r := d.berth("tag", "busybox", "sha256:abc"); r.code == 0 || !strings.Contains(r.stderr, "refusing to create an ambiguous tag using digest algorithm as name") {
		t.Errorf("tag sha256:abc: %s", r)
	}
	ctr := must(t, d.berth("create", "-e", "PATH=/usr/bin", "busybox", "true"))
	must(t, d.berth("commit", "--change", "ENV PATH=/x:$PATH", ctr, "changed:1"))
	if got := must(t, d.berth("inspect", "-f", "{{json .Config.Env}}", "changed:1")); got != `["PATH=/x:/usr/bin"]` {
		t.Errorf("commit --change ENV: %s", got)
	}
	r := d.docker("import", "--platform", "linux/arm64", tarball, "arm:1")
	if r.code != 0 {
		t.Fatalf("docker import --platform: %s", r)
	}
	if got := must(t, d.berth("inspect", "-f", "{{.Os}}/{{.Architecture}}", "arm:1")); got != "linux/arm64" {
		t.Errorf("import --platform: %s", got)
	}
}

// TestChildCgroupsRemoved: cgroups a container made below its own (with
// writable cgroups) go with it.
func TestChildCgroupsRemoved(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	before := d.cgroupCount()
	id := must(t, d.berth("run", "-d", "--privileged", "busybox", "sh", "-c",
		"for c in memory pids cpu; do mkdir -p /sys/fs/cgroup/$c/child/grandchild; done; mkdir -p /sys/fs/cgroup/unified/child 2>/dev/null; sleep 1000"))
	host := d.cgroupPathOf(t, id, "memory")
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(host, "child", "grandchild")); return err == nil })
	must(t, d.berth("rm", "-f", id))
	waitFor(t, func() bool { return d.cgroupCount() == before })
	if _, err := os.Stat(host); !os.IsNotExist(err) {
		t.Fatalf("the container's cgroup is left: %v", err)
	}
}

// cgroupPathOf is a container's cgroup directory in one v1 hierarchy.
func (d *daemon) cgroupPathOf(t *testing.T, id, controller string) string {
	t.Helper()
	return filepath.Join("/sys/fs/cgroup", controller, filepath.Base(d.root), id)
}
