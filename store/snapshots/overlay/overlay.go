package overlay

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// Snapshotter keeps one read-only directory per layer chain ID under
// root/<hex>/diff. A layer is unpacked into a temp dir and renamed into place,
// so a snapshot directory is always complete.
type Snapshotter struct {
	root  string
	empty string
}

// New creates a snapshotter under root.
func New(root string) (*Snapshotter, error) {
	empty := filepath.Join(root, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		return nil, fmt.Errorf("overlay snapshotter: %w", err)
	}
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "tmp-") {
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
	return &Snapshotter{root: root, empty: empty}, nil
}

// path is where a chain's snapshot lives; "" for what is not a valid
// digest (its hex would otherwise become a path, "../x" included).
func (s *Snapshotter) path(chainID digest.Digest) string {
	if chainID.Validate() != nil {
		return ""
	}
	return filepath.Join(s.root, chainID.Encoded())
}

func (s *Snapshotter) dir(chainID digest.Digest) string {
	p := s.path(chainID)
	if p == "" {
		return ""
	}
	return filepath.Join(p, "diff")
}

// Exists reports whether the layer with this chain ID is unpacked.
func (s *Snapshotter) Exists(chainID digest.Digest) bool {
	d := s.dir(chainID)
	if d == "" {
		return false
	}
	_, err := os.Stat(d)
	return err == nil
}

// Apply unpacks an uncompressed layer tar as chainID, unless it already
// exists. Tar entries cannot escape the snapshot (go-archive's breakout
// checks) and whiteouts become overlayfs whiteouts.
func (s *Snapshotter) Apply(chainID digest.Digest, layer io.Reader) error {
	return s.ApplyVerified(chainID, layer, "")
}

