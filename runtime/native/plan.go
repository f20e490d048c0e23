package native

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Record tags of the plan format; cmd/berth-monitor/plan.h has the same.
const (
	tArg      = 1
	tEnv      = 2
	tCwd      = 3
	tUser     = 4
	tHostname = 5
	tRootfs   = 6
	tRootRO   = 7
	tNS       = 8
	tMount    = 9
	tDevice   = 10
	tSymlink  = 11
	tMask     = 12
	tROPath   = 13
	tSysctl   = 14
	tRlimit   = 15
	tCaps     = 16
	tNNP      = 17
	tOOM      = 18
	tSeccomp  = 19
	tCgroup   = 20
	tCgWrite  = 21
	tTerminal = 22
	tRootProp = 23
)

// Mount kinds.
const (
	mkNormal  = 0
	mkBind    = 1
	mkRemount = 2
)

// encoder writes plan records: tag, 4-byte little-endian length, fields
// separated by NUL.
type encoder struct {
	buf bytes.Buffer
	err error
}

func (e *encoder) rec(tag byte, fields ...string) {
	for _, f := range fields {
		if strings.IndexByte(f, 0) >= 0 && e.err == nil {
			e.err = fmt.Errorf("NUL byte in %q", f)
		}
	}
	payload := strings.Join(fields, "\x00")
	var hdr [5]byte
	hdr[0] = tag
	binary.LittleEndian.PutUint32(hdr[1:], uint32(len(payload)))
	e.buf.Write(hdr[:])
	e.buf.WriteString(payload)
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// process writes what both a container's init and an exec need.
func (e *encoder) process(p *specs.Process, seccompFile string) error {
	if p == nil || len(p.Args) == 0 {
		return fmt.Errorf("the process has no args")
	}
	for _, a := range p.Args {
		e.rec(tArg, a)
	}
	for _, v := range p.Env {
		e.rec(tEnv, v)
	}
	e.rec(tCwd, p.Cwd)
	user := []string{u(uint64(p.User.UID)), u(uint64(p.User.GID))}
	for _, g := range p.User.AdditionalGids {
		user = append(user, u(uint64(g)))
	}
	e.rec(tUser, user...)
	if p.Terminal {
		if b := p.ConsoleSize; b != nil {
			e.rec(tTerminal, u(uint64(b.Height)), u(uint64(b.Width))) // the terminal's first size
		} else {
			e.rec(tTerminal)
		}
	}
	if p.NoNewPrivileges {
		e.rec(tNNP)
	}
	for _, r := range p.Rlimits {
		res, ok := rlimits[r.Type]
		if !ok {
			return fmt.Errorf("unknown rlimit %q", r.Type)
		}
		e.rec(tRlimit, strconv.Itoa(res), u(r.Soft), u(r.Hard))
	}
	if c := p.Capabilities; c != nil {
		sets := make([]string, 5)
		for i, names := range [][]string{c.Bounding, c.Effective, c.Permitted, c.Inheritable, c.Ambient} {
			m, err := capMask(names)
			if err != nil {
				return err
			}
			sets[i] = u(m)
		}
		e.rec(tCaps, sets...)
	}
	if seccompFile != "" {
		e.rec(tSeccomp, seccompFile)
	}
	return nil
}

var nsNames = map[specs.LinuxNamespaceType]string{
	specs.MountNamespace: "mnt", specs.PIDNamespace: "pid", specs.NetworkNamespace: "net",
	specs.UTSNamespace: "uts", specs.IPCNamespace: "ipc", specs.CgroupNamespace: "cgroup",
}

// containerPlan lowers spec to the records the monitor executes.
func containerPlan(spec *specs.Spec, cg *Cgroups, seccompFile string) ([]byte, error) {
	if spec.Linux == nil || spec.Root == nil || spec.Process == nil {
		return nil, fmt.Errorf("spec without linux, root or process")
	}
	var e encoder
	if err := e.process(spec.Process, seccompFile); err != nil {
		return nil, err
	}
	if spec.Process.OOMScoreAdj != nil {
		e.rec(tOOM, strconv.Itoa(*spec.Process.OOMScoreAdj))
	}
	e.rec(tRootfs, spec.Root.Path)
	if spec.Root.Readonly {
		e.rec(tRootRO)
	}
	newUTS, cgroupnsPrivate := false, false
	for _, ns := range spec.Linux.Namespaces {
		name, ok := nsNames[ns.Type]
		if !ok {
			return nil, fmt.Errorf("%s namespaces are not supported by the native runtime", ns.Type)
		}
		e.rec(tNS, name, ns.Path)
		if ns.Type == specs.UTSNamespace && ns.Path == "" {
			newUTS = true
		}
		if ns.Type == specs.CgroupNamespace && ns.Path == "" {
			cgroupnsPrivate = true
		}
	}
	if spec.Hostname != "" && newUTS {
		e.rec(tHostname, spec.Hostname)
	}
	if p := spec.Linux.RootfsPropagation; p != "" {
		f, ok := propagation[p]
		if !ok {
			return nil, fmt.Errorf("unknown rootfs propagation %q", p)
		}
		e.rec(tRootProp, u(uint64(f)))
	}

	devBind := false
	for _, m := range spec.Mounts {
		if m.Destination == "/dev" && isBind(m) {
			devBind = true
		}
		if m.Type == "cgroup" {
			for _, cm := range cgroupMounts(m, cg, spec.Linux.CgroupsPath, cgroupnsPrivate) {
				e.mount(cm)
			}
			continue
		}
		e.mount(m)
	}
	if !devBind {
		for _, d := range devices(spec.Linux.Devices) {
			mode := uint64(0o666)
			if d.FileMode != nil {
				mode = uint64(*d.FileMode)
			}
			var uid, gid uint64
			if d.UID != nil {
				uid = uint64(*d.UID)
			}
			if d.GID != nil {
				gid = uint64(*d.GID)
			}
			e.rec(tDevice, d.Path, d.Type, u(uint64(d.Major)), u(uint64(d.Minor)), u(mode), u(uid), u(gid))
		}
		for _, l := range devLinks() {
			e.rec(tSymlink, l[0], l[1])
		}
	}
	for _, p := range spec.Linux.MaskedPaths {
		e.rec(tMask, p)
	}
	for _, p := range spec.Linux.ReadonlyPaths {
		e.rec(tROPath, p)
	}
	keys := make([]string, 0, len(spec.Linux.Sysctl))
	for k := range spec.Linux.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.rec(tSysctl, k, spec.Linux.Sysctl[k])
	}
	if spec.Linux.CgroupsPath != "" {
		if err := cg.ensureParents(spec.Linux.CgroupsPath); err != nil {
			return nil, err
		}
		for _, d := range cg.Dirs(spec.Linux.CgroupsPath) {
			e.rec(tCgroup, d)
		}
		ws, err := cg.writes(spec.Linux.CgroupsPath, spec.Linux.Resources)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			e.rec(tCgWrite, w.Dir, w.File, w.Value)
		}
	}
	return e.buf.Bytes(), e.err
}

