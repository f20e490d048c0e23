package system

import (
	"github.com/moby/moby/api/types/registry"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"
	"golang.org/x/sys/unix"
)

// Counts is what /info reports about containers and images.
type Counts struct {
	Containers, Running, Paused, Stopped, Images int
}

// Backend is what the system handlers need.
type Backend interface {
	Counts() Counts
	DataRoot() string
	// Runtimes returns the runtimes by name and the default's name.
	Runtimes() (map[string]string, string)
	Subscribe(since time.Time) (past []events.Message, ch <-chan events.Message, cancel func())
	DiskUsage() (DiskUsage, error)
	// Registries returns daemon.json's registry-mirrors and insecure-registries.
	Registries() (mirrors, insecure []string)
	// ID is the daemon's lasting identity.
	ID() string
	// Labels are daemon.json's labels; Debug its debug setting.
	Labels() []string
	Debug() bool
}

// DiskUsage is GET /system/df's body in the shape API versions up to 1.51
// use (berthd speaks 1.50): every object listed, the client sums.
type DiskUsage struct {
	LayersSize int64               `json:"LayersSize"`
	Images     []image.Summary     `json:"Images"`
	Containers []container.Summary `json:"Containers"`
	Volumes    []volume.Volume     `json:"Volumes"`
	BuildCache []build.CacheRecord `json:"BuildCache"`
}

// Version and GitCommit identify the build (set with -ldflags -X).
var (
	Version   = "0.1.0-dev"
	GitCommit = "unknown"
)

type handlers struct{ b Backend }

// Register adds the system routes.
func Register(rt *server.Router, b Backend) {
	h := handlers{b}
	rt.Handle("GET /_ping", h.ping)
	rt.Handle("HEAD /_ping", h.ping)
	rt.Handle("GET /version", h.version)
	rt.Handle("GET /info", h.info)
	rt.Handle("GET /events", h.events)
	rt.Handle("GET /system/df", h.df)
}

func (h handlers) ping(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Builder-Version", "1")
	w.Header().Set("Swarm", "inactive")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write([]byte("OK"))
	}
	return nil
}

func kernel() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

func (h handlers) version(w http.ResponseWriter, r *http.Request) error {
	v := system.VersionResponse{
		Version: Version, APIVersion: server.APIVersion, MinAPIVersion: server.MinAPIVersion,
		Os: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(), KernelVersion: kernel(), GitCommit: GitCommit,
		Components: []system.ComponentVersion{{Name: "Engine", Version: Version, Details: map[string]string{
			"ApiVersion": server.APIVersion, "MinAPIVersion": server.MinAPIVersion, "Os": runtime.GOOS, "Arch": runtime.GOARCH,
			"GoVersion": runtime.Version(), "KernelVersion": kernel(), "GitCommit": GitCommit, "Experimental": "false",
		}}},
	}
	v.Platform.Name = "berth"
	return httputil.WriteJSON(w, http.StatusOK, v)
}

func (h handlers) info(w http.ResponseWriter, r *http.Request) error {
	c := h.b.Counts()
	host, _ := os.Hostname()
	var si unix.Sysinfo_t
	_ = unix.Sysinfo(&si)
	cgv := "1"
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		cgv = "2"
	}
	runtimes := map[string]system.RuntimeWithStatus{}
	paths, defRuntime := h.b.Runtimes()
	for name, path := range paths {
		runtimes[name] = system.RuntimeWithStatus{Runtime: system.Runtime{Path: path}}
	}
	info := system.Info{
		ID: h.b.ID(), Debug: h.b.Debug(), Containers: c.Containers, ContainersRunning: c.Running, ContainersPaused: c.Paused, ContainersStopped: c.Stopped,
		Images: c.Images, Driver: "overlay2", MemoryLimit: true, SwapLimit: true, CPUCfsPeriod: true, CPUCfsQuota: true,
		CPUShares: true, CPUSet: true, PidsLimit: true, OomKillDisable: cgv == "1", NGoroutines: runtime.NumGoroutine(),
		SystemTime: time.Now().Format(time.RFC3339Nano), LoggingDriver: "json-file", CgroupDriver: "cgroupfs", CgroupVersion: cgv,
		KernelVersion: kernel(), OperatingSystem: osName(), OSType: "linux", Architecture: arch(), NCPU: runtime.NumCPU(),
		MemTotal: int64(si.Totalram) * int64(si.Unit), DockerRootDir: h.b.DataRoot(), Name: host, ServerVersion: Version,
		DefaultRuntime: defRuntime, Runtimes: runtimes,
		SecurityOptions: []string{"name=seccomp,profile=builtin"}, Labels: append([]string{}, h.b.Labels()...), Warnings: []string{},
		IndexServerAddress: "https://index.docker.io/v1/", InitBinary: "berth-init",
	}
	info.RegistryConfig = registryConfig(h.b.Registries())
	// berthd always restores its running containers when it starts again
	// (there is no other mode), which is what dockerd's live restore is
	info.LiveRestoreEnabled = true
	info.Swarm.LocalNodeState = "inactive"
	return httputil.WriteJSON(w, http.StatusOK, info)
}

// registryConfig is /info's RegistryConfig as dockerd fills it: the
// insecure CIDRs (127.0.0.0/8 always), an index entry per insecure host
// and Docker Hub's with the mirrors.
func registryConfig(mirrors, insecure []string) *registry.ServiceConfig {
	rc := &registry.ServiceConfig{IndexConfigs: map[string]*registry.IndexInfo{}, Mirrors: []string{}}
	for _, m := range mirrors {
		rc.Mirrors = append(rc.Mirrors, strings.TrimSuffix(m, "/")+"/")
	}
	for _, in := range insecure {
		if p, err := netip.ParsePrefix(in); err == nil {
			rc.InsecureRegistryCIDRs = append(rc.InsecureRegistryCIDRs, p)
			continue
		}
		rc.IndexConfigs[in] = &registry.IndexInfo{Name: in, Mirrors: []string{}, Secure: false}
	}
	rc.InsecureRegistryCIDRs = append(rc.InsecureRegistryCIDRs, netip.MustParsePrefix("127.0.0.0/8"))
	rc.IndexConfigs["docker.io"] = &registry.IndexInfo{Name: "docker.io", Mirrors: rc.Mirrors, Secure: true, Official: true}
	return rc
}

func arch() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return runtime.GOARCH
	}
	return unix.ByteSliceToString(u.Machine[:])
}

func osName() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "linux"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "linux"
}

func (h handlers) df(w http.ResponseWriter, r *http.Request) error {
	du, err := h.b.DiskUsage()
	if err != nil {
		return err
	}
	if types := r.URL.Query()["type"]; len(types) > 0 {
		want := map[string]bool{}
		for _, t := range types {
			want[t] = true
		}
		if !want["image"] {
			du.Images, du.LayersSize = nil, 0
		}
		if !want["container"] {
			du.Containers = nil
		}
		if !want["volume"] {
			du.Volumes = nil
		}
		if !want["build-cache"] {
			du.BuildCache = nil
		}
	}
	return httputil.WriteJSON(w, http.StatusOK, du)
}
