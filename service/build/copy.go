package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/go-archive"
	"github.com/moby/go-archive/compression"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

func goarch() string { return runtime.GOARCH }

func parseDockerfile(df string) ([]instructions.Stage, []instructions.ArgCommand, error) {
	res, err := parser.Parse(strings.NewReader(df))
	if err != nil {
		return nil, nil, err
	}
	return instructions.Parse(res.AST, nil)
}

// extractContext unpacks the (possibly compressed) context tar into dir;
// entries that would land outside dir are refused by go-archive.
func extractContext(r io.Reader, dir string) error {
	return archive.Untar(r, dir, &archive.TarOptions{NoLchown: true})
}

type copySpec struct {
	sources  []string
	contents []instructions.SourceContent
	dest     string
	from     string
	chown    string
	chmod    string
	verb     string
	add      bool
}

// entry is one file of a COPY, with its path in the layer.
type entry struct {
	src  string // host path ("" for generated content)
	data []byte // generated content (heredoc, download)
	name string // path in the image, without the leading /
	fi   os.FileInfo
	// mtime is the file's time in the layer; zero: the build's epoch (a
	// download keeps the server's Last-Modified, as dockerd does)
	mtime time.Time
}

func (r *run) copyStep(st *stage, c copySpec) error {
	srcRoot := r.dir
	var release func()
	if c.from != "" {
		if sr, ok := r.stages[strings.ToLower(c.from)]; ok && sr.index == r.current {
			return failf("invalid from flag value %s: refers to current build stage", c.from)
		}
		if prev, ok := r.stage_(c.from, r.current); ok {
			root, rel, err := r.b.images.MountRootfs(prev.img)
			if err != nil {
				return err
			}
			srcRoot, release = root, rel
		} else {
			img, err := r.b.images.Resolve(c.from)
			if err != nil {
				return failf("%s failed: invalid from flag value %s: %v", c.verb, c.from, err)
			}
			root, rel, err := r.b.images.MountRootfs(img)
			if err != nil {
				return err
			}
			srcRoot, release = root, rel
		}
		defer release()
	}
	dest := c.dest
	if !strings.HasPrefix(dest, "/") {
		wd := st.cfg.Config.WorkingDir
		if wd == "" {
			wd = "/"
		}
		dest = joinPath(wd, dest)
	}
	// what the image already has decides "into the directory" and which parents to make
	var destIsDir bool
	var existing map[string]dirAttrs
	uid, gid := 0, 0
	err := r.withRootfs(st, func(root string) error {
		if root == "" {
			existing = map[string]dirAttrs{}
			return nil
		}
		p, err := securejoin.Resolve(root, dest)
		if err != nil {
			return err
		}
		// the destination is where its symlinks lead, inside the image
		// (dockerd resolves it in the container's filesystem): a link on
		// the way is followed, never replaced by a directory
		if rel, err := filepath.Rel(root, p); err == nil {
			dest = "/" + filepath.ToSlash(rel)
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			destIsDir = true
		}
		existing = existingParents(root, dest)
		if c.chown != "" {
			uid, gid, err = resolveChown(root, c.chown)
		}
		return err
	})
	if err != nil {
		return err
	}
	if c.chown != "" && st.img == nil {
		if uid, gid, err = resolveChown("", c.chown); err != nil {
			return err
		}
	}
	var entries []entry
	var kinds []string
	nsrc := len(c.sources) + len(c.contents)
	if strings.HasSuffix(c.dest, "/") || nsrc > 1 {
		destIsDir = true
	}
	for _, hd := range c.contents {
		name := hd.Path
		target := dest
		if destIsDir {
			target = path.Join(dest, name)
		}
		entries = append(entries, entry{data: []byte(hd.Data), name: strings.TrimPrefix(path.Clean(target), "/"), fi: fakeInfo{name: name, size: int64(len(hd.Data)), mode: 0o644}})
		kinds = append(kinds, "file")
	}
	for _, src := range c.sources {
		if c.add && (strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")) {
			e, err := download(src, dest, destIsDir)
			if err != nil {
				return failf("ADD failed: %v", err)
			}
			entries = append(entries, e)
			kinds = append(kinds, "file")
			continue
		}
		matches, err := matchSources(srcRoot, src, c.from != "")
		if err != nil {
			return err
		}
		if len(matches) == 0 {
			if c.from != "" {
				return failf("%s failed: stat %s: file does not exist", c.verb, src)
			}
			return failf("%s failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist", c.verb, src)
		}
		if len(matches) > 1 {
			destIsDir = true
		}
		if nsrc > 1 && !strings.HasSuffix(c.dest, "/") && !destIsDir {
			return failf("When using %s with more than one source file, the destination must be a directory and end with a /", c.verb)
		}
		for _, m := range matches {
			fi, err := os.Stat(m)
			if err != nil {
				return failf("%s failed: %v", c.verb, err)
			}
			if fi.IsDir() {
				kinds = append(kinds, "dir")
				// a source that is a link to a directory copies the directory
				// (resolved inside the source's root, never on the host)
				if rel, err := filepath.Rel(srcRoot, m); err == nil {
					if real, err := securejoin.Resolve(srcRoot, "/"+rel); err == nil {
						m = real
					}
				}
				es, err := walk(m, strings.TrimPrefix(path.Clean(dest), "/"))
				if err != nil {
					return err
				}
				entries = append(entries, es...)
				continue
			}
			kinds = append(kinds, "file")
			if c.add && isArchive(m) {
				es, err := tarEntries(m, strings.TrimPrefix(path.Clean(dest), "/"))
				if err != nil {
					return failf("ADD failed: %v", err)
				}
				entries = append(entries, es...)
				continue
			}
			target := dest
			if destIsDir || strings.HasSuffix(c.dest, "/") {
				target = path.Join(dest, filepath.Base(m))
			}
			entries = append(entries, entry{src: m, name: strings.TrimPrefix(path.Clean(target), "/"), fi: fi})
		}
	}
	var mode *int64
	if c.chmod != "" {
		v, err := strconv.ParseInt(c.chmod, 8, 32)
		if err != nil || v < 0 || v > 0o7777 {
			return failf("invalid chmod parameter: %s", c.chmod)
		}
		mode = &v
	}
	// The layer's checksum is the cache key: hash it first without
	// keeping it, and write it only when the cache misses.
	h := sha256.New()
	if err := writeLayer(h, withoutTimes(entries), existing, dest, destIsDir, uid, gid, mode, r.o.Epoch); err != nil {
		return err
	}
	kind := "multi"
	if len(kinds) == 1 {
		kind = kinds[0]
	}
	from := ""
	if c.from != "" {
		from = "--from=" + c.from + " "
	}
	createdBy := nop(st, fmt.Sprintf("%s %s%s:%s in %s ", c.verb, from, kind, hex.EncodeToString(h.Sum(nil)), dest))
	return r.commit(st, createdBy, func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			pw.CloseWithError(writeLayer(pw, entries, existing, dest, destIsDir, uid, gid, mode, r.o.Epoch))
		}()
		return pr, nil
	}, true)
}

