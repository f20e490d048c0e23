package archive

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/berth-project/berth/service/containers"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
)

func TestWritable(t *testing.T) {
	mounts := []containers.Mount{
		{Type: mount.TypeVolume, Destination: "/data", RW: true},
		{Type: mount.TypeVolume, Destination: "/data/ro", RW: false},
		{Type: mount.TypeBind, Destination: "/cfg", RW: false},
		{Type: mount.TypeBind, Destination: "/cfg/rw", RW: true},
	}
	for _, tc := range []struct {
		dir      string
		readonly bool
		want     string
	}{
		{"/tmp", false, ""},
		{"/tmp", true, "container rootfs is marked read-only"},
		{"/data", true, ""}, // a writable volume on a read-only rootfs
		{"/data/x/", true, ""},
		{"/data/ro", false, "mounted volume is marked read-only"},
		{"/data/ro/deep", false, "mounted volume is marked read-only"},
		{"/data/rox", false, ""}, // a sibling, not under /data/ro
		{"/cfg", false, "mounted volume is marked read-only"},
		{"/cfg/rw/x", true, ""}, // the deepest mount decides
		{"/", true, "container rootfs is marked read-only"},
	} {
		err := writable(mounts, tc.readonly)(tc.dir)
		got := ""
		if err != nil {
			got = err.Error()
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("%s: %v is not an invalid-argument error", tc.dir, err)
			}
		}
		if got != tc.want {
			t.Errorf("writable(%q, ro=%v) = %q, want %q", tc.dir, tc.readonly, got, tc.want)
		}
	}
}

func TestPathError(t *testing.T) {
	missing := &os.PathError{Op: "lstat", Path: "/nope", Err: os.ErrNotExist}
	err := pathError(missing, "/nope", "web")
	if !errdefs.IsNotFound(err) || err.Error() != "Could not find the file /nope in container web: not found" {
		t.Errorf("missing path: %v", err)
	}
	// dockerd looks no deeper than os.IsNotExist does
	deep := fmt.Errorf("untar: %w", missing)
	if err := pathError(deep, "/x", "web"); errdefs.IsNotFound(err) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("wrapped: %v", err)
	}
}
