package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// cpCLI is one of the two clients docker cp is checked with.
type cpCLI struct {
	name string
	run  func(args ...string) result
	bin  string
}

func (d *daemon) cpCLIs() []cpCLI {
	d.t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		d.t.Skip("docker CLI not installed")
	}
	return []cpCLI{
		{"berth", d.berth, filepath.Join(binDir, "berth")},
		{"docker", d.docker, "docker"},
	}
}

// tarTree reads a tar into name → content ("<dir>" for directories,
// "-> target" for symlinks), names without a trailing "/".
func tarTree(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(strings.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading tar: %v (%d bytes)", err, len(data))
		}
		name := strings.TrimSuffix(h.Name, "/")
		switch h.Typeflag {
		case tar.TypeDir:
			out[name] = "<dir>"
		case tar.TypeSymlink:
			out[name] = "-> " + h.Linkname
		default:
			b, _ := io.ReadAll(tr)
			out[name] = string(b)
		}
	}
}

// localTree is tarTree for a directory on the host, relative to dir.
func localTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.IsDir():
			out[rel] = "<dir>"
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "-> " + target
		default:
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	show := func(m map[string]string) string {
		var keys []string
		for k, v := range m {
			keys = append(keys, k+"="+v)
		}
		sort.Strings(keys)
		return strings.Join(keys, " ")
	}
	if show(got) != show(want) {
		t.Errorf("%s:\n got  %s\n want %s", what, show(got), show(want))
	}
}

// TestCpBothWays copies files and directories into and out of a running,
// a created and an exited container with docker's naming rules (into an
// existing directory, to a new name, "dir/." for the contents), with the
// berth CLI and the docker CLI.
func TestCpBothWays(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"file": "file", "dir/a": "a", "dir/sub/b": "b"})
	must(t, d.berth("run", "-d", "--name", "running", "busybox", "sleep", "1000"))
	must(t, d.berth("create", "--name", "created", "busybox", "cat", "/tmp/berth/renamed", "/tmp/docker/renamed"))
	must(t, d.berth("run", "--name", "exited", "busybox", "true"))
	for _, ctr := range []string{"running", "created", "exited"} {
		for _, cli := range d.cpCLIs() {
			t.Run(ctr+"/"+cli.name, func(t *testing.T) {
				in := ctr + ":/tmp/" + cli.name
				for _, args := range [][]string{
					{src + "/dir", in},                // missing: becomes the directory
					{src + "/file", in},               // an existing dir: goes into it
					{src + "/file", in + "/renamed"},  // a new name
					{src + "/dir", in},                // an existing dir: nested
					{src + "/dir/.", in + "/sub"},     // the contents, merged
					{src + "/file", in + "/a"},        // an existing file: replaced
					{src + "/dir/a", in + "/dir/sub"}, // trailing name through a dir
				} {
					must(t, cli.run(append([]string{"cp"}, args...)...))
				}
				want := map[string]string{"": "<dir>", "a": "file", "sub": "<dir>", "sub/b": "b", "file": "file", "renamed": "file",
					"dir": "<dir>", "dir/a": "a", "dir/sub": "<dir>", "dir/sub/b": "b", "dir/sub/a": "a", "sub/a": "a", "sub/sub": "<dir>", "sub/sub/b": "b"}
				r := cli.run("cp", in, "-")
				got := map[string]string{}
				for k, v := range tarTree(t, must0(t, r)) {
					got[strings.TrimPrefix(strings.TrimPrefix(k, cli.name), "/")] = v
				}
				sameTree(t, "in the container", got, want)

				local := filepath.Join(t.TempDir(), "out")
				for _, args := range [][]string{
					{in, local},                           // missing: becomes the directory
					{in + "/file", local + "/sub"},        // into an existing dir
					{in + "/file", local + "/copy"},       // a new name
					{in + "/dir/.", local + "/dot"},       // contents under a new name
					{in + "/dir", local + "/sub/"},        // into an existing dir, slash
					{in + "/renamed", local + "/renamed"}, // over an existing file
				} {
					must(t, cli.run(append([]string{"cp"}, args...)...))
				}
				want["sub/file"], want["copy"] = "file", "file"
				want["dot"], want["dot/a"], want["dot/sub"], want["dot/sub/b"], want["dot/sub/a"] = "<dir>", "a", "<dir>", "b", "a"
				want["sub/dir"], want["sub/dir/a"], want["sub/dir/sub"], want["sub/dir/sub/b"], want["sub/dir/sub/a"] = "<dir>", "a", "<dir>", "b", "a"
				delete(want, "")
				sameTree(t, "copied out", localTree(t, local), want)
			})
		}
	}
	// What was copied into the stopped container is its filesystem.
	if r := d.berth("start", "-a", "created"); r.code != 0 || r.stdout != "filefile" {
		t.Fatalf("start after cp: %s", r)
	}
	// berth container cp is the same command
	must(t, d.berth("container", "cp", src+"/file", "running:/alias"))
	if out := must(t, d.berth("exec", "running", "cat", "/alias")); out != "file" {
		t.Fatalf("container cp: %q", out)
	}
}

