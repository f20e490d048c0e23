package metadata

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// FileName is the database's name in a data root.
const FileName = "metadata.db"

// Bucket names.
const (
	Images     = "images"
	Tags       = "tags"
	Containers = "containers"
	Volumes    = "volumes"
	Networks   = "networks"
	Frontends  = "frontends"
)

// DB is a JSON record store on bbolt. bbolt commits are atomic and fsynced,
// so a kill -9 at any point leaves a database that opens with either the old
// or the new record.
type DB struct {
	db *bolt.DB
}

// Open opens the database at path, creating the buckets. It fails if another
// process holds the database.
func Open(path string) (*DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open metadata %s (is another berthd using this data root?): %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{Images, Tags, Containers, Volumes, Networks, Frontends} {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &DB{db: db}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Put stores v as JSON under bucket/key.
func (d *DB) Put(bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return d.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).Put([]byte(key), b)
	})
}

// Get decodes bucket/key into v, or returns ErrNotFound.
func (d *DB) Get(bucket, key string, v any) error {
	return d.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket)).Get([]byte(key))
		if b == nil {
			return fmt.Errorf("%s %q: %w", bucket, key, errdefs.ErrNotFound)
		}
		return json.Unmarshal(b, v)
	})
}

// Delete removes bucket/key; a missing key is not an error.
func (d *DB) Delete(bucket, key string) error {
	return d.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).Delete([]byte(key))
	})
}

// ForEach calls fn with every key and raw JSON value in bucket.
func (d *DB) ForEach(bucket string, fn func(key string, raw []byte) error) error {
	return d.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).ForEach(func(k, v []byte) error {
			return fn(string(k), v)
		})
	})
}

// Batch applies several puts and deletes in one transaction.
func (d *DB) Batch(fn func(tx *Tx) error) error {
	return d.db.Update(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx}) })
}

// Tx is a write transaction.
type Tx struct{ tx *bolt.Tx }

// Put stores v as JSON.
func (t *Tx) Put(bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.tx.Bucket([]byte(bucket)).Put([]byte(key), b)
}

// Delete removes a key.
func (t *Tx) Delete(bucket, key string) error {
	return t.tx.Bucket([]byte(bucket)).Delete([]byte(key))
}

// InUse reports whether a live process holds the database under dataRoot
// (bbolt keeps an exclusive flock on the file while it is open): whether the
// daemon of that data root runs. It only probes, never blocks.
func InUse(dataRoot string) bool {
	f, err := os.Open(filepath.Join(dataRoot, FileName))
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}
