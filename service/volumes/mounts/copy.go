package mounts

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/berth-project/berth/internal/securejoin"
	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// CopyUp copies what the image has at dst into an empty volume dir, as
// Docker does for a new volume over a non-empty image directory. The path
// is resolved inside the rootfs, so image symlinks cannot point it outside.
func CopyUp(rootfs, dst, vol string) error {
	ents, err := os.ReadDir(vol)
	if err != nil || len(ents) > 0 {
		return err
	}
	src, err := securejoin.Resolve(rootfs, dst)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(src)
	if err != nil || !fi.IsDir() {
		return nil // nothing to copy
	}
	if err := copyMeta(src, vol, fi); err != nil {
		return err
	}
	return copyTree(src, vol)
}

func copyTree(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		sp, dp := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		fi, err := os.Lstat(sp)
		if err != nil {
			return err
		}
		switch mode := fi.Mode(); {
		case mode.IsDir():
			if err := os.Mkdir(dp, 0o700); err != nil {
				return err
			}
			if err := copyTree(sp, dp); err != nil {
				return err
			}
		case mode&os.ModeSymlink != 0:
			target, err := os.Readlink(sp)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, dp); err != nil {
				return err
			}
		case mode.IsRegular():
			if err := copyFile(sp, dp); err != nil {
				return err
			}
		default:
			st := fi.Sys().(*syscall.Stat_t)
			if err := unix.Mknod(dp, st.Mode, int(st.Rdev)); err != nil {
				return err
			}
		}
		if err := copyMeta(sp, dp, fi); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyMeta gives dst src's owner, mode and times.
func copyMeta(src, dst string, fi os.FileInfo) error {
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(st.Atim.Nano()), unix.NsecToTimespec(st.Mtim.Nano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// SubpathSource is the directory subpath names inside a volume's root,
// symlinks resolved as if the root were "/". It must exist (dockerd's
// "cannot access path").
func SubpathSource(root, subpath string) (string, error) {
	src, err := securejoin.Resolve(root, subpath)
	if err == nil {
		_, err = os.Stat(src)
	}
	if err != nil {
		return "", fmt.Errorf("cannot access path %s: %v: %w", filepath.Join(root, subpath), err, errdefs.ErrNotFound)
	}
	return src, nil
}
