package containerfs

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/securejoin"
	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/sys/user"
)

// Stat describes path in the view as docker's HEAD /containers/{id}/archive
// does: the entry itself (a final symlink is not followed unless path ends
// in "/"), and for a symlink the fully resolved target as LinkTarget.
func (v *View) Stat(path string) (*container.PathStat, error) {
	var st *container.PathStat
	err := v.Run(func() error {
		var err error
		st, err = stat(path)
		return err
	})
	return st, err
}

func stat(path string) (*container.PathStat, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	var target string
	if fi.Mode()&os.ModeSymlink != 0 {
		// The view's root is "/", so this resolves as far as the links go
		// (broken ones included), like moby's FollowSymlinkInScope(path, "/").
		if target, err = securejoin.Resolve("/", path); err != nil {
			return nil, err
		}
	}
	return &container.PathStat{
		Name:       filepath.Base(path),
		Size:       fi.Size(),
		Mode:       fi.Mode(),
		Mtime:      fi.ModTime(),
		LinkTarget: target,
	}, nil
}

// Archive returns a tar of path in the view and its stat, as docker's GET
// /containers/{id}/archive: a directory's entries under the directory's
// base name ("/etc/." puts them at the top), anything else as one entry.
// The tar is written in the view while the reader is read; close the
// reader before the view.
func (v *View) Archive(path string) (io.ReadCloser, *container.PathStat, error) {
	absPath := archive.PreserveTrailingDotOrSeparator(filepath.Join("/", path), path)
	st, err := v.Stat(absPath)
	if err != nil {
		return nil, nil, err
	}
	dir, base := absPath, "."
	if !st.Mode.IsDir() {
		dir, base = filepath.Split(absPath)
	}
	tb, err := archive.NewTarballer(dir, archive.TarResourceRebaseOpts(base, filepath.Base(absPath)))
	if err != nil {
		return nil, nil, err
	}
	v.Go(tb.Do)
	return tb.Reader(), st, nil
}

// ExtractOptions control Extract.
type ExtractOptions struct {
	// AllowOverwriteDirWithFile lets an entry replace a directory with a
	// non-directory or the reverse (the API's noOverwriteDirNonDir=false).
	AllowOverwriteDirWithFile bool
	// ChownUser, when set, owns everything extracted: the container's
	// Config.User ("name", "uid", "name:group", …) looked up in the
	// container's /etc/passwd and /etc/group (the API's copyUIDGID).
	// Otherwise the archive's own UIDs and GIDs are kept.
	ChownUser string
	// Writable, when set, may refuse the extraction directory (a
	// read-only rootfs or volume); it gets the path resolved in the view.
	Writable func(dir string) error
}

// Extract unpacks an uncompressed tar into the directory path of the view,
// as docker's PUT /containers/{id}/archive. path is resolved with every
// symlink followed, its last element too, and must be a directory.
// Entries cannot leave that directory: names with ".." are refused,
// absolute names and symlinks resolve inside it, and the view's root is
// the container's, so nothing can be written outside the container.
func (v *View) Extract(path string, content io.Reader, o ExtractOptions) error {
	opts, cleanup, err := archive.WithProcSelfFD(&archive.TarOptions{NoOverwriteDirNonDir: !o.AllowOverwriteDirWithFile})
	if err != nil {
		return err
	}
	defer cleanup()
	return v.Run(func() error {
		absPath, err := filepath.EvalSymlinks(filepath.Join("/", path))
		if err != nil {
			return err
		}
		absPath = archive.PreserveTrailingDotOrSeparator(absPath, path)
		fi, err := os.Lstat(absPath)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return errdefs.ErrInvalidArgument.WithMessage("extraction point is not a directory")
		}
		if o.Writable != nil {
			if err := o.Writable(absPath); err != nil {
				return err
			}
		}
		if o.ChownUser != "" {
			uid, gid, err := lookupUIDGID(o.ChownUser)
			if err != nil {
				return fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
			}
			opts.ChownOpts = &archive.ChownOpts{UID: uid, GID: gid}
		}
		return archive.UntarUncompressed(content, absPath, opts)
	})
}

// lookupUIDGID resolves a container's Config.User (user[:group], names or
// IDs) against the view's /etc/passwd and /etc/group with docker run's
// rules: an unknown numeric user keeps GID 0, an empty part means 0.
func lookupUIDGID(spec string) (uid, gid int, _ error) {
	name, group, _ := strings.Cut(spec, ":")
	if name != "" {
		if id, ok := numericID(name); ok {
			uid = id
			if u, err := user.LookupUid(id); err == nil {
				gid = u.Gid
			}
		} else {
			u, err := user.LookupUser(name)
			if err != nil {
				return 0, 0, fmt.Errorf("failed to look up user %q in container: %w", name, err)
			}
			uid, gid = u.Uid, u.Gid
		}
	}
	if group != "" {
		if id, ok := numericID(group); ok {
			gid = id
		} else {
			g, err := user.LookupGroup(group)
			if err != nil {
				return 0, 0, fmt.Errorf("failed to look up group %q in container: %w", group, err)
			}
			gid = g.Gid
		}
	}
	return uid, gid, nil
}

func numericID(s string) (int, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}
