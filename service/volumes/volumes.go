// Package volumes manages named and anonymous volumes of the "local" driver:
// a directory <data-root>/volumes/<name>/_data, or, with options
// (type=tmpfs, device=…, o=…), a filesystem mounted there while containers
// use it. Records live in the metadata store; a volume survives container
// removal, daemon restarts and kill -9.
package volumes

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/berth-project/berth/service/events"
	eventtypes "github.com/moby/moby/api/types/events"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/store/metadata"
	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// AnonymousLabel marks volumes a container created for itself (Docker's label).
const AnonymousLabel = "com.docker.volume.anonymous"

// Volume is a volume's persisted record.
type Volume struct {
	Name      string            `json:"name"`
	Driver    string            `json:"driver"`
	CreatedAt time.Time         `json:"createdAt"`
	Labels    map[string]string `json:"labels"`
	Options   map[string]string `json:"options"`
}

// Anonymous reports whether a container created the volume for itself.
func (v *Volume) Anonymous() bool { _, ok := v.Labels[AnonymousLabel]; return ok }

// UsersFunc returns the IDs of the containers that use a volume.
type UsersFunc func(name string) []string

// Service owns the volumes.
type Service struct {
	root   string
	db     *metadata.DB
	users  UsersFunc
	events *events.Bus // nil: no events

	mu     sync.Mutex
	vols   map[string]*Volume
	mounts map[string]int // mounted option volumes → users
}

