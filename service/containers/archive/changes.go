package archive

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/berth-project/berth/service/containers"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// Changes lists what the container changed in its filesystem, as `diff`:
// added, changed (a file, or a directory something changed in) and deleted.
func (s *Service) Changes(ref string) ([]container.FilesystemChange, error) {
	upper, image, err := s.containers.WritableLayer(ref)
	if err != nil {
		return nil, err
	}
	img, ok := s.images.Get(image)
	if !ok {
		return nil, fmt.Errorf("image %s: %w", image, errdefs.ErrNotFound)
	}
	lower, release, err := s.images.MountRootfs(img)
	if err != nil {
		return nil, err
	}
	defer release()
	skip := map[string]bool{}
	for _, p := range containers.RuntimeMountpoints {
		skip["/"+p] = true
	}
	var out []container.FilesystemChange
	err = filepath.Walk(upper, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == upper {
			return err
		}
		rel := "/" + strings.TrimPrefix(p, upper+"/")
		if skip[rel] {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode()&os.ModeCharDevice != 0 && st.Rdev == 0 {
			out = append(out, container.FilesystemChange{Path: rel, Kind: container.ChangeDelete})
			return nil
		}
		kind := container.ChangeAdd
		if _, err := os.Lstat(filepath.Join(lower, rel)); err == nil {
			kind = container.ChangeModify
		}
		out = append(out, container.FilesystemChange{Path: rel, Kind: kind})
		return nil
	})
	if os.IsNotExist(err) {
		err = nil
	}
	// directories that only hold runtime mount points are no change
	var kept []container.FilesystemChange
	for _, ch := range out {
		if ch.Kind == container.ChangeModify && isOnlyMountpointDir(upper, ch.Path, skip) {
			continue
		}
		kept = append(kept, ch)
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Path < kept[j].Path })
	return kept, err
}

func isOnlyMountpointDir(upper, dir string, skip map[string]bool) bool {
	ents, err := os.ReadDir(filepath.Join(upper, dir))
	if err != nil {
		return false
	}
	for _, e := range ents {
		if !skip[filepath.Join(dir, e.Name())] {
			return false
		}
	}
	return len(ents) > 0
}
