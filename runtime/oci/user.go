package oci

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// resolveInRoot resolves path inside root as if root were "/", following
// symlinks without ever leaving root (like securejoin.SecureJoin).
func resolveInRoot(root, path string) (string, error) {
	const maxLinks = 255
	var resolved string // always "" or "/..." relative to root
	rest := filepath.Clean("/" + path)
	links := 0
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(strings.TrimPrefix(rest, "/"), "/")
		if rest != "" {
			rest = "/" + rest
		}
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir("/" + resolved)
			if resolved == "/" {
				resolved = ""
			}
			continue
		}
		next := resolved + "/" + part
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			// Missing components are fine: the caller gets a path to open.
			resolved = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("resolve %s in %s: too many symlinks", path, root)
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", fmt.Errorf("resolve %s in %s: %w", path, root, err)
		}
		if filepath.IsAbs(target) {
			resolved = ""
		}
		rest = "/" + target + rest
	}
	return filepath.Join(root, resolved), nil
}

// userFiles returns the host paths of the container's /etc/passwd and /etc/group.
func userFiles(rootfs string) (passwd, group string, err error) {
	if passwd, err = resolveInRoot(rootfs, "/etc/passwd"); err != nil {
		return "", "", err
	}
	if group, err = resolveInRoot(rootfs, "/etc/group"); err != nil {
		return "", "", err
	}
	return passwd, group, nil
}

// resolveUser turns Docker's `-u name|uid[:group|gid]` plus --group-add into
// the spec user, reading the rootfs's passwd and group files as Docker does.
// It also returns the user's home directory (for HOME).
func resolveUser(rootfs, userSpec string, groupAdd []string) (specs.User, string, error) {
	var u specs.User
	passwd, group, err := userFiles(rootfs)
	if err != nil {
		return u, "", err
	}
	defaults := &user.ExecUser{Home: "/"}
	eu, err := user.GetExecUserPath(userSpec, defaults, passwd, group)
	if err != nil {
		return u, "", userError(err)
	}
	u.UID = uint32(eu.Uid)
	u.GID = uint32(eu.Gid)
	u.AdditionalGids = []uint32{u.GID}
	var add []int
	if len(groupAdd) > 0 {
		if add, err = user.GetAdditionalGroupsPath(groupAdd, group); err != nil {
			return u, "", userError(err)
		}
	}
	for _, g := range append(eu.Sgids, add...) {
		u.AdditionalGids = append(u.AdditionalGids, uint32(g))
	}
	return u, eu.Home, nil
}

// userError classes lookup failures (unknown names, bad ranges) as invalid
// arguments and keeps anything else (I/O errors) as is.
func userError(err error) error {
	if errors.Is(err, user.ErrNoPasswdEntries) || errors.Is(err, user.ErrNoGroupEntries) ||
		errors.Is(err, user.ErrRange) {
		return invalid(err)
	}
	return fmt.Errorf("resolve user: %w", err)
}