// matchSources expands a source pattern inside root (the context, or a
// stage's filesystem) without leaving it.
func matchSources(root, pattern string, inImage bool) ([]string, error) {
	clean := path.Clean("/" + pattern)
	if inImage {
		p, err := securejoin.Resolve(root, clean)
		if err != nil {
			return nil, err
		}
		if !strings.ContainsAny(clean, "*?[") {
			if _, err := os.Lstat(p); err != nil {
				return nil, nil
			}
			return []string{p}, nil
		}
	}
	p, err := containedPath(root, clean)
	if err != nil {
		return nil, failf("COPY failed: forbidden path outside the build context: %s", pattern)
	}
	if rel, _ := filepath.Rel(root, p); strings.HasPrefix(pattern, "..") || strings.HasPrefix(rel, "..") {
		return nil, failf("COPY failed: forbidden path outside the build context: %s", pattern)
	}
	matches, err := filepath.Glob(p)
	if err != nil {
		return nil, failf("COPY failed: %v", err)
	}
	var out []string
	for _, m := range matches {
		// a symlink in the context that points outside it is refused, as Docker
		if real, err := filepath.EvalSymlinks(m); err == nil {
			if rel, err := filepath.Rel(root, real); err != nil || strings.HasPrefix(rel, "..") {
				if !inImage {
					return nil, failf("COPY failed: forbidden path outside the build context: %s (%s)", pattern, real)
				}
			}
		}
		out = append(out, m)
	}
	sort.Strings(out)
	return out, nil
}

