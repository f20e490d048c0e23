package native

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hierarchy is one mounted cgroup hierarchy.
type hierarchy struct {
	Mountpoint  string   // e.g. /sys/fs/cgroup/memory
	Controllers []string // e.g. ["memory"]; ["name=systemd"]; nil for cgroup2
}

// Name is the directory name the container sees under /sys/fs/cgroup.
func (h hierarchy) Name() string { return filepath.Base(h.Mountpoint) }

func (h hierarchy) has(ctrl string) bool {
	for _, c := range h.Controllers {
		if c == ctrl {
			return true
		}
	}
	return false
}

// Cgroups is the host's cgroup layout.
type Cgroups struct {
	V2          bool        // unified only (no v1 controllers mounted)
	Hierarchies []hierarchy // v1 hierarchies, or the one cgroup2 mount
}

// DetectCgroups reads the layout from /proc/self/mountinfo.
func DetectCgroups() (*Cgroups, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseCgroupMounts(f)
}

func parseCgroupMounts(r io.Reader) (*Cgroups, error) {
	var v1 []hierarchy
	var unified string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		f := strings.Fields(sc.Text())
		sep := -1
		for i, s := range f {
			if s == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(f)+1 || len(f) < sep+3 || f[3] != "/" {
			continue
		}
		fstype, mnt, super := f[sep+1], f[4], f[len(f)-1]
		switch fstype {
		case "cgroup2":
			if unified == "" {
				unified = mnt
			}
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(super, ",") {
				switch {
				case o == "rw" || o == "ro" || strings.HasPrefix(o, "release_agent") || o == "clone_children" || o == "noprefix" || o == "xattr":
				default:
					ctrls = append(ctrls, o)
				}
			}
			key := strings.Join(ctrls, ",")
			if len(ctrls) > 0 && !seen[key] {
				seen[key] = true
				v1 = append(v1, hierarchy{Mountpoint: mnt, Controllers: ctrls})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(v1) > 0 {
		return &Cgroups{Hierarchies: v1}, nil
	}
	if unified != "" {
		return &Cgroups{V2: true, Hierarchies: []hierarchy{{Mountpoint: unified}}}, nil
	}
	return nil, errors.New("no cgroup hierarchy is mounted")
}

// Dirs returns the container's directory in every hierarchy.
func (c *Cgroups) Dirs(path string) []string {
	out := make([]string, len(c.Hierarchies))
	for i, h := range c.Hierarchies {
		out[i] = filepath.Join(h.Mountpoint, path)
	}
	return out
}

func (c *Cgroups) dirFor(path, ctrl string) string {
	for _, h := range c.Hierarchies {
		if c.V2 || h.has(ctrl) {
			return filepath.Join(h.Mountpoint, path)
		}
	}
	return ""
}

// ensureParents creates the parents of path in every hierarchy: on v1 a
// new cpuset directory inherits its parent's cpus and mems (the kernel
// leaves them empty, and an empty cpuset takes no task); on v2 each level
// delegates the controllers to the next.
func (c *Cgroups) ensureParents(path string) error {
	parent := filepath.Dir(filepath.Clean("/" + path))
	parts := strings.Split(strings.Trim(parent, "/"), "/")
	if parent == "/" {
		parts = nil
	}
	for _, h := range c.Hierarchies {
		dir := h.Mountpoint
		for _, p := range parts {
			if c.V2 {
				enableControllers(dir)
			}
			next := filepath.Join(dir, p)
			if err := os.Mkdir(next, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("create cgroup %s: %w", next, err)
			}
			if !c.V2 && h.has("cpuset") {
				for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
					if err := inherit(dir, next, f); err != nil {
						return err
					}
				}
			}
			dir = next
		}
		if c.V2 {
			enableControllers(dir)
		}
	}
	return nil
}

func inherit(parent, child, file string) error {
	cur, err := os.ReadFile(filepath.Join(child, file))
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(cur)) != "" {
		return nil
	}
	v, err := os.ReadFile(filepath.Join(parent, file))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(child, file), v, 0o644)
}

// enableControllers delegates what dir has to its children (best effort: a
// controller the host reserves stays off, as with runc's systemd-less v2).
func enableControllers(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return
	}
	for _, ctrl := range strings.Fields(string(b)) {
		_ = os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+"+ctrl), 0o644)
	}
}

// cgWrite is one value written into a container's cgroup before it starts.
type cgWrite struct{ Dir, File, Value string }

