package native

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// record is a decoded plan record.
type record struct {
	tag    byte
	fields []string
}

func decode(t *testing.T, b []byte) []record {
	t.Helper()
	var out []record
	for len(b) > 0 {
		if len(b) < 5 {
			t.Fatalf("truncated header")
		}
		n := binary.LittleEndian.Uint32(b[1:5])
		if int(n) > len(b)-5 {
			t.Fatalf("truncated record")
		}
		out = append(out, record{b[0], strings.Split(string(b[5:5+n]), "\x00")})
		b = b[5+n:]
	}
	return out
}

func ofTag(rs []record, tag byte) [][]string {
	var out [][]string
	for _, r := range rs {
		if r.tag == tag {
			out = append(out, r.fields)
		}
	}
	return out
}

func TestParseMountOptions(t *testing.T) {
	for _, tc := range []struct {
		opts          []string
		flags, pflags uintptr
		data          string
	}{
		{[]string{"nosuid", "noexec", "nodev"}, unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, 0, ""},
		{[]string{"nosuid", "strictatime", "mode=755", "size=65536k"}, unix.MS_NOSUID | unix.MS_STRICTATIME, 0, "mode=755,size=65536k"},
		{[]string{"rbind", "ro", "rprivate"}, unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, unix.MS_PRIVATE | unix.MS_REC, ""},
		{[]string{"ro", "rw"}, 0, 0, ""},
		{[]string{"rbind", "ro", "rro", "rprivate"}, unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, unix.MS_PRIVATE | unix.MS_REC | pfRecursiveRO, ""},
		{[]string{"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}, 0, 0, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
	} {
		f, p, d := parseMountOptions(tc.opts)
		if f != tc.flags || p != tc.pflags || d != tc.data {
			t.Errorf("%v: got %#x %#x %q, want %#x %#x %q", tc.opts, f, p, d, tc.flags, tc.pflags, tc.data)
		}
	}
}

const hybridMountinfo = `25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
33 31 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
35 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
36 31 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
37 31 0:32 /sub /mnt/other rw - cgroup cgroup rw,pids
`

func TestParseCgroupMounts(t *testing.T) {
	cg, err := parseCgroupMounts(strings.NewReader(hybridMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	want := &Cgroups{Hierarchies: []hierarchy{
		{"/sys/fs/cgroup/systemd", []string{"name=systemd"}},
		{"/sys/fs/cgroup/cpu,cpuacct", []string{"cpu", "cpuacct"}},
		{"/sys/fs/cgroup/memory", []string{"memory"}},
	}}
	if !reflect.DeepEqual(cg, want) {
		t.Fatalf("got %+v, want %+v", cg, want)
	}
	v2, err := parseCgroupMounts(strings.NewReader("30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"))
	if err != nil || !v2.V2 || v2.Hierarchies[0].Mountpoint != "/sys/fs/cgroup" {
		t.Fatalf("v2: %+v %v", v2, err)
	}
	if _, err := parseCgroupMounts(strings.NewReader("")); err == nil {
		t.Fatal("no hierarchy: want an error")
	}
}

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func uintp(v uint) *uint   { return &v }

func TestCgroupWritesV1(t *testing.T) {
	cg := &Cgroups{Hierarchies: []hierarchy{
		{"/cg/cpu,cpuacct", []string{"cpu", "cpuacct"}}, {"/cg/memory", []string{"memory"}},
		{"/cg/pids", []string{"pids"}}, {"/cg/devices", []string{"devices"}},
	}}
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(128 << 20)},
		CPU:     &specs.LinuxCPU{Shares: u64(512), Quota: i64(50000), Period: u64(100000)},
		Pids:    &specs.LinuxPids{Limit: i64(10)},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}},
	}
	ws, err := cg.writes("/berth/x", r)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, w := range ws {
		got[w.Dir+"/"+w.File] = append(got[w.Dir+"/"+w.File], w.Value)
	}
	for file, want := range map[string][]string{
		"/cg/memory/berth/x/memory.limit_in_bytes":       {"67108864"},
		"/cg/memory/berth/x/memory.memsw.limit_in_bytes": {"134217728"},
		"/cg/cpu,cpuacct/berth/x/cpu.shares":             {"512"},
		"/cg/cpu,cpuacct/berth/x/cpu.cfs_period_us":      {"100000"},
		"/cg/cpu,cpuacct/berth/x/cpu.cfs_quota_us":       {"50000"},
		"/cg/pids/berth/x/pids.max":                      {"10"},
		"/cg/devices/berth/x/devices.deny":               {"a"},
	} {
		if !reflect.DeepEqual(got[file], want) {
			t.Errorf("%s: got %v, want %v", file, got[file], want)
		}
	}
	allow := got["/cg/devices/berth/x/devices.allow"]
	if len(allow) < 3 || allow[0] != "c 1:3 rwm" || allow[1] != "c *:* m" || allow[len(allow)-1] != "c 5:2 rwm" {
		t.Errorf("devices.allow: %v", allow)
	}
	// the period goes in before the quota (the kernel checks quota against it)
	var order []string
	for _, w := range ws {
		order = append(order, w.File)
	}
	if strings.Index(strings.Join(order, " "), "cfs_period") > strings.Index(strings.Join(order, " "), "cfs_quota") {
		t.Errorf("quota before period: %v", order)
	}
}