// must0 is must without trimming (for tar streams).
func must0(t *testing.T, r result) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("command failed: %s", r)
	}
	return r.stdout
}

// TestCpTarStreams: "-" reads a tar from stdin into a directory and writes
// one to stdout.
func TestCpTarStreams(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("run", "-d", "--name", "box", "busybox", "sleep", "1000"))
	must(t, d.berth("create", "--name", "idle", "busybox"))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct{ name, body string }{{"streamed/", ""}, {"streamed/x", "in"}} {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.body == "" {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(e.body))
	}
	_ = tw.Close()
	for _, cli := range d.cpCLIs() {
		for _, ctr := range []string{"box", "idle"} {
			dst := "/tmp/" + cli.name
			must(t, d.cli(cli.bin, "", "cp", t.TempDir(), ctr+":"+dst))
			must(t, d.cli(cli.bin, buf.String(), "cp", "-", ctr+":"+dst))
			sameTree(t, cli.name+" "+ctr, tarTree(t, must0(t, cli.run("cp", ctr+":"+dst+"/streamed", "-"))),
				map[string]string{"streamed": "<dir>", "streamed/x": "in"})
			// a file streams as one entry named for it
			if got := tarTree(t, must0(t, cli.run("cp", ctr+":/etc/passwd", "-"))); len(got) != 1 || !strings.HasPrefix(got["passwd"], "root:x:0:0:") {
				t.Errorf("%s cp %s:/etc/passwd -: %v", cli.name, ctr, got)
			}
		}
	}
}