// walk lists a directory's contents (not the directory itself) under dest.
func walk(dir, dest string) ([]entry, error) {
	var out []entry
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, entry{src: p, name: path.Join(dest, filepath.ToSlash(rel)), fi: fi})
		return nil
	})
	return out, err
}

func isArchive(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	// a compressed file is an archive only if what it holds is a tar: a
	// plain x.gz is copied as it is (dockerd's rule)
	rd, err := compression.DecompressStream(bufio.NewReader(f))
	if err != nil {
		return false
	}
	defer rd.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(rd, head)
	_, err = tar.NewReader(bytes.NewReader(head[:n])).Next()
	return err == nil && n == 512
}

// tarEntries reads a local archive ADD extracts into dest.
func tarEntries(p, dest string) ([]entry, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd, err := compression.DecompressStream(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	tr := tar.NewReader(rd)
	var out []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		name := path.Clean("/" + h.Name)
		if name == "/" {
			continue
		}
		var data []byte
		if h.Typeflag == tar.TypeReg {
			if data, err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		}
		out = append(out, entry{data: data, name: path.Join(dest, strings.TrimPrefix(name, "/")), fi: h.FileInfo()})
	}
}

func download(src, dest string, destIsDir bool) (entry, error) {
	c := &http.Client{Timeout: 5 * time.Minute}
	resp, err := c.Get(src)
	if err != nil {
		return entry{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return entry{}, fmt.Errorf("GET %s: %s", src, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return entry{}, err
	}
	target := dest
	if destIsDir {
		u, _ := url.Parse(src)
		target = path.Join(dest, path.Base(u.Path))
	}
	e := entry{data: data, name: strings.TrimPrefix(path.Clean(target), "/"), fi: fakeInfo{name: path.Base(target), size: int64(len(data)), mode: 0o600}}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		e.mtime = t.UTC()
	}
	return e, nil
}

// withoutTimes is entries without their own times: a download's
// Last-Modified is kept in the layer but, as with dockerd, is not part of
// the cache key (the same content from another server is a cache hit).
func withoutTimes(entries []entry) []entry {
	out := append([]entry(nil), entries...)
	for i := range out {
		out[i].mtime = time.Time{}
	}
	return out
}

// existingParents reports which ancestors of dest (and dest) exist in root.
func existingParents(root, dest string) map[string]dirAttrs {
	out := map[string]dirAttrs{}
	p := ""
	for _, part := range strings.Split(strings.Trim(path.Clean(dest), "/"), "/") {
		if part == "" {
			continue
		}
		p = path.Join(p, part)
		if rp, err := securejoin.Resolve(root, "/"+p); err == nil {
			if fi, err := os.Stat(rp); err == nil && fi.IsDir() {
				a := dirAttrs{mode: int64(fi.Mode().Perm()) | int64(fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky)>>9)}
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					a.uid, a.gid = int(st.Uid), int(st.Gid)
				}
				out[p] = a
			}
		}
	}
	return out
}