var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// New loads the volume records and reconciles them with root: a directory
// without a record is a create cut short and goes; a record without its
// directory gets it back.
func New(root string, db *metadata.DB) (*Service, error) {
	if err := os.MkdirAll(root, 0o701); err != nil {
		return nil, err
	}
	s := &Service{root: root, db: db, vols: map[string]*Volume{}, mounts: map[string]int{}, users: func(string) []string { return nil }}
	err := db.ForEach(metadata.Volumes, func(name string, raw []byte) error {
		var v Volume
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("volume %s: %w", name, err)
		}
		s.vols[name] = &v
		return os.MkdirAll(s.dataDir(name), 0o755)
	})
	if err != nil {
		return nil, fmt.Errorf("load volumes: %w", err)
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if _, ok := s.vols[e.Name()]; !ok {
			p := filepath.Join(root, e.Name(), "_data")
			_ = unix.Unmount(p, unix.MNT_DETACH)
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
	return s, nil
}

// SetUsers tells the service how to find the containers using a volume.
func (s *Service) SetUsers(fn UsersFunc) { s.users = fn }

func (s *Service) dataDir(name string) string { return filepath.Join(s.root, name, "_data") }

// NotFound is Docker's error for a missing volume.
func NotFound(name string) error {
	return fmt.Errorf("get %s: no such volume: %w", name, errdefs.ErrNotFound)
}

// CreateOptions are the parameters of a new volume.
type CreateOptions struct {
	Name    string // empty: a random 64-hex name
	Driver  string // "" or "local"
	Labels  map[string]string
	Options map[string]string
}

// Create makes a volume, or returns the existing one of that name (as Docker).
func (s *Service) Create(o CreateOptions) (*Volume, error) {
	if o.Driver == "" {
		o.Driver = "local"
	}
	if o.Driver != "local" {
		return nil, fmt.Errorf("create %s: error looking up volume plugin %s: plugin %q not found: %w", o.Name, o.Driver, o.Driver, errdefs.ErrNotFound)
	}
	if o.Name == "" {
		// a volume without a name is anonymous (what prune removes by default)
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		o.Name = hex.EncodeToString(b)
		labels := map[string]string{AnonymousLabel: ""}
		for k, v := range o.Labels {
			labels[k] = v
		}
		o.Labels = labels
	}
	if !validName.MatchString(o.Name) {
		return nil, fmt.Errorf("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path: %w", o.Name, o.Name, errdefs.ErrInvalidArgument)
	}
	for k := range o.Options {
		switch k {
		case "type", "device", "o", "size":
		default:
			return nil, fmt.Errorf("create %s: invalid option: %q: %w", o.Name, k, errdefs.ErrInvalidArgument)
		}
	}
	if (o.Options["type"] != "") != (o.Options["device"] != "") && o.Options["type"] != "tmpfs" {
		return nil, fmt.Errorf("create %s: missing required option: %q: %w", o.Name, map[bool]string{true: "device", false: "type"}[o.Options["type"] != ""], errdefs.ErrInvalidArgument)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.vols[o.Name]; ok {
		return v, nil
	}
	v := &Volume{Name: o.Name, Driver: "local", CreatedAt: time.Now().UTC(), Labels: o.Labels, Options: o.Options}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	if v.Options == nil {
		v.Options = map[string]string{}
	}
	if err := os.MkdirAll(s.dataDir(v.Name), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", v.Name, err)
	}
	if err := s.db.Put(metadata.Volumes, v.Name, v); err != nil {
		_ = os.RemoveAll(filepath.Join(s.root, v.Name))
		return nil, fmt.Errorf("create %s: %w", v.Name, err)
	}
	s.vols[v.Name] = v
	s.publish("create", v.Name)
	return v, nil
}

// SetEvents makes the service publish volume events (create, destroy,
// prune) on bus, as dockerd does.
func (s *Service) SetEvents(bus *events.Bus) { s.events = bus }

func (s *Service) publish(action eventtypes.Action, name string) {
	if s.events != nil {
		s.events.Publish(eventtypes.VolumeEventType, action, name, map[string]string{"driver": "local"})
	}
}

// Get returns the named volume.
func (s *Service) Get(name string) (*Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return nil, NotFound(name)
	}
	return v, nil
}

// Size returns the bytes of the volume's data.
func (s *Service) Size(name string) int64 { return int64(dirSize(s.dataDir(name))) }

// Users returns the IDs of the containers using the volume.
func (s *Service) Users(name string) []string { return s.users(name) }

// Mountpoint is where the volume's data is on the host.
func (s *Service) Mountpoint(name string) string { return s.dataDir(name) }

// List returns the volumes matching the filters (dangling, name, label,
// driver), sorted by name.
func (s *Service) List(filters map[string][]string) ([]*Volume, error) {
	for k := range filters {
		switch k {
		case "dangling", "name", "label", "driver":
		default:
			return nil, fmt.Errorf("invalid filter '%s': %w", k, errdefs.ErrInvalidArgument)
		}
	}
	s.mu.Lock()
	all := make([]*Volume, 0, len(s.vols))
	for _, v := range s.vols {
		all = append(all, v)
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	var out []*Volume
	for _, v := range all {
		ok, err := s.match(v, filters)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

func (s *Service) match(v *Volume, filters map[string][]string) (bool, error) {
	for _, d := range filters["dangling"] {
		var want bool
		switch strings.ToLower(d) {
		case "true", "1":
			want = true
		case "false", "0":
		default:
			return false, fmt.Errorf("invalid filter 'dangling=%s': %w", d, errdefs.ErrInvalidArgument)
		}
		if (len(s.users(v.Name)) == 0) != want {
			return false, nil
		}
	}
	if ns := filters["name"]; len(ns) > 0 && !anyMatch(ns, func(n string) bool { return strings.Contains(v.Name, n) }) {
		return false, nil
	}
	if ds := filters["driver"]; len(ds) > 0 && !anyMatch(ds, func(d string) bool { return d == v.Driver }) {
		return false, nil
	}
	for _, l := range filters["label"] {
		k, val, hasVal := strings.Cut(l, "=")
		got, ok := v.Labels[k]
		if !ok || (hasVal && got != val) {
			return false, nil
		}
	}
	return true, nil
}

func anyMatch(vs []string, f func(string) bool) bool {
	for _, v := range vs {
		if f(v) {
			return true
		}
	}
	return false
}

// Remove deletes a volume and its data; one in use is refused, with
// force too (as Docker). The users are asked without holding the lock:
// the containers service calls in here while holding its own.
func (s *Service) Remove(name string, force bool) error {
	if _, err := s.Get(name); err != nil {
		if force {
			return nil
		}
		return err
	}
	if users := s.users(name); len(users) > 0 {
		return fmt.Errorf("remove %s: volume is in use - [%s]: %w", name, strings.Join(users, ", "), errdefs.ErrConflict)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.vols[name]; !ok {
		return nil
	}
	return s.removeLocked(name)
}

func (s *Service) removeLocked(name string) error {
	if err := s.db.Delete(metadata.Volumes, name); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	delete(s.vols, name)
	_ = unix.Unmount(s.dataDir(name), unix.MNT_DETACH)
	delete(s.mounts, name)
	if err := os.RemoveAll(filepath.Join(s.root, name)); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	s.publish("destroy", name)
	return nil
}

// Prune removes unused volumes: anonymous ones, or all with all=true.
func (s *Service) Prune(all bool, filters map[string][]string) (deleted []string, reclaimed uint64, err error) {
	for k := range filters {
		if k != "label" && k != "label!" && k != "all" {
			return nil, 0, fmt.Errorf("invalid filter '%s': %w", k, errdefs.ErrInvalidArgument)
		}
	}
	vols, err := s.List(nil)
	if err != nil {
		return nil, 0, err
	}
	for _, v := range vols {
		if (!all && !v.Anonymous()) || len(s.users(v.Name)) > 0 {
			continue
		}
		if ok, _ := s.match(v, map[string][]string{"label": filters["label"]}); !ok {
			continue
		}
		skip := false
		for _, l := range filters["label!"] {
			k, val, hasVal := strings.Cut(l, "=")
			if got, ok := v.Labels[k]; ok && (!hasVal || got == val) {
				skip = true
			}
		}
		if skip {
			continue
		}
		size := dirSize(s.dataDir(v.Name))
		s.mu.Lock()
		err := s.removeLocked(v.Name)
		s.mu.Unlock()
		if err != nil {
			return deleted, reclaimed, err
		}
		deleted = append(deleted, v.Name)
		reclaimed += size
	}
	if s.events != nil {
		s.events.Publish(eventtypes.VolumeEventType, "prune", "", map[string]string{"reclaimed": strconv.FormatUint(reclaimed, 10)})
	}
	return deleted, reclaimed, nil
}

// Mount makes the volume's data available and returns its path; volumes
// with a filesystem option are mounted for their first user.
func (s *Service) Mount(name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return "", NotFound(name)
	}
	dir := s.dataDir(name)
	typ, dev := v.Options["type"], v.Options["device"]
	if typ == "" && dev == "" {
		return dir, nil
	}
	// after a daemon restart, a volume still mounted for running
	// containers is adopted, not mounted a second time
	if s.mounts[name] == 0 && !isMountpoint(dir) {
		if dev == "" {
			dev = typ
		}
		data := v.Options["o"]
		if sz := v.Options["size"]; sz != "" && typ == "tmpfs" {
			data = strings.Trim(data+",size="+sz, ",")
		}
		flags, data := splitMountFlags(data)
		if typ == "none" && strings.Contains(","+v.Options["o"]+",", ",bind,") {
			typ = ""
		}
		if err := unix.Mount(dev, dir, typ, flags, data); err != nil {
			return "", fmt.Errorf("error while mounting volume '%s': failed to mount local volume: mount %s:%s, flags: %#x, data: %s: %w", dir, dev, dir, flags, data, err)
		}
	}
	s.mounts[name]++
	return dir, nil
}

// Unmount releases one user of a volume.
func (s *Service) Unmount(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mounts[name] == 0 {
		return
	}
	s.mounts[name]--
	if s.mounts[name] == 0 {
		delete(s.mounts, name)
		_ = unix.Unmount(s.dataDir(name), unix.MNT_DETACH)
	}
}

// splitMountFlags separates flag options (ro, nosuid, bind…) from data.
func splitMountFlags(o string) (uintptr, string) {
	known := map[string]uintptr{"ro": unix.MS_RDONLY, "nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV,
		"noexec": unix.MS_NOEXEC, "bind": unix.MS_BIND, "rbind": unix.MS_BIND | unix.MS_REC, "noatime": unix.MS_NOATIME}
	var flags uintptr
	var data []string
	for _, p := range strings.Split(o, ",") {
		if p == "" || p == "rw" {
			continue
		}
		if f, ok := known[p]; ok {
			flags |= f
		} else {
			data = append(data, p)
		}
	}
	return flags, strings.Join(data, ",")
}

func dirSize(dir string) uint64 {
	var n uint64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			n += uint64(info.Size())
		}
		return nil
	})
	return n
}

// isMountpoint reports whether dir is the root of a mount (its device
// differs from its parent's, or it is bound over itself).
func isMountpoint(dir string) bool {
	var a, b unix.Stat_t
	if unix.Stat(dir, &a) != nil || unix.Stat(filepath.Dir(dir), &b) != nil {
		return false
	}
	return a.Dev != b.Dev || a.Ino == b.Ino
}
