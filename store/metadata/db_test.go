package metadata

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

func TestPutGetDeleteReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct{ A string }
	if err := db.Put(Images, "k", rec{"v"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Batch(func(tx *Tx) error { return tx.Put(Tags, "t", "k") }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got rec
	if err := db.Get(Images, "k", &got); err != nil || got.A != "v" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	n := 0
	_ = db.ForEach(Tags, func(string, []byte) error { n++; return nil })
	if n != 1 {
		t.Fatalf("tags = %d", n)
	}
	_ = db.Delete(Images, "k")
	if err := db.Get(Images, "k", &got); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestInUse(t *testing.T) {
	root := t.TempDir()
	if InUse(root) {
		t.Fatal("a data root without a database is in use")
	}
	db, err := Open(filepath.Join(root, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !InUse(root) {
		t.Fatal("an open database is not in use")
	}
	db.Close()
	if InUse(root) {
		t.Fatal("a closed database is in use")
	}
}
