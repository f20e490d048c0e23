package image

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestAtomicFile: -o writes beside the destination and replaces it only
// when the archive is complete; refusals use docker's words.
func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "out.tar")
	if err := os.WriteFile(dest, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := newAtomicFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("partial")
	f.Abort()
	if b, _ := os.ReadFile(dest); string(b) != "old" {
		t.Fatalf("aborted save replaced the file: %q", b)
	}
	f, _ = newAtomicFile(dest)
	_, _ = f.WriteString("new")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if b, _ := os.ReadFile(dest); string(b) != "new" {
		t.Fatalf("after commit: %q", b)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600 as docker", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	for _, tc := range []struct{ path, err string }{
		{filepath.Join(dir, "missing", "x.tar"), "invalid output path: stat " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{filepath.Join(dest, "x.tar"), "invalid output path: stat " + dest + ": not a directory"},
		{dir, "cannot write to a directory"},
		{"/dev/null", "cannot write to a character device file"},
	} {
		if _, err := newAtomicFile(tc.path); err == nil || err.Error() != tc.err {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.err)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	for in, want := range map[string]ocispec.Platform{
		"linux":          {OS: "linux", Architecture: runtime.GOARCH},
		"linux/amd64":    {OS: "linux", Architecture: "amd64"},
		"Linux/ARM64/v8": {OS: "linux", Architecture: "arm64", Variant: "v8"},
	} {
		if got, err := parsePlatform(in); err != nil || got.OS != want.OS || got.Architecture != want.Architecture || got.Variant != want.Variant {
			t.Errorf("%s: %+v, %v", in, got, err)
		}
	}
	if _, err := parsePlatform("a/b/c/d"); err == nil || !strings.Contains(err.Error(), `invalid platform: "a/b/c/d": cannot parse platform specifier`) {
		t.Errorf("a/b/c/d: %v", err)
	}
}
