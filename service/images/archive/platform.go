package archive

import (
	"runtime"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func hostPlatform() ocispec.Platform {
	return ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

// platformMatches reports whether an image's os/arch/variant is the
// wanted platform; empty fields of want match anything.
func platformMatches(want ocispec.Platform, os, arch, variant string) bool {
	if os == "" {
		os = "linux"
	}
	switch {
	case want.OS != "" && want.OS != os:
		return false
	case want.Architecture != "" && normArch(want.Architecture) != normArch(arch):
		return false
	case want.Variant != "" && variant != "" && want.Variant != variant:
		return false
	}
	return true
}

func normArch(a string) string {
	return platforms.Normalize(ocispec.Platform{OS: "linux", Architecture: a}).Architecture
}