// TestCpVolumes: a path under a volume or bind mount is the mount's, on a
// running and on a stopped container; read-only mounts and --read-only
// refuse copies in with docker's errors.
func TestCpVolumes(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"file": "file"})
	bind := t.TempDir()
	writeFiles(t, bind, map[string]string{"host.txt": "from host"})
	must(t, d.berth("volume", "create", "cpvol"))
	mp := must(t, d.berth("volume", "inspect", "-f", "{{.Mountpoint}}", "cpvol"))
	for _, verb := range []string{"run", "create"} {
		name := "vols-" + verb
		args := []string{verb, "--name", name, "-v", "cpvol:/data", "-v", bind + ":/bind", "-v", "cpvol:/ro:ro"}
		if verb == "run" {
			args = append(args, "-d")
		}
		must(t, d.berth(append(args, "busybox", "sleep", "1000")...))
		must(t, d.berth("cp", src+"/file", name+":/data/f-"+verb))
		if b, err := os.ReadFile(filepath.Join(mp, "f-"+verb)); err != nil || string(b) != "file" {
			t.Fatalf("%s: copy into the volume: %q %v", name, b, err)
		}
		sameTree(t, name+" bind", tarTree(t, must0(t, d.berth("cp", name+":/bind/host.txt", "-"))), map[string]string{"host.txt": "from host"})
		must(t, d.berth("cp", src+"/file", name+":/bind/"))
		if b, _ := os.ReadFile(filepath.Join(bind, "file")); string(b) != "file" {
			t.Fatalf("%s: copy into the bind mount: %q", name, b)
		}
		_ = os.Remove(filepath.Join(bind, "file"))
		for _, cli := range d.cpCLIs() {
			if r := cli.run("cp", src+"/file", name+":/ro/"); r.code != 1 || r.stderr != "Error response from daemon: mounted volume is marked read-only\n" {
				t.Errorf("%s %s: copy into a read-only volume: %s", cli.name, name, r)
			}
		}
		// the read-only mount still reads
		sameTree(t, name+" ro", tarTree(t, must0(t, d.berth("cp", name+":/ro/f-"+verb, "-"))), map[string]string{"f-" + verb: "file"})
	}
	must(t, d.berth("create", "--name", "rofs", "--read-only", "-v", "cpvol:/data", "busybox"))
	for _, cli := range d.cpCLIs() {
		if r := cli.run("cp", src+"/file", "rofs:/tmp/"); r.code != 1 || r.stderr != "Error response from daemon: container rootfs is marked read-only\n" {
			t.Errorf("%s: copy into a read-only rootfs: %s", cli.name, r)
		}
	}
	must(t, d.berth("cp", src+"/file", "rofs:/data/in-rofs")) // its volume is writable
	sameTree(t, "out of a read-only rootfs", tarTree(t, must0(t, d.berth("cp", "rofs:/data/in-rofs", "-"))), map[string]string{"in-rofs": "file"})
	if out := must(t, d.berth("exec", "vols-run", "cat", "/data/in-rofs")); out != "file" {
		t.Fatalf("the running container does not see the copy: %q", out)
	}
	// nothing stays mounted for the stopped containers' copies
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, id := range []string{"vols-create", "rofs"} {
		full := must(t, d.berth("inspect", "-f", "{{.Id}}", id))
		if strings.Contains(string(b), full) {
			t.Errorf("%s's rootfs left mounted on the host", id)
		}
	}
}

// TestCpOwnersAndLinks: owners come from the archive, or with -a from the
// container's user; a symlink is copied as a link unless -L.
func TestCpOwnersAndLinks(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"file": "file"})
	if err := os.Chown(filepath.Join(src, "file"), 1234, 5678); err != nil {
		t.Fatal(err)
	}
	must(t, d.berth("run", "-d", "--name", "owned", "-u", "nobody", "busybox", "sleep", "1000"))
	must(t, d.berth("create", "--name", "plain", "busybox"))
	owner := func(ctr, path string) string {
		tr := tar.NewReader(strings.NewReader(must0(t, d.berth("cp", ctr+":"+path, "-"))))
		h, err := tr.Next()
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d:%d", h.Uid, h.Gid)
	}
	for _, cli := range d.cpCLIs() {
		must(t, cli.run("cp", src+"/file", "owned:/tmp/keep-"+cli.name))
		must(t, cli.run("cp", "-a", src+"/file", "owned:/tmp/mine-"+cli.name))
		must(t, cli.run("cp", "--archive", src+"/file", "plain:/tmp/a-"+cli.name))
		for path, want := range map[string]string{"owned:/tmp/keep-": "1234:5678", "owned:/tmp/mine-": "65534:65534", "plain:/tmp/a-": "1234:5678"} {
			ctr, p, _ := strings.Cut(path, ":")
			if got := owner(ctr, p+cli.name); got != want {
				t.Errorf("%s cp to %s: owner %s, want %s", cli.name, path, got, want)
			}
		}
	}
	must(t, d.berth("exec", "-u", "root", "owned", "sh", "-c", "ln -s /etc/passwd /tmp/abs && ln -s passwd /etc/rel && ln -s /etc /tmp/etcdir"))
	passwd := tarTree(t, must0(t, d.berth("cp", "owned:/etc/passwd", "-")))["passwd"]
	for _, cli := range d.cpCLIs() {
		out := t.TempDir()
		must(t, cli.run("cp", "owned:/tmp/abs", out+"/link"))
		must(t, cli.run("cp", "-L", "owned:/tmp/abs", out+"/abs"))
		must(t, cli.run("cp", "--follow-link", "owned:/etc/rel", out))
		must(t, cli.run("cp", "owned:/tmp/etcdir/", out+"/etc")) // a trailing "/" follows
		got := localTree(t, out)
		for k := range got {
			if strings.HasPrefix(k, "etc/") && k != "etc/passwd" {
				delete(got, k)
			}
		}
		sameTree(t, cli.name+" links", got, map[string]string{"link": "-> /etc/passwd", "abs": passwd, "rel": passwd, "etc": "<dir>", "etc/passwd": passwd})
	}
}

