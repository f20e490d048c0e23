package oci

import (
	"errors"
	"fmt"
	"github.com/berth-project/berth/internal/securejoin"

	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// resolveInRoot resolves path inside root as if root were "/".
var resolveInRoot = securejoin.Resolve

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

// CheckUser resolves a user spec ("name", "uid", "name:group", …) against
// the container filesystem at rootfs, with the errors a start would give
// ("unable to find user x: no matching entries in passwd file"): exec
// checks its user at create, as dockerd does.
func CheckUser(rootfs, userSpec string) error {
	_, _, err := resolveUser(rootfs, userSpec, nil)
	return err
}