func TestCgroupWritesV2(t *testing.T) {
	cg := &Cgroups{V2: true, Hierarchies: []hierarchy{{Mountpoint: "/cg"}}}
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(128 << 20)},
		CPU:    &specs.LinuxCPU{Shares: u64(1024), Quota: i64(50000), Period: u64(100000), Cpus: "0"},
		Pids:   &specs.LinuxPids{Limit: i64(-1)},
	}
	ws, err := cg.writes("/b/x", r)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, w := range ws {
		if w.Dir != "/cg/b/x" {
			t.Errorf("write outside the container's cgroup: %+v", w)
		}
		got[w.File] = w.Value
	}
	want := map[string]string{"memory.max": "67108864", "memory.swap.max": "67108864", "cpu.weight": "39",
		"cpu.max": "50000 100000", "cpuset.cpus": "0", "pids.max": "max"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// Docker's deny-all device rule needs an eBPF program on v2.
	_, err = cg.writes("/b/x", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}})
	if err == nil {
		t.Error("device rules on v2: want an error pointing at runc")
	}
}

func TestCapMask(t *testing.T) {
	m, err := capMask([]string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"})
	if err != nil || m != 0xa80425fb {
		t.Fatalf("Docker's default set: %#x %v, want 0xa80425fb", m, err)
	}
	if _, err := capMask([]string{"CAP_NOPE"}); err == nil {
		t.Fatal("unknown capability accepted")
	}
}

func TestSeccompPolicy(t *testing.T) {
	p, err := seccompPolicy(&specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write"}, Action: specs.ActAllow},
			{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: uintp(38)},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `default SCMP_ACT_ERRNO 1
arch SCMP_ARCH_X86_64
arch SCMP_ARCH_X86
syscall read SCMP_ACT_ALLOW 1
syscall write SCMP_ACT_ALLOW 1
syscall clone3 SCMP_ACT_ERRNO 38
syscall personality SCMP_ACT_ALLOW 1 0 SCMP_CMP_EQ 8 0
`
	if p != want {
		t.Fatalf("got\n%s\nwant\n%s", p, want)
	}
	if _, err := seccompPolicy(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x"}); err == nil {
		t.Fatal("listener accepted")
	}
}

func testSpec() *specs.Spec {
	return &specs.Spec{
		Process: &specs.Process{Args: []string{"sh", "-c", "echo hi"}, Env: []string{"PATH=/bin"}, Cwd: "/",
			User:         specs.User{UID: 65534, GID: 65534, AdditionalGids: []uint32{1, 2}},
			Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"}},
			Rlimits:      []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}}, NoNewPrivileges: true},
		Root:     &specs.Root{Path: "/rootfs", Readonly: true},
		Hostname: "box",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
			{Destination: "/etc/hosts", Type: "bind", Source: "/data/hosts", Options: []string{"rbind", "rprivate"}},
		},
		Linux: &specs.Linux{
			Namespaces:    []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.UTSNamespace}, {Type: specs.NetworkNamespace, Path: "/proc/7/ns/net"}},
			MaskedPaths:   []string{"/proc/kcore"},
			ReadonlyPaths: []string{"/proc/sys"},
			Sysctl:        map[string]string{"net.ipv4.ip_forward": "1"},
		},
	}
}