// dirAttrs are an existing directory's mode and owner: the layer repeats
// them, since in an overlay the directory entry of the newest layer wins
// (a directory a COPY writes into keeps its owner, as with dockerd).
type dirAttrs struct {
	mode     int64
	uid, gid int
}

// writeLayer writes entries as a tar in a fixed order with normalised
// headers, creating dest's missing parent directories (root-owned 0755).
func writeLayer(w io.Writer, entries []entry, existing map[string]dirAttrs, dest string, destIsDir bool, uid, gid int, mode *int64, epoch time.Time) error {
	tw := tar.NewWriter(w)
	written := map[string]bool{}
	dirHeader := func(name string, m int64, u, g int) error {
		if written[name] {
			return nil
		}
		written[name] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: m, Uid: u, Gid: g, ModTime: epoch, Format: tar.FormatPAX})
	}
	parents := func(name string) error {
		dir := path.Dir(name)
		if dir == "." || dir == "/" {
			return nil
		}
		var chain []string
		for d := dir; d != "." && d != "/" && d != ""; d = path.Dir(d) {
			chain = append([]string{d}, chain...)
		}
		for _, d := range chain {
			a, ok := existing[d]
			if !ok {
				a = dirAttrs{mode: 0o755}
			}
			if err := dirHeader(d, a.mode, a.uid, a.gid); err != nil {
				return err
			}
		}
		return nil
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	if d := strings.Trim(path.Clean(dest), "/"); destIsDir && d != "" {
		if err := parents(d); err != nil {
			return err
		}
		a, ok := existing[d]
		if !ok {
			a = dirAttrs{mode: 0o755, uid: uid, gid: gid} // a new one is the copy's
		}
		if err := dirHeader(d, a.mode, a.uid, a.gid); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if err := parents(e.name); err != nil {
			return err
		}
		perm := int64(e.fi.Mode().Perm()) | int64(e.fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky)>>9)
		if mode != nil {
			perm = *mode
		}
		mtime := epoch
		if !e.mtime.IsZero() {
			mtime = e.mtime
		}
		h := &tar.Header{Name: e.name, Mode: perm, Uid: uid, Gid: gid, ModTime: mtime, Format: tar.FormatPAX}
		switch m := e.fi.Mode(); {
		case m.IsDir():
			if err := dirHeader(e.name, perm, uid, gid); err != nil {
				return err
			}
			continue
		case m&os.ModeSymlink != 0:
			target := e.fi.Name()
			if e.src != "" {
				t, err := os.Readlink(e.src)
				if err != nil {
					return err
				}
				target = t
			} else if th, ok := e.fi.Sys().(*tar.Header); ok {
				target = th.Linkname
			}
			h.Typeflag, h.Linkname = tar.TypeSymlink, target
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			continue
		case !m.IsRegular():
			continue // devices, sockets and fifos are not copied
		}
		h.Typeflag = tar.TypeReg
		if e.src == "" {
			h.Size = int64(len(e.data))
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if _, err := tw.Write(e.data); err != nil {
				return err
			}
			continue
		}
		f, err := os.Open(e.src)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		h.Size = st.Size()
		if err := tw.WriteHeader(h); err != nil {
			f.Close()
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

// resolveChown turns "user[:group]" into ids, names through the image's
// /etc/passwd and /etc/group (root "" allows numeric ids only).
func resolveChown(root, spec string) (int, int, error) {
	user, group, hasGroup := strings.Cut(spec, ":")
	lookup := func(file, name string) (int, int, bool) {
		if root == "" {
			return 0, 0, false
		}
		p, err := securejoin.Resolve(root, file)
		if err != nil {
			return 0, 0, false
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, 0, false
		}
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Split(l, ":")
			if len(f) >= 3 && f[0] == name {
				id, _ := strconv.Atoi(f[2])
				g := id
				if len(f) >= 4 {
					g, _ = strconv.Atoi(f[3])
				}
				return id, g, true
			}
		}
		return 0, 0, false
	}
	uid, err := strconv.Atoi(user)
	gid := uid
	if err != nil {
		var ok bool
		if uid, gid, ok = lookup("/etc/passwd", user); !ok {
			return 0, 0, failf("unable to convert uid/gid chown string to host mapping: can't find uid for user %s: no such user: %s", user, user)
		}
	}
	if hasGroup {
		g, err := strconv.Atoi(group)
		if err != nil {
			var ok bool
			if g, _, ok = lookup("/etc/group", group); !ok {
				return 0, 0, failf("unable to convert uid/gid chown string to host mapping: can't find gid for group %s: no such group: %s", group, group)
			}
		}
		gid = g
	}
	return uid, gid, nil
}

// fakeInfo describes generated content.
type fakeInfo struct {
	name string
	size int64
	mode os.FileMode
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() os.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

// dirLayer is a layer holding dir and its parents (WORKDIR).
func dirLayer(dir string, epoch time.Time) (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		p := ""
		var err error
		for _, part := range strings.Split(strings.Trim(path.Clean(dir), "/"), "/") {
			p = path.Join(p, part)
			if err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
				break
			}
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// normalized rewrites a layer tar with fixed times and no user or group
// names, so the same files give the same layer digest at any time.
func normalized(r io.Reader, epoch time.Time) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tr, tw := tar.NewReader(r), tar.NewWriter(pw)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				pw.CloseWithError(tw.Close())
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			h.ModTime, h.AccessTime, h.ChangeTime = epoch, time.Time{}, time.Time{}
			h.Uname, h.Gname = "", ""
			for k := range h.PAXRecords {
				if k == "atime" || k == "ctime" || k == "mtime" {
					delete(h.PAXRecords, k)
				}
			}
			h.Format = tar.FormatPAX
			if err := tw.WriteHeader(h); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(tw, tr); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

// withRootfs runs fn with the current image's filesystem mounted
// read-only-in-effect ("" for scratch).
func (r *run) withRootfs(st *stage, fn func(root string) error) error {
	if st.img == nil {
		return fn("")
	}
	root, release, err := r.b.images.MountRootfs(st.img)
	if err != nil {
		return err
	}
	defer release()
	return fn(root)
}

// pathIsDir reports whether the image has a directory at p.
func (r *run) pathIsDir(st *stage, p string) (bool, error) {
	var isDir bool
	err := r.withRootfs(st, func(root string) error {
		if root == "" {
			return nil
		}
		rp, err := securejoin.Resolve(root, p)
		if err != nil {
			return err
		}
		fi, err := os.Stat(rp)
		isDir = err == nil && fi.IsDir()
		return nil
	})
	return isDir, err
}

// volumePathFree fails if the image has something other than a directory
// at a VOLUME path.
func (r *run) volumePathFree(st *stage, p string) error {
	return r.withRootfs(st, func(root string) error {
		if root == "" {
			return nil
		}
		rp, err := securejoin.Resolve(root, p)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(rp); err == nil && !fi.IsDir() {
			return failf("failed to create the volume %s: mkdir %s: file exists", p, p)
		}
		return nil
	})
}

// removeIgnored deletes the .dockerignore file and the Dockerfile from the
// extracted context when .dockerignore excludes them, as dockerd does: a
// client applies the other patterns itself but must send these two (and
// API clients such as docker-py send the whole context), so only the
// daemon can keep them out of COPY . and out of the cache key.
func removeIgnored(dir, dockerfile string) error {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	excludes, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("read .dockerignore: %w", err)
	}
	for _, name := range []string{".dockerignore", dockerfile} {
		if rm, _ := patternmatcher.MatchesOrParentMatches(filepath.ToSlash(filepath.Clean(name)), excludes); rm {
			p, err := containedPath(dir, name)
			if err != nil {
				return err
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