// execPlan describes one exec: the process, and the cgroups to join.
func execPlan(spec *specs.Spec, p *specs.Process, cg *Cgroups, seccompFile string) ([]byte, error) {
	var e encoder
	if err := e.process(p, seccompFile); err != nil {
		return nil, err
	}
	if spec.Linux != nil && spec.Linux.CgroupsPath != "" {
		for _, d := range cg.Dirs(spec.Linux.CgroupsPath) {
			e.rec(tCgroup, d)
		}
	}
	return e.buf.Bytes(), e.err
}

func isBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

func (e *encoder) mount(m specs.Mount) {
	flags, pflags, data := parseMountOptions(m.Options)
	kind := mkNormal
	switch {
	case flags&unix.MS_REMOUNT != 0:
		kind = mkRemount
		flags &^= unix.MS_REMOUNT
	case isBind(m):
		kind = mkBind
		flags |= unix.MS_BIND
	}
	e.rec(tMount, m.Source, m.Destination, m.Type, u(uint64(flags)), u(uint64(pflags)), data, strconv.Itoa(kind))
}

// cgroupMounts expands Docker's one "cgroup" mount the way runc does: on
// v1 a tmpfs with one directory per hierarchy (the container's own cgroup
// bound there, or, in a private cgroup namespace, the hierarchy mounted
// afresh), made read-only at the end; on v2 the unified hierarchy.
func cgroupMounts(m specs.Mount, cg *Cgroups, path string, private bool) []specs.Mount {
	ro := false
	var rest []string
	for _, o := range m.Options {
		if o == "ro" {
			ro = true
			continue
		}
		if o != "rw" {
			rest = append(rest, o)
		}
	}
	withRO := func(opts []string) []string {
		if ro {
			return append([]string{"ro"}, opts...)
		}
		return opts
	}
	if cg.V2 {
		if private {
			return []specs.Mount{{Destination: m.Destination, Type: "cgroup2", Source: "cgroup", Options: withRO(rest)}}
		}
		return []specs.Mount{{Destination: m.Destination, Type: "bind", Source: filepath.Join(cg.Hierarchies[0].Mountpoint, path), Options: withRO(append([]string{"rbind"}, rest...))}}
	}
	out := []specs.Mount{{Destination: m.Destination, Type: "tmpfs", Source: "tmpfs", Options: append(append([]string(nil), rest...), "mode=755")}}
	for _, h := range cg.Hierarchies {
		dst := filepath.Join(m.Destination, h.Name())
		if private {
			out = append(out, specs.Mount{Destination: dst, Type: "cgroup", Source: "cgroup", Options: withRO(append(append([]string(nil), rest...), strings.Join(h.Controllers, ",")))})
		} else {
			out = append(out, specs.Mount{Destination: dst, Type: "bind", Source: filepath.Join(h.Mountpoint, path), Options: withRO(append([]string{"rbind"}, rest...))})
		}
	}
	if ro {
		out = append(out, specs.Mount{Destination: m.Destination, Type: "tmpfs", Source: "tmpfs", Options: append([]string{"remount", "ro"}, rest...)})
	}
	return out
}

var mountFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"acl": {false, unix.MS_POSIXACL}, "async": {true, unix.MS_SYNCHRONOUS}, "atime": {true, unix.MS_NOATIME},
	"bind": {false, unix.MS_BIND}, "defaults": {false, 0}, "dev": {true, unix.MS_NODEV},
	"diratime": {true, unix.MS_NODIRATIME}, "dirsync": {false, unix.MS_DIRSYNC}, "exec": {true, unix.MS_NOEXEC},
	"iversion": {false, unix.MS_I_VERSION}, "lazytime": {false, unix.MS_LAZYTIME}, "loud": {true, unix.MS_SILENT},
	"mand": {false, unix.MS_MANDLOCK}, "noacl": {true, unix.MS_POSIXACL}, "noatime": {false, unix.MS_NOATIME},
	"nodev": {false, unix.MS_NODEV}, "nodiratime": {false, unix.MS_NODIRATIME}, "noexec": {false, unix.MS_NOEXEC},
	"noiversion": {true, unix.MS_I_VERSION}, "nolazytime": {true, unix.MS_LAZYTIME}, "nomand": {true, unix.MS_MANDLOCK},
	"norelatime": {true, unix.MS_RELATIME}, "nostrictatime": {true, unix.MS_STRICTATIME}, "nosuid": {false, unix.MS_NOSUID},
	"rbind": {false, unix.MS_BIND | unix.MS_REC}, "relatime": {false, unix.MS_RELATIME}, "remount": {false, unix.MS_REMOUNT},
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY}, "silent": {false, unix.MS_SILENT},
	"strictatime": {false, unix.MS_STRICTATIME}, "suid": {true, unix.MS_NOSUID}, "sync": {false, unix.MS_SYNCHRONOUS},
}

// pfRecursiveRO asks the monitor to make a mount and every mount below it
// read-only (mount_setattr with AT_RECURSIVE); it travels with the
// propagation flags, above the bits they use (native.c's PF_RRO).
const pfRecursiveRO = 1 << 40

var propagation = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// parseMountOptions splits OCI mount options into mount flags, propagation
// flags and the filesystem's data string, as runc does.
func parseMountOptions(opts []string) (flags, pflags uintptr, data string) {
	var d []string
	for _, o := range opts {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		if p, ok := propagation[o]; ok {
			pflags |= p
			continue
		}
		if o == "rro" { // runc's recursive read-only: every mount below too
			flags |= unix.MS_RDONLY
			pflags |= pfRecursiveRO
			continue
		}
		d = append(d, o)
	}
	return flags, pflags, strings.Join(d, ",")
}

// devices returns the spec's devices plus the ones runc gives every
// container (null, zero, full, random, urandom, tty), the spec's winning.
func devices(spec []specs.LinuxDevice) []specs.LinuxDevice {
	mode := os.FileMode(0o666)
	zero := uint32(0)
	def := func(path string, major, minor int64) specs.LinuxDevice {
		return specs.LinuxDevice{Path: path, Type: "c", Major: major, Minor: minor, FileMode: &mode, UID: &zero, GID: &zero}
	}
	out := append([]specs.LinuxDevice(nil), spec...)
	have := map[string]bool{}
	for _, d := range spec {
		have[d.Path] = true
	}
	for _, d := range []specs.LinuxDevice{def("/dev/null", 1, 3), def("/dev/zero", 1, 5), def("/dev/full", 1, 7),
		def("/dev/random", 1, 8), def("/dev/urandom", 1, 9), def("/dev/tty", 5, 0)} {
		if !have[d.Path] {
			out = append(out, d)
		}
	}
	return out
}

// devLinks are the /dev symlinks runc makes.
func devLinks() [][2]string {
	links := [][2]string{
		{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"},
		{"/proc/self/fd/2", "/dev/stderr"}, {"pts/ptmx", "/dev/ptmx"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "/dev/core"})
	}
	return links
}

var rlimits = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}