// TestCpErrors: docker's messages and exit codes, the same from both CLIs.
func TestCpErrors(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("run", "-d", "--name", "web", "busybox", "sleep", "1000"))
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"file": "file", "dir/a": "a"})
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"web:/nope", src}, "Error response from daemon: Could not find the file /nope in container web\n"},
		{[]string{"web:/nope", "-"}, "Error response from daemon: Could not find the file /nope in container web\n"},
		{[]string{"nope:/etc", src}, "Error response from daemon: No such container: nope\n"},
		{[]string{src + "/file", "nope:/tmp"}, "Error response from daemon: No such container: nope\n"},
		{[]string{src + "/file", "web:/nodir/x"}, "Error response from daemon: Could not find the file /nodir in container web\n"},
		{[]string{src + "/dir", "web:/etc/passwd"}, "cannot copy directory\n"},
		{[]string{"web:/etc", src + "/file"}, "cannot copy directory\n"},
		{[]string{src + "/file", "web:/newdir/"}, "no such directory\n"},
		{[]string{"web:/etc/passwd", src + "/nd/"}, "no such directory\n"},
		{[]string{"web:/etc/passwd", "/nonexistent/x"}, "invalid output path: directory \"/nonexistent\" does not exist\n"},
		{[]string{"-", "web:/etc/passwd"}, "destination \"web:/etc/passwd\" must be a directory\n"},
		{[]string{"-", "web:/nope"}, "destination \"web:/nope\" must be a directory\n"},
		{[]string{"web:/a", "web:/b"}, "copying between containers is not supported\n"},
		{[]string{"a", "b"}, "must specify at least one container source\n"},
		{[]string{src + "/missing", "web:/tmp"}, "lstat " + src + "/missing: no such file or directory\n"},
	} {
		for _, cli := range d.cpCLIs() {
			r := cli.run(append([]string{"cp"}, tc.args...)...)
			// Both CLIs may also log go-archive's complaint that the local
			// tar was cut short (time="…" level=error …): not the message.
			var msg []string
			for _, l := range strings.SplitAfter(r.stderr, "\n") {
				if !strings.HasPrefix(l, "time=") {
					msg = append(msg, l)
				}
			}
			if r.code != 1 || strings.Join(msg, "") != tc.stderr {
				t.Errorf("%s cp %v: %s\nwant %q", cli.name, tc.args, r, tc.stderr)
			}
		}
	}
	for _, cli := range d.cpCLIs() {
		if r := cli.run("cp", "web:/etc"); r.code == 0 {
			t.Errorf("%s cp with one argument: %s", cli.name, r)
		}
	}
}

// unixClient talks HTTP to the daemon's socket.
func (d *daemon) unixClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", d.sock)
	}}}
}

func (d *daemon) archiveRequest(t *testing.T, method, ctr, path string, q url.Values, body io.Reader) *http.Response {
	t.Helper()
	if q == nil {
		q = url.Values{}
	}
	if path != "" {
		q.Set("path", path)
	}
	req, err := http.NewRequest(method, "http://berth/v1.50/containers/"+ctr+"/archive?"+q.Encode(), body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := d.unixClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

type craftedEntry struct {
	name, link string
	typ        byte
}

func craftedTar(t *testing.T, entries ...craftedEntry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644}
		if e.typ == tar.TypeReg {
			h.Size = 5
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			_, _ = tw.Write([]byte("pwned"))
		}
	}
	_ = tw.Close()
	return &buf
}

