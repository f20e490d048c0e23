package oci

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func userRootfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "etc/passwd"), `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/sh
`)
	writeFile(t, filepath.Join(root, "etc/group"), `root:x:0:
daemon:x:1:
alice:x:1000:
wheel:x:10:alice
audio:x:29:alice,bob
staff:x:50:
`)
	return root
}

func TestResolveUser(t *testing.T) {
	root := userRootfs(t)
	tests := []struct {
		spec     string
		groupAdd []string
		uid, gid uint32
		gids     []uint32
		home     string
	}{
		{spec: "", uid: 0, gid: 0, gids: []uint32{0}, home: "/root"},
		{spec: "alice", uid: 1000, gid: 1000, gids: []uint32{1000, 10, 29}, home: "/home/alice"},
		{spec: "1000", uid: 1000, gid: 1000, gids: []uint32{1000, 10, 29}, home: "/home/alice"},
		{spec: "alice:staff", uid: 1000, gid: 50, gids: []uint32{50}, home: "/home/alice"},
		{spec: "alice:50", uid: 1000, gid: 50, gids: []uint32{50}, home: "/home/alice"},
		{spec: "4242", uid: 4242, gid: 0, gids: []uint32{0}, home: "/"},
		{spec: "4242:4343", uid: 4242, gid: 4343, gids: []uint32{4343}, home: "/"},
		{spec: "daemon", groupAdd: []string{"staff", "777"}, uid: 1, gid: 1, gids: []uint32{1, 50, 777}, home: "/usr/sbin"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			u, home, err := resolveUser(root, tc.spec, tc.groupAdd)
			if err != nil {
				t.Fatal(err)
			}
			// moby/sys/user returns --group-add groups in no fixed order.
			gids := slices.Sorted(slices.Values(u.AdditionalGids))
			if u.UID != tc.uid || u.GID != tc.gid || !slices.Equal(gids, slices.Sorted(slices.Values(tc.gids))) || home != tc.home {
				t.Errorf("got %+v home %q, want uid %d gid %d gids %v home %q", u, home, tc.uid, tc.gid, tc.gids, tc.home)
			}
		})
	}
}

func TestResolveUserNoPasswdFile(t *testing.T) {
	root := t.TempDir()
	u, home, err := resolveUser(root, "123:456", nil)
	if err != nil || u.UID != 123 || u.GID != 456 || home != "/" {
		t.Errorf("got %+v %q %v", u, home, err)
	}
	if _, _, err := resolveUser(root, "bob", nil); err == nil || err.Error() != "unable to find user bob: no matching entries in passwd file" {
		t.Errorf("error = %v", err)
	}
}

func TestResolveInRootStaysInside(t *testing.T) {
	root := userRootfs(t)
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "passwd"), "evil:x:0:0::/:/bin/sh\n")
	if err := os.MkdirAll(filepath.Join(root, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"x/abs": outside + "/passwd", "x/rel": "../../../../../../" + outside + "/passwd", "x/etc": "/etc"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]string{
		"/x/abs":        filepath.Join(root, outside, "passwd"),
		"/x/rel":        filepath.Join(root, outside, "passwd"),
		"/x/etc/passwd": filepath.Join(root, "etc/passwd"),
		"/../../etc":    filepath.Join(root, "etc"),
	}
	for in, want := range tests {
		got, err := resolveInRoot(root, in)
		if err != nil || got != want {
			t.Errorf("resolveInRoot(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSpecUser(t *testing.T) {
	o := testOptions(t)
	o.Rootfs = userRootfs(t)
	o.Config.User = "alice"
	o.HostConfig.GroupAdd = []string{"staff"}
	s := mustSpec(t, o)
	if u := s.Process.User; u.UID != 1000 || u.GID != 1000 || !slices.Equal(u.AdditionalGids, []uint32{1000, 10, 29, 50}) {
		t.Errorf("user = %+v", u)
	}
	if v, _ := lookupEnv(s.Process.Env, "HOME"); v != "/home/alice" {
		t.Errorf("HOME = %q", v)
	}
}
