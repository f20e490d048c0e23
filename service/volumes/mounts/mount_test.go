package mounts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
)

func TestParseBind(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Mount
		bad  bool
	}{
		{spec: "/a:/b", want: Mount{Type: mount.TypeBind, Source: "/a", Destination: "/b", RW: true, Propagation: mount.PropagationRPrivate}},
		{spec: "/a/../c/:/b/:ro", want: Mount{Type: mount.TypeBind, Source: "/c", Destination: "/b", Mode: "ro", Propagation: mount.PropagationRPrivate}},
		{spec: "/a:/b:ro,rshared", want: Mount{Type: mount.TypeBind, Source: "/a", Destination: "/b", Mode: "ro,rshared", Propagation: mount.PropagationRShared}},
		{spec: "vol:/data", want: Mount{Type: mount.TypeVolume, Name: "vol", Destination: "/data", RW: true}},
		{spec: "vol:/data:nocopy", want: Mount{Type: mount.TypeVolume, Name: "vol", Destination: "/data", RW: true, Mode: "nocopy", NoCopy: true}},
		{spec: "vol:/data:z", want: Mount{Type: mount.TypeVolume, Name: "vol", Destination: "/data", RW: true, Mode: "z"}},
		{spec: "/a", bad: true},
		{spec: "/a:b", bad: true},
		{spec: "/a:/", bad: true},
		{spec: "/a:/b:ro,rw", bad: true},
		{spec: "/a:/b:nocopy", bad: true}, // nocopy is for volumes
		{spec: "vol:/b:rshared", bad: true},
		{spec: "/a:/b:c:d", bad: true},
		{spec: ":/b", bad: true},
	} {
		got, err := ParseBind(tc.spec)
		if tc.bad {
			if err == nil || !errdefs.IsInvalidArgument(err) {
				t.Errorf("%s: want an invalid-argument error, got %+v, %v", tc.spec, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
}

func TestFromAPIMount(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		in   mount.Mount
		want Mount
		bad  bool
	}{
		{"bind", mount.Mount{Type: mount.TypeBind, Source: dir, Target: "/x", ReadOnly: true},
			Mount{Type: mount.TypeBind, Source: dir, Destination: "/x", MustExist: true, Propagation: mount.PropagationRPrivate}, false},
		{"bind missing", mount.Mount{Type: mount.TypeBind, Source: dir + "/nope", Target: "/x"}, Mount{}, true},
		{"bind relative", mount.Mount{Type: mount.TypeBind, Source: "rel", Target: "/x"}, Mount{}, true},
		{"volume", mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/x", VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
			Mount{Type: mount.TypeVolume, Name: "v", Destination: "/x", RW: true, NoCopy: true}, false},
		{"anonymous volume", mount.Mount{Type: mount.TypeVolume, Target: "/x"}, Mount{Type: mount.TypeVolume, Destination: "/x", RW: true}, false},
		{"tmpfs", mount.Mount{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o1777}},
			Mount{Type: mount.TypeTmpfs, Destination: "/t", RW: true, Data: "size=1048576,mode=1777"}, false},
		{"tmpfs with source", mount.Mount{Type: mount.TypeTmpfs, Source: "x", Target: "/t"}, Mount{}, true},
		{"no target", mount.Mount{Type: mount.TypeVolume, Source: "v"}, Mount{}, true},
		{"unknown type", mount.Mount{Type: "npipe", Target: "/x"}, Mount{}, true},
		{"volume subpath", mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/x", VolumeOptions: &mount.VolumeOptions{Subpath: "a/b/"}},
			Mount{Type: mount.TypeVolume, Name: "v", Destination: "/x", RW: true, Subpath: "a/b"}, false},
		{"subpath out of the volume", mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/x", VolumeOptions: &mount.VolumeOptions{Subpath: "../b"}}, Mount{}, true},
		{"absolute subpath", mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/x", VolumeOptions: &mount.VolumeOptions{Subpath: "/etc"}}, Mount{}, true},
		{"subpath of an anonymous volume", mount.Mount{Type: mount.TypeVolume, Target: "/x", VolumeOptions: &mount.VolumeOptions{Subpath: "a"}}, Mount{}, true},
	} {
		got, err := FromAPI(tc.in)
		if tc.bad {
			if err == nil || !errdefs.IsInvalidArgument(err) {
				t.Errorf("%s: want an invalid-argument error, got %+v, %v", tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestSubpathSource(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	if got, err := SubpathSource(root, "a/b"); err != nil || got != filepath.Join(root, "a", "b") {
		t.Fatalf("a/b: %s %v", got, err)
	}
	// a symlink to /etc means the volume's own /etc, which does not exist
	if got, err := SubpathSource(root, "out"); !errdefs.IsNotFound(err) {
		t.Fatalf("symlink out of the volume: %s %v", got, err)
	}
	if _, err := SubpathSource(root, "missing"); err == nil || !strings.Contains(err.Error(), "cannot access path "+filepath.Join(root, "missing")) {
		t.Fatalf("missing: %v", err)
	}
}
