package build

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNeededStages(t *testing.T) {
	stages, _, err := parseDockerfile(`FROM busybox AS a
FROM busybox AS b
COPY --from=a /x /x
FROM busybox AS unused
FROM b AS final
`)
	if err != nil {
		t.Fatal(err)
	}
	got := neededStages(stages, 3, func(s string) string { return s })
	if !reflect.DeepEqual(got, map[int]bool{0: true, 1: true, 3: true}) {
		t.Fatalf("needed for final: %v", got)
	}
	if got := neededStages(stages, 0, func(s string) string { return s }); !reflect.DeepEqual(got, map[int]bool{0: true}) {
		t.Fatalf("needed for a: %v", got)
	}
}

func TestParseErrorNamesTheLine(t *testing.T) {
	_, _, err := parseDockerfile("FROM busybox\nRUN true\nRUNN x\n")
	if err == nil || !strings.HasPrefix(parseErrorText(err), "on line 3: unknown instruction: RUNN") {
		t.Fatalf("got %v / %q", err, parseErrorText(err))
	}
}

func TestContainedPath(t *testing.T) {
	root := "/ctx"
	for name, want := range map[string]string{"Dockerfile": "/ctx/Dockerfile", "a/../b": "/ctx/b", "../../etc/passwd": "/ctx/etc/passwd", "/abs": "/ctx/abs"} {
		if got, err := containedPath(root, name); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", name, got, err, want)
		}
	}
}

func TestMatchSourcesStaysInContext(t *testing.T) {
	ctx := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(ctx, "link")); err != nil {
		t.Fatal(err)
	}
	if m, err := matchSources(ctx, "*.txt", false); err != nil || len(m) != 1 {
		t.Fatalf("glob: %v %v", m, err)
	}
	if _, err := matchSources(ctx, "link", false); err == nil {
		t.Fatal("a symlink out of the context was followed")
	}
	if _, err := matchSources(ctx, "../"+filepath.Base(outside)+"/secret", false); err == nil {
		t.Fatal("../ left the context")
	}
}

// TestWriteLayerIsReproducible: the same files give the same bytes
// whatever their times and owners on disk.
func TestWriteLayerIsReproducible(t *testing.T) {
	layer := func(mtime time.Time) []byte {
		dir := t.TempDir()
		for _, f := range []string{"b.txt", "a.txt", "sub/c.txt"} {
			p := filepath.Join(dir, f)
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
				t.Fatal(err)
			}
			_ = os.Chtimes(p, mtime, mtime)
		}
		es, err := walk(dir, "app")
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := writeLayer(&buf, es, map[string]dirAttrs{}, "/app", true, 0, 0, nil, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b := layer(time.Unix(1e9, 0)), layer(time.Unix(2e9, 0))
	if !bytes.Equal(a, b) {
		t.Fatal("layers differ with file times")
	}
	var names []string
	tr := tar.NewReader(bytes.NewReader(a))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(time.Unix(0, 0)) || h.Uid != 0 {
			t.Errorf("%s: mtime %v uid %d", h.Name, h.ModTime, h.Uid)
		}
	}
	want := []string{"app/", "app/a.txt", "app/b.txt", "app/sub/", "app/sub/c.txt"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("entries %v, want %v", names, want)
	}
}

func TestResolveChown(t *testing.T) {
	root := t.TempDir()
	_ = os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	_ = os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/app:/bin/sh\n"), 0o644)
	_ = os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nstaff:x:50:\n"), 0o644)
	for spec, want := range map[string][2]int{"app": {1000, 1001}, "app:staff": {1000, 50}, "12:34": {12, 34}, "7": {7, 7}} {
		u, g, err := resolveChown(root, spec)
		if err != nil || [2]int{u, g} != want {
			t.Errorf("%s: %d:%d %v, want %v", spec, u, g, err, want)
		}
	}
	if _, _, err := resolveChown(root, "nobody"); err == nil {
		t.Error("unknown user accepted")
	}
	var be *Error
	if _, _, err := resolveChown(root, "app:nogroup"); err == nil || !errorsAs(err, &be) {
		t.Errorf("unknown group: %v", err)
	}
}

func errorsAs(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

func TestRemoveIgnored(t *testing.T) {
	for _, tc := range []struct {
		name, ignore, dockerfile string
		gone, kept               []string
	}{
		{"both listed", "Dockerfile\n.dockerignore\n", "Dockerfile", []string{"Dockerfile", ".dockerignore"}, []string{"a"}},
		{"neither listed", "a\n", "Dockerfile", nil, []string{"Dockerfile", ".dockerignore", "a"}},
		{"wildcard", "*\n!a\n", "Dockerfile", []string{"Dockerfile", ".dockerignore"}, []string{"a"}},
		{"parent directory", "sub\n", "sub/Dockerfile", []string{"sub/Dockerfile"}, []string{".dockerignore", "a"}},
		{"the CLI's -f - file", ".dockerfile.0123\n.dockerignore\n", ".dockerfile.0123", []string{".dockerfile.0123", ".dockerignore"}, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range []string{tc.dockerfile, ".dockerignore", "a"} {
				_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
				content := "x"
				if f == ".dockerignore" {
					content = tc.ignore
				}
				if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := removeIgnored(dir, tc.dockerfile); err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.gone {
				if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
					t.Errorf("%s kept", f)
				}
			}
			for _, f := range tc.kept {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s removed: %v", f, err)
				}
			}
		})
	}
}

// A directory a COPY writes into keeps its mode and owner in the layer.
func TestWriteLayerKeepsExistingDirs(t *testing.T) {
	existing := map[string]dirAttrs{"srv": {mode: 0o750, uid: 1000, gid: 1001}, "srv/app": {mode: 0o700, uid: 7, gid: 8}}
	fi := fakeInfo{name: "f", size: 1, mode: 0o644}
	for _, tc := range []struct {
		dest  string
		isDir bool
		want  map[string][3]int64 // name → mode, uid, gid
	}{
		{"/srv/app", true, map[string][3]int64{"srv/": {0o750, 1000, 1001}, "srv/app/": {0o700, 7, 8}, "srv/app/f": {0o644, 5, 5}}},
		{"/srv/new", true, map[string][3]int64{"srv/": {0o750, 1000, 1001}, "srv/new/": {0o755, 5, 5}, "srv/new/f": {0o644, 5, 5}}},
	} {
		var buf bytes.Buffer
		es := []entry{{data: []byte("x"), name: strings.TrimPrefix(tc.dest, "/") + "/f", fi: fi}}
		if err := writeLayer(&buf, es, existing, tc.dest, tc.isDir, 5, 5, nil, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(&buf)
		got := map[string][3]int64{}
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			got[h.Name] = [3]int64{h.Mode, int64(h.Uid), int64(h.Gid)}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.dest, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s = %o/%d/%d, want %o/%d/%d", tc.dest, k, got[k][0], got[k][1], got[k][2], v[0], v[1], v[2])
			}
		}
	}
}
