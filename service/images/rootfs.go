package images

import (
	"os"

	"github.com/berth-project/berth/store/snapshots/overlay"
)

// MountRootfs mounts img's filesystem (an overlay of its layers with a
// throwaway upper dir) for reading, as the builder does to look at paths
// and to COPY --from. release unmounts it and removes the scratch dirs.
func (s *Service) MountRootfs(img *Image) (root string, release func(), err error) {
	dir, err := os.MkdirTemp("", "berth-rootfs-")
	if err != nil {
		return "", nil, err
	}
	root = dir + "/rootfs"
	if err := s.snaps.Mount(img.ChainIDs(), dir, root); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return root, func() {
		_ = overlay.Unmount(root)
		_ = os.RemoveAll(dir)
	}, nil
}