func TestContainerPlan(t *testing.T) {
	cg := &Cgroups{Hierarchies: []hierarchy{{"/cg/memory", []string{"memory"}}, {"/cg/cpu,cpuacct", []string{"cpu", "cpuacct"}}}}
	b, err := containerPlan(testSpec(), cg, "/cache/x.bpf")
	if err != nil {
		t.Fatal(err)
	}
	rs := decode(t, b)
	check := func(tag byte, want ...[]string) {
		t.Helper()
		if got := ofTag(rs, tag); !reflect.DeepEqual(got, want) {
			t.Errorf("tag %d: got %q, want %q", tag, got, want)
		}
	}
	check(tArg, []string{"sh"}, []string{"-c"}, []string{"echo hi"})
	check(tUser, []string{"65534", "65534", "1", "2"})
	check(tNS, []string{"pid", ""}, []string{"uts", ""}, []string{"net", "/proc/7/ns/net"})
	check(tHostname, []string{"box"})
	check(tRootRO, []string{""})
	check(tNNP, []string{""})
	check(tSeccomp, []string{"/cache/x.bpf"})
	check(tRlimit, []string{"7", "1024", "2048"})
	check(tCaps, []string{"32", "32", "32", "0", "0"})
	check(tSysctl, []string{"net.ipv4.ip_forward", "1"})
	mounts := ofTag(rs, tMount)
	var dsts []string
	for _, m := range mounts {
		dsts = append(dsts, m[1]+":"+m[6])
	}
	// host cgroup namespace on v1: a tmpfs, the container's own cgroup of each
	// hierarchy bound in, then the tmpfs made read-only
	want := []string{"/proc:0", "/sys/fs/cgroup:0", "/sys/fs/cgroup/memory:1", "/sys/fs/cgroup/cpu,cpuacct:1", "/sys/fs/cgroup:2", "/etc/hosts:1"}
	if !reflect.DeepEqual(dsts, want) {
		t.Errorf("mounts: got %v, want %v", dsts, want)
	}
	if mounts[2][0] != "/cg/memory" {
		t.Errorf("cgroup bind source %q (no cgroups path in the spec)", mounts[2][0])
	}
	if len(ofTag(rs, tDevice)) < 6 || len(ofTag(rs, tSymlink)) < 5 {
		t.Errorf("default devices and /dev links missing")
	}
	// a user's /dev bind replaces the device set-up, as in runc
	s := testSpec()
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind"}})
	b, err = containerPlan(s, cg, "")
	if err != nil {
		t.Fatal(err)
	}
	if rs := decode(t, b); len(ofTag(rs, tDevice)) != 0 || len(ofTag(rs, tSymlink)) != 0 {
		t.Errorf("devices made over a bound /dev")
	}
	// user namespaces are not supported
	s = testSpec()
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	if _, err := containerPlan(s, cg, ""); err == nil {
		t.Error("user namespace accepted")
	}
	// NUL bytes cannot be encoded
	s = testSpec()
	s.Process.Env = append(s.Process.Env, "A=b\x00c")
	if _, err := containerPlan(s, cg, ""); err == nil {
		t.Error("NUL byte accepted")
	}
}

func TestExecPlan(t *testing.T) {
	cg := &Cgroups{Hierarchies: []hierarchy{{"/cg/memory", []string{"memory"}}}}
	s := testSpec()
	s.Linux.CgroupsPath = "/berth/abc"
	p := &specs.Process{Args: []string{"true"}, Cwd: "/tmp", Terminal: true}
	b, err := execPlan(s, p, cg, "")
	if err != nil {
		t.Fatal(err)
	}
	rs := decode(t, b)
	if got := ofTag(rs, tCgroup); !reflect.DeepEqual(got, [][]string{{"/cg/memory/berth/abc"}}) {
		t.Errorf("cgroups: %q", got)
	}
	if len(ofTag(rs, tTerminal)) != 1 || len(ofTag(rs, tMount)) != 0 || ofTag(rs, tCwd)[0][0] != "/tmp" {
		t.Errorf("exec plan: %q", rs)
	}
	if _, err := execPlan(s, &specs.Process{}, cg, ""); err == nil {
		t.Error("empty args accepted")
	}
}

func TestDeviceRule(t *testing.T) {
	for _, tc := range []struct {
		r    specs.LinuxDeviceCgroup
		want string
	}{
		{specs.LinuxDeviceCgroup{Access: "rwm"}, "a"},
		{specs.LinuxDeviceCgroup{Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}, "c 1:3 rwm"},
		{specs.LinuxDeviceCgroup{Type: "c", Major: i64(136), Access: "rw"}, "c 136:* rw"},
		{specs.LinuxDeviceCgroup{Type: "b", Access: ""}, "b *:* rwm"},
	} {
		if got := deviceRule(tc.r); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.r, got, tc.want)
		}
	}
}
