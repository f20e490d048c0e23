package containerfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/berth-project/berth/internal/securejoin"
	"golang.org/x/sys/unix"
)

// Bind shows a host path at Destination inside a view: one of the
// container's volumes or bind mounts.
type Bind struct {
	Source      string // host path
	Destination string // absolute path in the container
	ReadOnly    bool
}

// Options describe the filesystem a View shows.
type Options struct {
	// Root is the host directory of the container's rootfs.
	Root string
	// MountRoot, when set, mounts the rootfs at Root. It runs inside the
	// view's own mount namespace, so the mount goes away with the view
	// and the host never sees it.
	MountRoot func() error
	// Binds are mounted over the rootfs, parents before children.
	Binds []Bind
}

// View is a thread with a private mount namespace whose root directory is a
// container's rootfs with the container's volumes bound in (dockerd's
// containerFSView). Functions given to Run and Go see only that tree:
// symlinks and ".." resolve inside it, so no path leads to the host's
// files. Goroutines they start see the host's filesystem again.
type View struct {
	todo chan func()
	done chan struct{}
	once sync.Once
}

// Open starts a view; Close ends it.
func Open(o Options) (*View, error) {
	v := &View{todo: make(chan func()), done: make(chan struct{})}
	started := make(chan error, 1)
	go v.start(o, started)
	if err := <-started; err != nil {
		return nil, err
	}
	return v, nil
}

// Run calls fn inside the view and returns its error.
func (v *View) Run(fn func() error) error {
	res := make(chan error, 1)
	v.todo <- func() { res <- fn() }
	return <-res
}

// Go starts fn inside the view without waiting for it to return; the next
// Run or Close waits.
func (v *View) Go(fn func()) { v.todo <- fn }

// Close waits for what runs in the view, then ends its thread, namespace
// and mounts.
func (v *View) Close() {
	v.once.Do(func() { close(v.todo) })
	<-v.done
}

func (v *View) start(o Options, started chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// The process's first thread: its root and namespaces are what
		// /proc/self shows for all of berthd, and Go parks it instead of
		// ending it. Hold it while another goroutine, which cannot run
		// here meanwhile, takes the job on another thread.
		locked := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(locked)
			v.serve(o, started)
		}()
		<-locked
		runtime.UnlockOSThread()
		return
	}
	v.serve(o, started)
}

// serve runs on a locked thread that is never unlocked: Go ends the thread
// with the goroutine, and the namespace and its mounts go with it.
func (v *View) serve(o Options, started chan<- error) {
	defer close(v.done)
	if err := enter(o); err != nil {
		started <- err
		return
	}
	started <- nil
	for fn := range v.todo {
		fn()
	}
}

// enter gives the calling thread its own mount namespace and makes o's
// tree its root.
func enter(o Options) error {
	if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
		return os.NewSyscallError("unshare", err)
	}
	// Slave, not private: an unmount on the host still reaches this copy
	// (it does not pin the host's mounts), and nothing mounted here
	// propagates back. Nothing in this namespace is shared after this.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / rslave: %w", err)
	}
	if o.MountRoot != nil {
		if err := o.MountRoot(); err != nil {
			return err
		}
	}
	// pivot_root needs a mount point, whatever Root is.
	if err := unix.Mount(o.Root, o.Root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", o.Root, err)
	}
	rootfd, err := unix.Open(o.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: o.Root, Err: err}
	}
	defer unix.Close(rootfd)
	binds := append([]Bind(nil), o.Binds...)
	depth := func(p string) int { return strings.Count(filepath.Clean(p), "/") }
	sort.SliceStable(binds, func(i, j int) bool { return depth(binds[i].Destination) < depth(binds[j].Destination) })
	for _, b := range binds {
		if err := bind(o.Root, rootfd, b); err != nil {
			return fmt.Errorf("mount %s at %s: %w", b.Source, b.Destination, err)
		}
	}
	return pivot(rootfd)
}

// bind mounts b.Source at b.Destination inside the tree at rootfd. The
// mount point is created if missing and opened with RESOLVE_IN_ROOT, so the
// image's (or a running container's) symlinks cannot send it elsewhere.
func bind(root string, rootfd int, b Bind) error {
	fi, err := os.Stat(b.Source)
	if err != nil {
		return err
	}
	resolved, err := securejoin.Resolve(root, b.Destination)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(root, resolved)
	if err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("destination %s resolves outside the rootfs", b.Destination)
	}
	if err := createMountpoint(root, rel, fi.IsDir()); err != nil {
		return err
	}
	target, err := unix.Openat2(rootfd, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return &os.PathError{Op: "openat2", Path: rel, Err: err}
	}
	defer unix.Close(target)
	tree, err := unix.OpenTree(unix.AT_FDCWD, b.Source, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return os.NewSyscallError("open_tree", err)
	}
	defer unix.Close(tree)
	remount := false
	if b.ReadOnly {
		err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
		if errors.Is(err, unix.ENOSYS) {
			remount = true // before 5.12: a remount once it is attached
		} else if err != nil {
			return os.NewSyscallError("mount_setattr", err)
		}
	}
	if err := unix.MoveMount(tree, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return os.NewSyscallError("move_mount", err)
	}
	if remount {
		// A remount cannot go through a /proc/self/fd path; the target's
		// real path in this namespace can.
		p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(target))
		if err != nil {
			return err
		}
		if err := unix.Mount("", p, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("remount %s read-only: %w", p, err)
		}
	}
	return nil
}

// createMountpoint makes the directory (or empty file) rel under root if it
// is missing, without leaving root.
func createMountpoint(root, rel string, dir bool) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	if dir {
		return r.MkdirAll(rel, 0o755)
	}
	if err := r.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		return err
	}
	f, err := r.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// pivot makes the tree at rootfd the thread's root and detaches the old
// one, as runc does (pivot_root(".", ".") leaves no directory behind).
func pivot(rootfd int) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(oldroot)
	if err := unix.Fchdir(rootfd); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return os.NewSyscallError("pivot_root", err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return err
	}
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
}
