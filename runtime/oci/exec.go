package oci

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ExecConfig is what `exec` asks for on top of the container's process.
type ExecConfig struct {
	Cmd        []string
	Env        []string // added to (or replacing in) the container's env
	User       string   // "" keeps the container's user
	GroupAdd   []string // the container's HostConfig.GroupAdd, applied when User is set
	WorkingDir string   // "" keeps the container's
	Tty        bool
	Privileged bool
	// ConsoleSize is the initial [height, width] of the tty, if any.
	ConsoleSize *[2]uint
}

// ExecProcess builds the process for `exec` from the container's spec as
// Docker does: the container's process (user, capabilities, rlimits,
// no-new-privileges, env) with the exec's command, env, user, working
// directory and tty; --privileged gives all capabilities.
func ExecProcess(base *specs.Spec, rootfs string, cfg ExecConfig) (*specs.Process, error) {
	if base == nil || base.Process == nil {
		return nil, fmt.Errorf("exec: container spec has no process")
	}
	if len(cfg.Cmd) == 0 {
		return nil, invalidf("No exec command specified")
	}
	p, err := cloneProcess(base.Process)
	if err != nil {
		return nil, err
	}
	p.Args = slices.Clone(cfg.Cmd)
	p.Terminal = cfg.Tty
	p.ConsoleSize = nil
	if cfg.Tty && cfg.ConsoleSize != nil {
		p.ConsoleSize = &specs.Box{Height: cfg.ConsoleSize[0], Width: cfg.ConsoleSize[1]}
	}
	if cfg.WorkingDir != "" {
		p.Cwd = cfg.WorkingDir
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}

	env := p.Env
	if _, ok := lookupEnv(env, "TERM"); cfg.Tty && !ok {
		env = append(env, "TERM=xterm")
	}
	if cfg.User != "" {
		u, home, err := resolveUser(rootfs, cfg.User, cfg.GroupAdd)
		if err != nil {
			return nil, err
		}
		// HOME that Spec defaulted from the container user's passwd entry
		// follows the exec user; a HOME set by the image or the user stays.
		if cur, ok := lookupEnv(env, "HOME"); ok {
			_, baseHome, err := resolveUser(rootfs, strconv.FormatUint(uint64(p.User.UID), 10), nil)
			if err == nil && cur == baseHome {
				env = replaceOrAppendEnv(env, []string{"HOME=" + home})
			}
		}
		p.User = u
	}
	p.Env = replaceOrAppendEnv(env, cfg.Env)

	if cfg.Privileged {
		setCapabilities(p, slices.Clone(AllCapabilities()))
	}
	return p, nil
}

// cloneProcess deep-copies p so the exec cannot alter the container's spec.
func cloneProcess(p *specs.Process) (*specs.Process, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("exec: copy process: %w", err)
	}
	var out specs.Process
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("exec: copy process: %w", err)
	}
	return &out, nil
}