// writes translates the spec's resources to cgroup files, as runc's fs
// (v1) and fs2 (v2) managers do for the settings Docker uses.
func (c *Cgroups) writes(path string, r *specs.LinuxResources) ([]cgWrite, error) {
	var out []cgWrite
	add := func(ctrl, file, value string) {
		if d := c.dirFor(path, ctrl); d != "" {
			out = append(out, cgWrite{d, file, value})
		}
	}
	if r == nil {
		r = &specs.LinuxResources{}
	}
	if c.V2 {
		return c.writesV2(path, r, add)
	}
	// cpuset first: a task cannot join an empty one
	cpus, mems := "", ""
	if r.CPU != nil {
		cpus, mems = r.CPU.Cpus, r.CPU.Mems
	}
	if d := c.dirFor(path, "cpuset"); d != "" {
		parent := filepath.Dir(d)
		if cpus == "" {
			cpus = readTrim(filepath.Join(parent, "cpuset.cpus"))
		}
		if mems == "" {
			mems = readTrim(filepath.Join(parent, "cpuset.mems"))
		}
		add("cpuset", "cpuset.cpus", cpus)
		add("cpuset", "cpuset.mems", mems)
	}
	if m := r.Memory; m != nil {
		if m.Limit != nil && *m.Limit != 0 {
			add("memory", "memory.limit_in_bytes", strconv.FormatInt(*m.Limit, 10))
		}
		if m.Swap != nil && *m.Swap != 0 {
			add("memory", "memory.memsw.limit_in_bytes", strconv.FormatInt(*m.Swap, 10))
		}
		if m.Reservation != nil && *m.Reservation != 0 {
			add("memory", "memory.soft_limit_in_bytes", strconv.FormatInt(*m.Reservation, 10))
		}
		if m.Swappiness != nil && *m.Swappiness <= 100 {
			add("memory", "memory.swappiness", strconv.FormatUint(*m.Swappiness, 10))
		}
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			add("memory", "memory.oom_control", "1")
		}
	}
	if cpu := r.CPU; cpu != nil {
		if cpu.Shares != nil && *cpu.Shares != 0 {
			add("cpu", "cpu.shares", strconv.FormatUint(*cpu.Shares, 10))
		}
		if cpu.Period != nil && *cpu.Period != 0 {
			add("cpu", "cpu.cfs_period_us", strconv.FormatUint(*cpu.Period, 10))
		}
		if cpu.Quota != nil && *cpu.Quota != 0 {
			add("cpu", "cpu.cfs_quota_us", strconv.FormatInt(*cpu.Quota, 10))
		}
		if cpu.RealtimePeriod != nil && *cpu.RealtimePeriod != 0 {
			add("cpu", "cpu.rt_period_us", strconv.FormatUint(*cpu.RealtimePeriod, 10))
		}
		if cpu.RealtimeRuntime != nil && *cpu.RealtimeRuntime != 0 {
			add("cpu", "cpu.rt_runtime_us", strconv.FormatInt(*cpu.RealtimeRuntime, 10))
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit != 0 {
		v := "max"
		if *r.Pids.Limit > 0 {
			v = strconv.FormatInt(*r.Pids.Limit, 10)
		}
		add("pids", "pids.max", v)
	}
	if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 {
		add("blkio", "blkio.weight", strconv.FormatUint(uint64(*b.Weight), 10))
	}
	// devices: the spec's rules, then the runtime's own, as runc appends them
	for _, d := range append(append([]specs.LinuxDeviceCgroup(nil), r.Devices...), runtimeDeviceRules()...) {
		file := "devices.deny"
		if d.Allow {
			file = "devices.allow"
		}
		add("devices", file, deviceRule(d))
	}
	return out, nil
}

func (c *Cgroups) writesV2(path string, r *specs.LinuxResources, add func(ctrl, file, value string)) ([]cgWrite, error) {
	var out []cgWrite
	add = func(_, file, value string) {
		out = append(out, cgWrite{filepath.Join(c.Hierarchies[0].Mountpoint, path), file, value})
	}
	if len(r.Devices) > 0 {
		// cgroup v2 controls devices with an eBPF program, which the
		// native runtime does not build yet: run such hosts with runc.
		restrictive := false
		for _, d := range r.Devices {
			if !d.Allow {
				restrictive = true
			}
		}
		if restrictive {
			return nil, errors.New("device rules on cgroup v2 need the runc runtime (--default-runtime runc)")
		}
	}
	if cpu := r.CPU; cpu != nil {
		if cpu.Cpus != "" {
			add("", "cpuset.cpus", cpu.Cpus)
		}
		if cpu.Mems != "" {
			add("", "cpuset.mems", cpu.Mems)
		}
		if cpu.Shares != nil && *cpu.Shares != 0 {
			add("", "cpu.weight", strconv.FormatUint(1+((*cpu.Shares-2)*9999)/262142, 10))
		}
		if cpu.Quota != nil && *cpu.Quota != 0 {
			period := uint64(100000)
			if cpu.Period != nil && *cpu.Period != 0 {
				period = *cpu.Period
			}
			q := "max"
			if *cpu.Quota > 0 {
				q = strconv.FormatInt(*cpu.Quota, 10)
			}
			add("", "cpu.max", q+" "+strconv.FormatUint(period, 10))
		}
	}
	if m := r.Memory; m != nil {
		if m.Limit != nil && *m.Limit != 0 {
			add("", "memory.max", limitV2(*m.Limit))
			if m.Swap != nil && *m.Swap != 0 {
				swap := "max"
				if *m.Swap > 0 {
					swap = strconv.FormatInt(*m.Swap-*m.Limit, 10)
				}
				add("", "memory.swap.max", swap)
			}
		}
		if m.Reservation != nil && *m.Reservation != 0 {
			add("", "memory.low", limitV2(*m.Reservation))
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit != 0 {
		add("", "pids.max", limitV2(*r.Pids.Limit))
	}
	if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 {
		add("", "io.weight", strconv.FormatUint(1+(uint64(*b.Weight)-10)*9999/990, 10))
	}
	return out, nil
}

// Update writes the limits set in r into path's cgroups (no device rules:
// those do not change after start). On v1, a memory limit above the
// current swap limit needs the swap limit raised first, as runc does.
func (c *Cgroups) Update(path string, r *specs.LinuxResources) error {
	res := *r
	res.Devices = nil
	ws, err := c.writes(path, &res)
	if err != nil {
		return err
	}
	var filtered []cgWrite
	for _, w := range ws {
		if strings.HasPrefix(w.File, "devices.") {
			continue
		}
		// writes() fills an unset cpuset from the parent's: keep the current one
		if w.File == "cpuset.cpus" && (res.CPU == nil || res.CPU.Cpus == "") ||
			w.File == "cpuset.mems" && (res.CPU == nil || res.CPU.Mems == "") {
			continue
		}
		filtered = append(filtered, w)
	}
	// v1 keeps memory ≤ memsw at every step: a raised swap limit goes
	// before the memory limit, a lowered one after it (writes() puts
	// memory first).
	for i := 1; i < len(filtered); i++ {
		if filtered[i].File == "memory.memsw.limit_in_bytes" && filtered[i-1].File == "memory.limit_in_bytes" && raising(filtered[i]) {
			filtered[i], filtered[i-1] = filtered[i-1], filtered[i]
		}
	}
	for _, w := range filtered {
		if err := os.WriteFile(filepath.Join(w.Dir, w.File), []byte(w.Value), 0o644); err != nil {
			return fmt.Errorf("update cgroup %s: %w", w.File, err)
		}
	}
	return nil
}

// raising reports whether w sets a limit above the current one.
func raising(w cgWrite) bool {
	cur, err := strconv.ParseInt(readTrim(filepath.Join(w.Dir, w.File)), 10, 64)
	v, err2 := strconv.ParseInt(w.Value, 10, 64)
	return err == nil && err2 == nil && v > cur
}

func limitV2(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// runtimeDeviceRules are the rules runc adds after the spec's (its
// AllowedDevices): mknod of anything, and the devices every container has.
func runtimeDeviceRules() []specs.LinuxDeviceCgroup {
	wild := int64(-1)
	rule := func(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		r := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: access}
		if major >= 0 {
			r.Major = &major
		}
		if minor >= 0 {
			r.Minor = &minor
		}
		return r
	}
	return []specs.LinuxDeviceCgroup{
		rule("c", wild, wild, "m"), rule("b", wild, wild, "m"),
		rule("c", 1, 3, "rwm"), rule("c", 1, 8, "rwm"), rule("c", 1, 7, "rwm"), rule("c", 5, 0, "rwm"),
		rule("c", 1, 5, "rwm"), rule("c", 1, 9, "rwm"), rule("c", 136, wild, "rwm"), rule("c", 5, 2, "rwm"),
	}
}

// deviceRule renders a rule as devices.allow/deny take it: "c 1:3 rwm", "a".
func deviceRule(d specs.LinuxDeviceCgroup) string {
	typ := d.Type
	if typ == "" {
		typ = "a"
	}
	if typ == "a" {
		return "a"
	}
	num := func(p *int64) string {
		if p == nil || *p < 0 {
			return "*"
		}
		return strconv.FormatInt(*p, 10)
	}
	access := d.Access
	if access == "" {
		access = "rwm"
	}
	return fmt.Sprintf("%s %s:%s %s", typ, num(d.Major), num(d.Minor), access)
}

func readTrim(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

// Remove deletes the container's cgroups, killing what is left in them.
func (c *Cgroups) Remove(path string) error {
	var errs []error
	for _, d := range c.Dirs(path) {
		errs = append(errs, removeTree(d, 0))
	}
	return errors.Join(errs...)
}

// removeTree removes a cgroup directory, the ones the container made below
// it first, killing what is left in them.
func removeTree(d string, depth int) error {
	var errs []error
	if ents, err := os.ReadDir(d); err == nil && depth < 32 {
		for _, e := range ents {
			if e.IsDir() {
				errs = append(errs, removeTree(filepath.Join(d, e.Name()), depth+1))
			}
		}
	}
	for i := 0; ; i++ {
		err := os.Remove(d)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			break
		}
		if i == 1000 {
			errs = append(errs, err)
			break
		}
		if b, rerr := os.ReadFile(filepath.Join(d, "cgroup.procs")); rerr == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, _ := strconv.Atoi(f); pid > 0 {
					_ = syscallKill(pid)
				}
			}
		}
		sleepBriefly()
	}
	return errors.Join(errs...)
}
