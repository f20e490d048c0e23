package containerfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
)

// fixture is a fake container on the host: base/rootfs is its root,
// base/vol and base/rovol are volumes at /data and /ro, and base/outside
// is a host directory nothing may ever write to.
type fixture struct {
	base, rootfs, vol, rovol, outside string
	view                              *View
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("views need root (mount namespaces, pivot_root)")
	}
	base := t.TempDir()
	f := &fixture{base: base, rootfs: filepath.Join(base, "rootfs"), vol: filepath.Join(base, "vol"),
		rovol: filepath.Join(base, "rovol"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{f.vol, f.rovol, f.outside, "rootfs/etc", "rootfs/dst/sub", "rootfs/bin"} {
		if !filepath.IsAbs(d) {
			d = filepath.Join(base, d)
		}
		must(t, os.MkdirAll(d, 0o755))
	}
	write := func(p, s string) { must(t, os.WriteFile(filepath.Join(f.rootfs, p), []byte(s), 0o644)) }
	write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1001::/:/bin/sh\n")
	write("etc/group", "root:x:0:\nnogroup:x:65534:\nstaff:x:50:\n")
	write("bin/busybox", "elf")
	write("dst/sub/file", "hello")
	must(t, os.WriteFile(filepath.Join(f.outside, "secret"), []byte("host"), 0o600))
	must(t, os.WriteFile(filepath.Join(f.rovol, "keep"), []byte("ro"), 0o644))
	for link, target := range map[string]string{
		"bin/sh":   "busybox",
		"etclink":  "/etc",
		"dst/abs":  "/",
		"dst/up":   "../../../../../../../..",
		"hostlink": f.outside, // an absolute host path: means rootfs+that inside
		"broken":   "/nowhere/x",
		"loop":     "loop",
	} {
		must(t, os.Symlink(target, filepath.Join(f.rootfs, link)))
	}
	v, err := Open(Options{Root: f.rootfs, Binds: []Bind{
		{Source: f.vol, Destination: "/data"},
		{Source: f.rovol, Destination: "/ro", ReadOnly: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	f.view = v
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hostFiles lists everything under base except the container's own trees.
func (f *fixture) hostFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(f.base, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p == f.rootfs || p == f.vol {
			return filepath.SkipDir
		}
		out = append(out, p)
		return nil
	})
	must(t, err)
	sort.Strings(out)
	return out
}

type entry struct {
	name     string
	typ      byte
	linkname string
	body     string
}

func tarOf(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.linkname, Mode: 0o644, Size: int64(len(e.body)), Uid: 123, Gid: 456}
		if e.typ == tar.TypeDir {
			h.Mode = 0o755
		}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		must(t, tw.WriteHeader(h))
		if e.typ == tar.TypeReg {
			_, err := tw.Write([]byte(e.body))
			must(t, err)
		}
	}
	must(t, tw.Close())
	return &buf
}

// TestExtractStaysInside feeds crafted archives to Extract: whatever each
// does or fails to do, nothing may appear outside the container's root.
func TestExtractStaysInside(t *testing.T) {
	f := newFixture(t)
	before := f.hostFiles(t)
	escapee := filepath.Join(f.outside, "pwned")
	rel := strings.TrimPrefix(escapee, "/") // the host path, relative
	for _, tc := range []struct {
		name    string
		dest    string
		entries []entry
		wantErr bool
		inside  string // a file expected inside the rootfs afterwards
	}{
		{name: "dotdot name", dest: "/dst", entries: []entry{{name: "../../../../../../../../" + rel, typ: tar.TypeReg, body: "x"}}, wantErr: true},
		{name: "dotdot inside name", dest: "/dst", entries: []entry{{name: "sub/../../../../../../../../../" + rel, typ: tar.TypeReg, body: "x"}}, wantErr: true},
		{name: "absolute name", dest: "/dst", entries: []entry{{name: escapee, typ: tar.TypeReg, body: "x"}}, inside: "dst/" + rel},
		{name: "symlink to / then a file through it", dest: "/dst", entries: []entry{
			{name: "root", typ: tar.TypeSymlink, linkname: "/"},
			{name: "root/" + rel, typ: tar.TypeReg, body: "x"},
		}},
		{name: "relative symlink up then a file through it", dest: "/dst", entries: []entry{
			{name: "upper", typ: tar.TypeSymlink, linkname: "../../../../../../../../../.."},
			{name: "upper/" + rel, typ: tar.TypeReg, body: "x"},
		}, wantErr: true},
		{name: "symlink to the host path then a file through it", dest: "/dst", entries: []entry{
			{name: "hp", typ: tar.TypeSymlink, linkname: f.outside},
			{name: "hp/pwned", typ: tar.TypeReg, body: "x"},
		}},
		{name: "existing absolute symlink to /", dest: "/dst", entries: []entry{{name: "abs/" + rel, typ: tar.TypeReg, body: "x"}}},
		{name: "existing relative symlink up", dest: "/dst", entries: []entry{{name: "up/" + rel, typ: tar.TypeReg, body: "x"}}, wantErr: true},
		{name: "hardlink out", dest: "/dst", entries: []entry{{name: "hl", typ: tar.TypeLink, linkname: "../../../../../../../../" + strings.TrimPrefix(f.outside, "/") + "/secret"}}, wantErr: true},
		{name: "absolute hardlink to a host file", dest: "/dst", entries: []entry{{name: "hl2", typ: tar.TypeLink, linkname: filepath.Join(f.outside, "secret")}}, wantErr: true},
		{name: "symlink replaced by a file", dest: "/dst", entries: []entry{
			{name: "swap", typ: tar.TypeSymlink, linkname: escapee},
			{name: "swap", typ: tar.TypeReg, body: "x"},
		}, inside: "dst/swap"},
		{name: "destination path with dotdot", dest: "../../../../../../" + f.outside, entries: []entry{{name: "pwned", typ: tar.TypeReg, body: "x"}}, wantErr: true},
		{name: "destination through an absolute host symlink", dest: "/hostlink", entries: []entry{{name: "pwned", typ: tar.TypeReg, body: "x"}}, wantErr: true},
		{name: "destination through / symlink", dest: "/dst/abs/dst/sub", entries: []entry{{name: "ok", typ: tar.TypeReg, body: "x"}}, inside: "dst/sub/ok"},
		{name: "destination through an up symlink", dest: "/dst/up/etc", entries: []entry{{name: "ok2", typ: tar.TypeReg, body: "x"}}, inside: "etc/ok2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.view.Extract(tc.dest, tarOf(t, tc.entries...), ExtractOptions{})
			if tc.wantErr != (err != nil) {
				t.Errorf("err = %v, want error: %v", err, tc.wantErr)
			}
			if after := f.hostFiles(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Fatalf("files appeared outside the rootfs:\nbefore %v\nafter  %v", before, after)
			}
			if _, err := os.Lstat(escapee); err == nil {
				t.Fatalf("%s was written", escapee)
			}
			if b, _ := os.ReadFile(filepath.Join(f.outside, "secret")); string(b) != "host" {
				t.Fatalf("host file changed: %q", b)
			}
			if tc.inside != "" {
				if _, err := os.Lstat(filepath.Join(f.rootfs, tc.inside)); err != nil {
					t.Errorf("expected %s inside the rootfs: %v", tc.inside, err)
				}
			}
		})
	}
}

func TestExtractRules(t *testing.T) {
	f := newFixture(t)
	file := func(name string) *bytes.Buffer { return tarOf(t, entry{name: name, typ: tar.TypeReg, body: "x"}) }

	// A file is no extraction point.
	err := f.view.Extract("/dst/sub/file", file("a"), ExtractOptions{})
	if !errdefs.IsInvalidArgument(err) || err.Error() != "extraction point is not a directory" {
		t.Errorf("extract to a file: %v", err)
	}
	// Missing: a not-exist error the service turns into docker's 404.
	if err := f.view.Extract("/nope", file("a"), ExtractOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("extract to a missing dir: %v", err)
	}
	// The last element is followed: a symlink to a directory is one.
	must(t, f.view.Extract("/etclink", file("via-link"), ExtractOptions{}))
	if _, err := os.Stat(filepath.Join(f.rootfs, "etc/via-link")); err != nil {
		t.Error(err)
	}
	// noOverwriteDirNonDir, both ways, and allowed when asked.
	if err := f.view.Extract("/dst", file("sub"), ExtractOptions{}); err == nil || !strings.Contains(err.Error(), "cannot overwrite directory") {
		t.Errorf("file over dir: %v", err)
	}
	if err := f.view.Extract("/dst/sub", tarOf(t, entry{name: "file", typ: tar.TypeDir}), ExtractOptions{}); err == nil || !strings.Contains(err.Error(), "cannot overwrite non-directory") {
		t.Errorf("dir over file: %v", err)
	}
	must(t, f.view.Extract("/dst/sub", tarOf(t, entry{name: "file", typ: tar.TypeDir}), ExtractOptions{AllowOverwriteDirWithFile: true}))
	// The archive's owners are kept, or the container user's taken.
	must(t, f.view.Extract("/dst", file("owned"), ExtractOptions{}))
	assertOwner(t, filepath.Join(f.rootfs, "dst/owned"), 123, 456)
	for user, want := range map[string][2]int{"nobody": {65534, 65534}, "app": {1000, 1001}, "app:staff": {1000, 50}, "4242": {4242, 0}, "1000:7": {1000, 7}} {
		must(t, f.view.Extract("/dst", file("u"), ExtractOptions{ChownUser: user}))
		assertOwner(t, filepath.Join(f.rootfs, "dst/u"), want[0], want[1])
	}
	if err := f.view.Extract("/dst", file("u"), ExtractOptions{ChownUser: "ghost"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("unknown user: %v", err)
	}
	// The volumes are there; the read-only one refuses writes even when
	// the service's check is not asked.
	must(t, f.view.Extract("/data", file("in-vol"), ExtractOptions{}))
	if _, err := os.Stat(filepath.Join(f.vol, "in-vol")); err != nil {
		t.Errorf("volume write: %v", err)
	}
	if err := f.view.Extract("/", tarOf(t, entry{name: "ro/x", typ: tar.TypeReg, body: "x"}), ExtractOptions{}); !errors.Is(err, syscall.EROFS) {
		t.Errorf("write to a read-only volume: %v", err)
	}
	refuse := errors.New("refused")
	var asked string
	if err := f.view.Extract("/etclink/", file("z"), ExtractOptions{Writable: func(dir string) error { asked = dir; return refuse }}); err != refuse || asked != "/etc/" {
		t.Errorf("Writable: err %v, asked %q", err, asked)
	}
}

func assertOwner(t *testing.T, p string, uid, gid int) {
	t.Helper()
	fi, err := os.Lstat(p)
	must(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("%s owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
	}
}

func TestStat(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		path, name, link string
		dir, symlink     bool
		err              error
	}{
		{path: "/etc", name: "etc", dir: true},
		{path: "etc/", name: "etc", dir: true},
		{path: "/bin/sh", name: "sh", symlink: true, link: "/bin/busybox"},
		{path: "/etclink", name: "etclink", symlink: true, link: "/etc"},
		{path: "/etclink/", name: "etclink", dir: true},
		{path: "/broken", name: "broken", symlink: true, link: "/nowhere/x"},
		{path: "/hostlink", name: "hostlink", symlink: true, link: f.outside},
		{path: "/dst/up", name: "up", symlink: true, link: "/"},
		{path: "/data", name: "data", dir: true},
		{path: "/ro/keep", name: "keep"},
		{path: "/../../../" + f.outside, err: os.ErrNotExist},
		{path: "/nope", err: os.ErrNotExist},
	} {
		st, err := f.view.Stat(tc.path)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: err %v, want %v", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if st.Name != tc.name || st.Mode.IsDir() != tc.dir || (st.Mode&os.ModeSymlink != 0) != tc.symlink || st.LinkTarget != tc.link {
			t.Errorf("%s: %+v", tc.path, st)
		}
	}
}

func TestArchive(t *testing.T) {
	f := newFixture(t)
	must(t, os.WriteFile(filepath.Join(f.vol, "v"), []byte("vol"), 0o644))
	for _, tc := range []struct {
		path  string
		names []string
	}{
		{"/dst/sub", []string{"sub/", "sub/file"}},
		{"/dst/sub/", []string{"sub/", "sub/file"}},
		{"/dst/sub/.", []string{"./", "./file"}},
		{"/dst/sub/file", []string{"file"}},
		{"/bin/sh", []string{"sh"}},       // the link itself
		{"/etclink", []string{"etclink"}}, // the link itself
		{"/dst/up/dst/sub", []string{"sub/", "sub/file"}},
		{"/data", []string{"data/", "data/v"}}, // through the volume
	} {
		rc, st, err := f.view.Archive(tc.path)
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		var names []string
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.path, err)
			}
			names = append(names, h.Name)
		}
		rc.Close()
		if strings.Join(names, " ") != strings.Join(tc.names, " ") {
			t.Errorf("%s: entries %v, want %v (stat %+v)", tc.path, names, tc.names, st)
		}
	}
	if _, _, err := f.view.Archive("/nope"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

// TestViewLeavesNoMounts: a view's mounts live and die in its own namespace.
func TestViewLeavesNoMounts(t *testing.T) {
	f := newFixture(t)
	f.view.Close()
	b, err := os.ReadFile("/proc/self/mountinfo")
	must(t, err)
	if strings.Contains(string(b), f.base) {
		t.Fatalf("mounts of the view left on the host:\n%s", b)
	}
}