// TestCpArchiveAPI drives the three archive routes over the socket: the
// stat header, 404s, and crafted archives that try to write outside the
// container (../ names, absolute names, symlinks to / or up or to host
// paths, then files through them). Nothing may appear outside the rootfs.
func TestCpArchiveAPI(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("run", "-d", "--name", "live", "busybox", "sleep", "1000"))
	must(t, d.berth("create", "--name", "cold", "busybox"))
	must(t, d.berth("exec", "live", "sh", "-c", "mkdir /w && ln -s / /w/root && ln -s ../../../../../../.. /w/up && ln -s "+d.root+" /w/host"))

	// HEAD: the stat header; a symlink with its resolved target.
	resp := d.archiveRequest(t, http.MethodHead, "live", "/bin/sh", nil, nil)
	var st struct {
		Name       string
		Size       int64
		Mode       os.FileMode
		Mtime      time.Time
		LinkTarget string
	}
	raw, _ := base64.StdEncoding.DecodeString(resp.Header.Get("X-Docker-Container-Path-Stat"))
	if resp.StatusCode != 200 || json.Unmarshal(raw, &st) != nil || st.Name != "sh" || st.Mode&os.ModeSymlink == 0 || st.LinkTarget != "/bin/busybox" {
		t.Fatalf("HEAD /bin/sh: %d %s", resp.StatusCode, raw)
	}
	if resp := d.archiveRequest(t, http.MethodHead, "cold", "/nope", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("HEAD of a missing path: %d", resp.StatusCode)
	}
	if resp := d.archiveRequest(t, http.MethodGet, "cold", "", nil, nil); resp.StatusCode != 400 {
		t.Fatalf("GET without a path: %d", resp.StatusCode)
	}
	if resp := d.archiveRequest(t, http.MethodGet, "cold", "/etc/hostname", nil, nil); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-tar" || resp.Header.Get("X-Docker-Container-Path-Stat") == "" {
		t.Fatalf("GET: %d %v", resp.StatusCode, resp.Header)
	}

	marker := fmt.Sprintf("berth-cp-escape-%d", time.Now().UnixNano())
	hostPaths := []string{"/" + marker, "/tmp/" + marker, filepath.Join(d.root, marker), filepath.Join(d.dataRoot, marker), filepath.Join(d.dataRoot, "containers", marker)}
	up := strings.Repeat("../", 12)
	rel := strings.TrimPrefix(filepath.Join(d.root, marker), "/")
	for _, ctr := range []string{"live", "cold"} {
		for _, tc := range []struct {
			name    string
			dest    string
			entries []craftedEntry
		}{
			{"dotdot", "/tmp", []craftedEntry{{name: up + "tmp/" + marker, typ: tar.TypeReg}}},
			{"dotdot to the daemon root", "/tmp", []craftedEntry{{name: up + rel, typ: tar.TypeReg}}},
			{"absolute", "/tmp", []craftedEntry{{name: "/tmp/" + marker, typ: tar.TypeReg}, {name: "/" + rel, typ: tar.TypeReg}}},
			{"symlink to /", "/tmp", []craftedEntry{{name: "r", link: "/", typ: tar.TypeSymlink}, {name: "r/tmp/" + marker, typ: tar.TypeReg}, {name: "r/" + rel, typ: tar.TypeReg}}},
			{"symlink up", "/tmp", []craftedEntry{{name: "u", link: up, typ: tar.TypeSymlink}, {name: "u/tmp/" + marker, typ: tar.TypeReg}}},
			{"symlink to a host path", "/tmp", []craftedEntry{{name: "h", link: d.root, typ: tar.TypeSymlink}, {name: "h/" + marker, typ: tar.TypeReg}}},
			{"hardlink out", "/tmp", []craftedEntry{{name: "hl", link: up + "etc/passwd", typ: tar.TypeLink}}},
			{"destination dotdot", up + strings.TrimPrefix(d.root, "/"), []craftedEntry{{name: marker, typ: tar.TypeReg}}},
			{"destination through a link to /", "/w/root/tmp", []craftedEntry{{name: "ok-" + marker, typ: tar.TypeReg}}},
			{"destination through a link up", "/w/up/tmp", []craftedEntry{{name: "ok2-" + marker, typ: tar.TypeReg}}},
			{"destination through a host path link", "/w/host", []craftedEntry{{name: marker, typ: tar.TypeReg}}},
		} {
			resp := d.archiveRequest(t, http.MethodPut, ctr, tc.dest, nil, craftedTar(t, tc.entries...))
			t.Logf("%s %s: %d", ctr, tc.name, resp.StatusCode)
			for _, p := range hostPaths {
				if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("%s %s: %s exists on the host", ctr, tc.name, p)
				}
			}
		}
	}
	// what did land, landed inside
	sameTree(t, "inside", tarTree(t, must0(t, d.berth("cp", "live:/tmp/ok-"+marker, "-"))), map[string]string{"ok-" + marker: "pwned"})
	sameTree(t, "inside", tarTree(t, must0(t, d.berth("cp", "live:/tmp/ok2-"+marker, "-"))), map[string]string{"ok2-" + marker: "pwned"})
	if out := must(t, d.berth("exec", "live", "cat", "/tmp/tmp/"+marker)); out != "pwned" { // under the extraction dir
		t.Fatalf("absolute entry: %q", out)
	}

	// noOverwriteDirNonDir: refused when asked (the CLI always asks),
	// allowed otherwise, as dockerd.
	q := url.Values{"noOverwriteDirNonDir": {"true"}}
	if resp := d.archiveRequest(t, http.MethodPut, "live", "/", q, craftedTar(t, craftedEntry{name: "tmp", typ: tar.TypeReg})); resp.StatusCode != 500 {
		t.Errorf("file over a directory with noOverwriteDirNonDir: %d", resp.StatusCode)
	}
	must(t, d.berth("exec", "live", "mkdir", "/tmp/dir"))
	if resp := d.archiveRequest(t, http.MethodPut, "live", "/tmp", nil, craftedTar(t, craftedEntry{name: "dir", typ: tar.TypeReg})); resp.StatusCode != 200 {
		t.Errorf("file over a directory without noOverwriteDirNonDir: %d", resp.StatusCode)
	}
	if resp := d.archiveRequest(t, http.MethodPut, "live", "/etc/passwd", nil, craftedTar(t)); resp.StatusCode != 400 {
		t.Errorf("extraction into a file: %d", resp.StatusCode)
	}
	if resp := d.archiveRequest(t, http.MethodPut, "nope", "/tmp", nil, craftedTar(t)); resp.StatusCode != 404 {
		t.Errorf("unknown container: %d", resp.StatusCode)
	}
}

