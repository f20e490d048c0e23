package oci

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// knownCaps lists the Linux capabilities by number (as containerd's cap.Known).
var knownCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

const allCapabilities = "ALL"

// AllCapabilities returns the capabilities available in this environment: the
// known ones present in this process's bounding set, as Docker's privileged
// containers get. If the bounding set cannot be read, all known ones.
var AllCapabilities = sync.OnceValue(func() []string {
	bnd, err := boundingSet()
	if err != nil {
		return slices.Clone(knownCaps)
	}
	var out []string
	for i, c := range knownCaps {
		if bnd&(1<<uint(i)) != 0 {
			out = append(out, c)
		}
	}
	return out
})

func boundingSet() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapBnd:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, os.ErrNotExist
}

// normalizeCaps upper-cases caps and adds the CAP_ prefix, keeping "ALL";
// unknown or unavailable capabilities are errors with Docker's wording.
func normalizeCaps(caps []string) ([]string, error) {
	avail := AllCapabilities()
	var out []string
	for _, c := range caps {
		c = strings.ToUpper(c)
		if c == allCapabilities {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !slices.Contains(knownCaps, c) {
			return nil, invalidf("unknown capability: %q", c)
		}
		if !slices.Contains(avail, c) {
			return nil, invalidf("capability not supported by your kernel or not available in the current environment: %q", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// TweakCapabilities applies --cap-add/--cap-drop to basics as Docker does;
// privileged containers get every available capability.
func TweakCapabilities(basics, adds, drops []string, privileged bool) ([]string, error) {
	switch {
	case privileged:
		return slices.Clone(AllCapabilities()), nil
	case len(adds) == 0 && len(drops) == 0:
		return slices.Clone(basics), nil
	}
	capDrop, err := normalizeCaps(drops)
	if err != nil {
		return nil, err
	}
	capAdd, err := normalizeCaps(adds)
	if err != nil {
		return nil, err
	}
	var caps []string
	switch {
	case slices.Contains(capAdd, allCapabilities):
		for _, c := range AllCapabilities() {
			if !slices.Contains(capDrop, c) {
				caps = append(caps, c)
			}
		}
	case slices.Contains(capDrop, allCapabilities):
		caps = capAdd
	default:
		for _, c := range basics {
			if !slices.Contains(capDrop, c) {
				caps = append(caps, c)
			}
		}
		for _, c := range capAdd {
			if !slices.Contains(caps, c) {
				caps = append(caps, c)
			}
		}
	}
	return caps, nil
}
