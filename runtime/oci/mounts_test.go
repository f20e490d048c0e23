package oci

import (
	"slices"
	"testing"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestMounts(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Options)
		check func(*testing.T, *specs.Spec)
	}{
		{"read-only rootfs", func(o *Options) {
			o.HostConfig.ReadonlyRootfs = true
			o.HostsPath = "/h/hosts"
		}, func(t *testing.T, s *specs.Spec) {
			if !s.Root.Readonly {
				t.Error("root not read-only")
			}
			if m := findMount(s, "/etc/hosts"); !slices.Equal(m.Options, []string{"rbind", "ro", "rprivate"}) {
				t.Errorf("/etc/hosts options %v", m.Options)
			}
			if m := findMount(s, "/dev/shm"); slices.Contains(m.Options, "ro") {
				t.Errorf("/dev/shm read-only: %v", m.Options)
			}
		}},
		{"shm size", func(o *Options) { o.HostConfig.ShmSize = 128 << 20 }, func(t *testing.T, s *specs.Spec) {
			if m := findMount(s, "/dev/shm"); !slices.Contains(m.Options, "size=134217728") {
				t.Errorf("/dev/shm options %v", m.Options)
			}
		}},
		{"ipc none drops shm", func(o *Options) { o.HostConfig.IpcMode = "none" }, func(t *testing.T, s *specs.Spec) {
			if findMount(s, "/dev/shm") != nil {
				t.Error("/dev/shm mounted with --ipc none")
			}
		}},
		{"extra mounts override and sort", func(o *Options) {
			o.ExtraMounts = []specs.Mount{
				{Destination: "/data/sub", Type: "bind", Source: "/b", Options: []string{"rbind"}},
				{Destination: "/data", Type: "bind", Source: "/a", Options: []string{"rbind"}},
				{Destination: "/dev/shm", Type: "bind", Source: "/s", Options: []string{"rbind"}},
			}
		}, func(t *testing.T, s *specs.Spec) {
			var dsts []string
			for _, m := range s.Mounts {
				dsts = append(dsts, m.Destination)
			}
			n := len(slices.DeleteFunc(slices.Clone(dsts), func(d string) bool { return d != "/dev/shm" }))
			if m := findMount(s, "/dev/shm"); m.Source != "/s" || n != 1 {
				t.Errorf("/dev/shm not overridden: %v", dsts)
			}
			if slices.Index(dsts, "/data") > slices.Index(dsts, "/data/sub") {
				t.Errorf("parent after child: %v", dsts)
			}
			if dsts[0] != "/proc" {
				t.Errorf("defaults not first: %v", dsts)
			}
		}},
		{"user /dev drops /dev defaults", func(o *Options) {
			o.ExtraMounts = []specs.Mount{{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind"}}}
		}, func(t *testing.T, s *specs.Spec) {
			if findMount(s, "/dev/pts") != nil || findMount(s, "/dev/mqueue") != nil || findMount(s, "/dev").Source != "/dev" {
				t.Errorf("mounts %+v", s.Mounts)
			}
		}},
		{"writable cgroups", func(o *Options) { o.HostConfig.SecurityOpt = []string{"writable-cgroups=true"} }, func(t *testing.T, s *specs.Spec) {
			if m := findMount(s, "/sys/fs/cgroup"); slices.Contains(m.Options, "ro") {
				t.Errorf("cgroup options %v", m.Options)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t)
			tc.edit(&o)
			tc.check(t, mustSpec(t, o))
		})
	}
}

func TestNamespaces(t *testing.T) {
	nsPath := func(s *specs.Spec, typ specs.LinuxNamespaceType) (string, bool) {
		for _, n := range s.Linux.Namespaces {
			if n.Type == typ {
				return n.Path, true
			}
		}
		return "", false
	}
	tests := []struct {
		name    string
		edit    func(*Options)
		typ     specs.LinuxNamespaceType
		present bool
		path    string
	}{
		{"join netns", func(o *Options) { o.NetNSPath = "/run/netns/x" }, specs.NetworkNamespace, true, "/run/netns/x"},
		{"host network", func(o *Options) { o.HostConfig.NetworkMode = "host" }, specs.NetworkNamespace, false, ""},
		{"host ipc", func(o *Options) { o.HostConfig.IpcMode = "host" }, specs.IPCNamespace, false, ""},
		{"host pid", func(o *Options) { o.HostConfig.PidMode = "host" }, specs.PIDNamespace, false, ""},
		{"host uts", func(o *Options) { o.HostConfig.UTSMode = "host" }, specs.UTSNamespace, false, ""},
		{"private cgroupns", func(o *Options) { o.HostConfig.CgroupnsMode = container.CgroupnsModePrivate }, specs.CgroupNamespace, hostSupportsCgroupns(), ""},
		{"host cgroupns", func(o *Options) { o.HostConfig.CgroupnsMode = container.CgroupnsModeHost }, specs.CgroupNamespace, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t)
			tc.edit(&o)
			s := mustSpec(t, o)
			p, ok := nsPath(s, tc.typ)
			if ok != tc.present || p != tc.path {
				t.Errorf("%s namespace present %v path %q; want %v %q", tc.typ, ok, p, tc.present, tc.path)
			}
			if tc.typ == specs.UTSNamespace && s.Hostname != "" {
				t.Errorf("hostname %q with host UTS", s.Hostname)
			}
		})
	}
}

func TestDevices(t *testing.T) {
	o := testOptions(t)
	o.HostConfig.Devices = []container.DeviceMapping{{PathOnHost: "/dev/null", PathInContainer: "/dev/mynull", CgroupPermissions: "rw"}}
	o.HostConfig.DeviceCgroupRules = []string{"c 42:* rmw"}
	s := mustSpec(t, o)
	if len(s.Linux.Devices) != 1 || s.Linux.Devices[0].Path != "/dev/mynull" || s.Linux.Devices[0].Major != 1 || s.Linux.Devices[0].Minor != 3 {
		t.Fatalf("devices = %+v", s.Linux.Devices)
	}
	rules := s.Linux.Resources.Devices
	n := len(rules)
	if n != 10 || rules[n-2].Access != "rw" || *rules[n-2].Major != 1 || *rules[n-1].Major != 42 || *rules[n-1].Minor != -1 {
		t.Errorf("rules = %+v", rules)
	}
	o.HostConfig.Devices = []container.DeviceMapping{{PathOnHost: "/nonexistent", PathInContainer: "/dev/x", CgroupPermissions: "rwm"}}
	if _, err := Spec(o); err == nil {
		t.Error("missing device accepted")
	}
}
