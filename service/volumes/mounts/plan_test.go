package mounts

import (
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
)

func TestPlan(t *testing.T) {
	other := []Mount{
		{Type: mount.TypeVolume, Name: "shared", Destination: "/data", RW: true, Anonymous: true},
		{Type: mount.TypeTmpfs, Destination: "/tmp"},
	}
	for _, tc := range []struct {
		name string
		src  Sources
		want []Mount
		err  string
	}{
		{name: "image volumes only", src: Sources{ImageVolumes: map[string]struct{}{"/b": {}, "/a/": {}}},
			want: []Mount{{Type: mount.TypeVolume, Destination: "/a", RW: true}, {Type: mount.TypeVolume, Destination: "/b", RW: true}}},
		{name: "a bind over an image volume", src: Sources{Binds: []string{"/h:/a"}, ImageVolumes: map[string]struct{}{"/a": {}}},
			want: []Mount{{Type: mount.TypeBind, Source: "/h", Destination: "/a", RW: true, Propagation: mount.PropagationRPrivate}}},
		{name: "volumes-from: no tmpfs, not anonymous any more, mode applied", src: Sources{VolumesFrom: []From{{Mounts: other, Mode: "ro"}}},
			want: []Mount{{Type: mount.TypeVolume, Name: "shared", Destination: "/data"}}},
		{name: "-v over volumes-from", src: Sources{VolumesFrom: []From{{Mounts: other}}, Binds: []string{"mine:/data"}},
			want: []Mount{{Type: mount.TypeVolume, Name: "mine", Destination: "/data", RW: true}}},
		{name: "tmpfs ro", src: Sources{Tmpfs: map[string]string{"/run": "size=1m,ro"}},
			want: []Mount{{Type: mount.TypeTmpfs, Destination: "/run", Data: "size=1m,ro"}}},
		{name: "two explicit at one place", src: Sources{Binds: []string{"/h:/a"}, Mounts: []mount.Mount{{Type: mount.TypeTmpfs, Target: "/a/"}}},
			err: "Duplicate mount point: /a"},
		{name: "bad image volume", src: Sources{ImageVolumes: map[string]struct{}{"rel": {}}}, err: "must be absolute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Plan(tc.src)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errdefs.IsInvalidArgument(err) {
					t.Fatalf("got %v, want an invalid-argument error with %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseVolumesFrom(t *testing.T) {
	if ref, mode, err := ParseVolumesFrom("db:ro"); ref != "db" || mode != "ro" || err != nil {
		t.Fatalf("db:ro = %q %q %v", ref, mode, err)
	}
	if _, _, err := ParseVolumesFrom("db:rx"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("db:rx: %v", err)
	}
}

func TestSpec(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Mount
		want []string
	}{
		{"rw bind", Mount{Type: mount.TypeBind, RW: true}, []string{"rbind", "rprivate"}},
		{"ro bind is recursively read-only", Mount{Type: mount.TypeBind, Propagation: mount.PropagationRShared}, []string{"rbind", "ro", "rro", "rshared"}},
		{"ro, top mount only", Mount{Type: mount.TypeBind, ReadOnlyNonRecursive: true}, []string{"rbind", "ro", "rprivate"}},
		{"non-recursive", Mount{Type: mount.TypeVolume, NonRecursive: true}, []string{"bind", "ro", "rprivate"}},
		{"tmpfs", Mount{Type: mount.TypeTmpfs, Data: "size=1m"}, []string{"nosuid", "nodev", "noexec", "size=1m"}},
	} {
		if got := tc.m.Spec("/src").Options; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: options %v, want %v", tc.name, got, tc.want)
		}
	}
}
