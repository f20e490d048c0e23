package volumes

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/berth-project/berth/store/metadata"
	"github.com/containerd/errdefs"
)

func newService(t *testing.T, dir string) (*Service, *metadata.DB) {
	t.Helper()
	db, err := metadata.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(filepath.Join(dir, "volumes"), db)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func names(vs []*Volume) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	s, db := newService(t, dir)
	used := map[string][]string{}
	s.SetUsers(func(n string) []string { return used[n] })

	a, err := s.Create(CreateOptions{Name: "alpha", Labels: map[string]string{"team": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.Create(CreateOptions{Name: "alpha"}); err != nil || again != a {
		t.Fatalf("create of an existing name: %v %v", again, err)
	}
	// no name: anonymous, whoever asks (docker-py creates volumes so)
	anon, err := s.Create(CreateOptions{Labels: map[string]string{"tier": "y"}})
	if err != nil || len(anon.Name) != 64 || !anon.Anonymous() || anon.Labels["tier"] != "y" {
		t.Fatalf("anonymous: %+v %v", anon, err)
	}
	if _, err := s.Create(CreateOptions{Name: "../x"}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := s.Create(CreateOptions{Name: "y", Driver: "nfs-plugin"}); !errdefs.IsNotFound(err) {
		t.Fatalf("unknown driver: %v", err)
	}
	if _, err := s.Create(CreateOptions{Name: "y", Options: map[string]string{"bogus": "1"}}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("unknown option: %v", err)
	}
	if err := os.WriteFile(filepath.Join(s.Mountpoint("alpha"), "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	used["alpha"] = []string{"c1"}
	for _, tc := range []struct {
		f    map[string][]string
		want []string
	}{
		{nil, []string{"alpha", anon.Name}},
		{map[string][]string{"dangling": {"true"}}, []string{anon.Name}},
		{map[string][]string{"dangling": {"false"}}, []string{"alpha"}},
		{map[string][]string{"label": {"team=x"}}, []string{"alpha"}},
		{map[string][]string{"label": {"team=y"}}, []string{}},
		{map[string][]string{"name": {"lph"}}, []string{"alpha"}},
	} {
		got, err := s.List(tc.f)
		sort.Strings(tc.want) // List sorts by name
		if err != nil || !reflect.DeepEqual(names(got), tc.want) {
			t.Errorf("List(%v) = %v, %v; want %v", tc.f, names(got), err, tc.want)
		}
	}
	if _, err := s.List(map[string][]string{"nope": {"1"}}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad filter: %v", err)
	}
	if err := s.Remove("alpha", false); !errdefs.IsConflict(err) {
		t.Fatalf("remove in use: %v", err)
	}
	if err := s.Remove("nope", false); !errdefs.IsNotFound(err) {
		t.Fatalf("remove missing: %v", err)
	}
	if err := s.Remove("nope", true); err != nil {
		t.Fatalf("remove -f missing: %v", err)
	}
	// records and data survive a reopen; a directory without a record goes
	db.Close()
	if err := os.MkdirAll(filepath.Join(dir, "volumes", "halfmade", "_data"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, db = newService(t, dir)
	defer db.Close()
	s.SetUsers(func(n string) []string { return used[n] })
	if b, err := os.ReadFile(filepath.Join(s.Mountpoint("alpha"), "f")); err != nil || string(b) != "data" {
		t.Fatalf("data after reopen: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "volumes", "halfmade")); !os.IsNotExist(err) {
		t.Fatalf("half-made volume dir kept: %v", err)
	}
	// prune: only unused anonymous ones, then with all every unused one
	deleted, _, err := s.Prune(false, nil)
	if err != nil || !reflect.DeepEqual(deleted, []string{anon.Name}) {
		t.Fatalf("prune: %v %v", deleted, err)
	}
	used["alpha"] = nil
	deleted, space, err := s.Prune(true, nil)
	if err != nil || !reflect.DeepEqual(deleted, []string{"alpha"}) || space != 4 {
		t.Fatalf("prune all: %v %d %v", deleted, space, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "volumes", "alpha")); !os.IsNotExist(err) {
		t.Fatalf("pruned volume's data kept: %v", err)
	}
}