// ApplyVerified is Apply that, unless diffID is empty, commits the layer
// only if the tar's bytes (read to their end) have that digest: a layer
// from a registry is checked before anything can use it.
func (s *Snapshotter) ApplyVerified(chainID digest.Digest, layer io.Reader, diffID digest.Digest) error {
	if s.path(chainID) == "" {
		return fmt.Errorf("invalid chain ID %q: %w", chainID, errdefs.ErrInvalidArgument)
	}
	if s.Exists(chainID) {
		_, err := io.Copy(io.Discard, layer)
		return err
	}
	counted := &countingReader{r: layer}
	layer = counted
	var v digest.Verifier
	if diffID != "" {
		v = diffID.Verifier()
		layer = io.TeeReader(layer, v)
	}
	tmp, err := os.MkdirTemp(s.root, "tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	diff := filepath.Join(tmp, "diff")
	if err := os.Mkdir(diff, 0o755); err != nil {
		return err
	}
	opts := &archive.TarOptions{WhiteoutFormat: archive.OverlayWhiteoutFormat}
	if err := archive.UntarUncompressed(layer, diff, opts); err != nil {
		return fmt.Errorf("apply layer %s: %w", chainID, err)
	}
	// read to the end (the tar's padding): a reader that verifies what it
	// streams reports a mismatch only there, and nothing may be committed
	// before it did
	if _, err := io.Copy(io.Discard, layer); err != nil {
		return fmt.Errorf("apply layer %s: %w", chainID, err)
	}
	if v != nil {
		if !v.Verified() {
			return fmt.Errorf("layer %s: content does not match diff ID %s: %w", chainID, diffID, errdefs.ErrDataLoss)
		}
	}
	// the tar's own length is the layer's size, as an image reports it
	if err := os.WriteFile(filepath.Join(tmp, "size"), []byte(strconv.FormatInt(counted.n, 10)), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path(chainID)); err != nil {
		if s.Exists(chainID) { // raced with another apply of the same layer
			return nil
		}
		return fmt.Errorf("commit layer %s: %w", chainID, err)
	}
	return nil
}

// List returns the chain IDs of the unpacked layers.
func (s *Snapshotter) List() ([]digest.Digest, error) {
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, e := range ents {
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if e.IsDir() && d.Validate() == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// Remove deletes a layer snapshot.
func (s *Snapshotter) Remove(chainID digest.Digest) error {
	p := s.path(chainID)
	if p == "" {
		return fmt.Errorf("invalid chain ID %q: %w", chainID, errdefs.ErrInvalidArgument)
	}
	return os.RemoveAll(p)
}

// Size returns the length of the tar a layer was unpacked from (what an
// image of uncompressed layers lists), or for a snapshot from before that
// was recorded, the size of its files.
func (s *Snapshotter) Size(chainID digest.Digest) (int64, error) {
	p := s.path(chainID)
	if p == "" {
		return 0, fmt.Errorf("invalid chain ID %q: %w", chainID, errdefs.ErrInvalidArgument)
	}
	if b, err := os.ReadFile(filepath.Join(p, "size")); err == nil {
		if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			return n, nil
		}
	}
	return DirSize(s.dir(chainID))
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Mount stacks the layers (base first) under a writable upper dir in
// rwDir and mounts the result at target.
func (s *Snapshotter) Mount(chain []digest.Digest, rwDir, target string) error {
	return s.mount(chain, rwDir, target, false)
}

// MountVolatile is Mount for a container whose writable layer goes with
// it when it stops (`run --rm`): overlayfs's "volatile" option leaves out
// every sync of the upper dir, the one its unmount does included (half a
// millisecond to a millisecond on the exit path here). A volatile mount
// leaves work/work/incompat/volatile behind, and overlayfs refuses to
// mount that work dir again until it is removed: berth removes it, as the
// last mount ended cleanly (a host crash ends such a container, and the
// restart after it removes it). Kernels before 5.10 refuse the option:
// then the mount is an ordinary one.
func (s *Snapshotter) MountVolatile(chain []digest.Digest, rwDir, target string) error {
	return s.mount(chain, rwDir, target, true)
}

// PrepareDirs makes the directories a mount of rwDir at target needs, so
// that a container's create, not its first start, pays for them. Mount
// makes any that are missing.
func (s *Snapshotter) PrepareDirs(rwDir, target string) error {
	for _, d := range []string{filepath.Join(rwDir, "upper"), filepath.Join(rwDir, "work"), target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

func (s *Snapshotter) mount(chain []digest.Digest, rwDir, target string, volatile bool) error {
	if err := s.PrepareDirs(rwDir, target); err != nil {
		return err
	}
	upper, work := filepath.Join(rwDir, "upper"), filepath.Join(rwDir, "work")
	lowers := make([]string, 0, len(chain)+1)
	for i := len(chain) - 1; i >= 0; i-- {
		d := s.dir(chain[i])
		if _, err := os.Stat(d); d == "" || err != nil {
			return fmt.Errorf("layer %s: %w", chain[i], errdefs.ErrNotFound)
		}
		lowers = append(lowers, d)
	}
	if len(lowers) == 0 {
		lowers = append(lowers, s.empty)
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lowers, ":"), upper, work)
	if len(opts)+len(",volatile") >= os.Getpagesize() {
		return fmt.Errorf("overlay mount: %d layers exceed the mount option size: %w", len(chain), errdefs.ErrNotImplemented)
	}
	if volatile {
		if err := os.RemoveAll(filepath.Join(work, "work", "incompat")); err != nil {
			return err
		}
		if unix.Mount("overlay", target, "overlay", 0, opts+",volatile") == nil {
			return nil
		}
	}
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay at %s: %w", target, err)
	}
	return nil
}

// Unmount detaches target if it is mounted.
func Unmount(target string) error {
	for {
		mounted, err := mountinfo.Mounted(target)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !mounted {
			return nil
		}
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", target, err)
		}
	}
}

// DirSize sums the apparent size of regular files under dir.
func DirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n, err
}
