package native

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// seccompPolicy renders the spec's seccomp section in the text form
// berth-seccomp reads (see cmd/berth-seccomp/main.c).
func seccompPolicy(s *specs.LinuxSeccomp) (string, error) {
	if s.ListenerPath != "" {
		return "", errors.New("seccomp notify listeners are not supported by the native runtime")
	}
	errnoOf := func(p *uint) uint {
		if p == nil {
			return 1 // EPERM, as runc
		}
		return *p
	}
	var b strings.Builder
	fmt.Fprintf(&b, "default %s %d\n", s.DefaultAction, errnoOf(s.DefaultErrnoRet))
	for _, a := range s.Architectures {
		fmt.Fprintf(&b, "arch %s\n", a)
	}
	for _, sc := range s.Syscalls {
		var args strings.Builder
		for _, a := range sc.Args {
			fmt.Fprintf(&args, " %d %s %d %d", a.Index, a.Op, a.Value, a.ValueTwo)
		}
		for _, name := range sc.Names {
			if strings.ContainsAny(name, " \t\n") {
				return "", fmt.Errorf("bad syscall name %q", name)
			}
			fmt.Fprintf(&b, "syscall %s %s %d%s\n", name, sc.Action, errnoOf(sc.ErrnoRet), args.String())
		}
	}
	return b.String(), nil
}

// seccompFilter returns the compiled filter for s from the cache in dir,
// compiling it with berth-seccomp on a miss. The cache is keyed by the
// policy's hash and the compiler binary's size and time: each distinct
// profile+capabilities is compiled once by each build of the compiler.
func seccompFilter(dir, monitor string, s *specs.LinuxSeccomp) (string, error) {
	if s == nil {
		return "", nil
	}
	policy, err := seccompPolicy(s)
	if err != nil {
		return "", err
	}
	compiler := filepath.Join(filepath.Dir(monitor), "berth-seccomp") // beside the monitor (make build)
	fi, err := os.Stat(compiler)
	if err != nil {
		return "", fmt.Errorf("compile seccomp profile: %w", err)
	}
	// a new compiler (another libseccomp, other options) makes another filter
	sum := sha256.Sum256(fmt.Appendf([]byte(policy), "\x00%d %d", fi.Size(), fi.ModTime().UnixNano()))
	name := hex.EncodeToString(sum[:])
	out := filepath.Join(dir, name+".bpf")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	in := filepath.Join(dir, name+".policy")
	if err := os.WriteFile(in, []byte(policy), 0o600); err != nil {
		return "", err
	}
	if b, err := exec.Command(compiler, in, out).CombinedOutput(); err != nil {
		return "", fmt.Errorf("compile seccomp profile: %s: %w", strings.TrimSpace(string(b)), err)
	}
	return out, nil
}
