package archive

import (
	"runtime"

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
	switch a {
	case "x86_64", "x86-64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return a
}

func formatPlatform(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