// TestCpSummaryOnTerminal: with stdout on a terminal docker 28 ends with
// "Successfully copied <archive bytes> to <dest>"; -q and pipes are quiet.
func TestCpSummaryOnTerminal(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("run", "-d", "--name", "web", "busybox", "sleep", "1000"))
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"file": "hello"})
	onTerminal := func(bin string, args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+d.sock)
		f, err := pty.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out bytes.Buffer
		_, _ = io.Copy(&out, f) // EIO once the command is gone
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s %v: %v\n%s", bin, args, err, out.String())
		}
		return strings.ReplaceAll(out.String(), "\r\n", "\n")
	}
	for _, cli := range d.cpCLIs() {
		dst := filepath.Join(t.TempDir(), "got")
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"cp", src + "/file", "web:/tmp/"}, "Successfully copied 2.05kB to web:/tmp/\n"},
			{[]string{"cp", "web:/tmp/file", dst}, "Successfully copied 2.05kB to " + dst + "\n"},
			{[]string{"cp", "-q", "web:/tmp/file", dst}, ""},
		} {
			if got := onTerminal(cli.bin, tc.args...); got != tc.want {
				t.Errorf("%s %v on a terminal: %q, want %q", cli.name, tc.args, got, tc.want)
			}
		}
		if r := cli.run("cp", "web:/tmp/file", dst); r.code != 0 || r.stderr != "" || r.stdout != "" {
			t.Errorf("%s cp into a pipe is quiet: %s", cli.name, r)
		}
	}
}
