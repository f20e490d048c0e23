package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/berth-project/berth/api/handlers/build"
	"github.com/berth-project/berth/api/handlers/containers"
	"github.com/berth-project/berth/api/handlers/frontends"
	"github.com/berth-project/berth/api/handlers/images"
	"github.com/berth-project/berth/api/handlers/networks"
	"github.com/berth-project/berth/api/handlers/plugins"
	registryapi "github.com/berth-project/berth/api/handlers/registry"
	"github.com/berth-project/berth/api/handlers/swarm"
	"github.com/berth-project/berth/api/handlers/system"
	"github.com/berth-project/berth/api/handlers/volumes"
	"github.com/berth-project/berth/api/server"
	"github.com/berth-project/berth/core/runtime"
	"github.com/berth-project/berth/internal/trace"
	"github.com/berth-project/berth/network/netns"
	regclient "github.com/berth-project/berth/registry/client"
	"github.com/berth-project/berth/runtime/native"
	"github.com/berth-project/berth/runtime/runc"
	buildsvc "github.com/berth-project/berth/service/build"
	containersvc "github.com/berth-project/berth/service/containers"
	containerarchive "github.com/berth-project/berth/service/containers/archive"
	"github.com/berth-project/berth/service/containers/execs"
	"github.com/berth-project/berth/service/containers/logs"
	"github.com/berth-project/berth/service/containers/procs"
	"github.com/berth-project/berth/service/events"
	imagesvc "github.com/berth-project/berth/service/images"
	"github.com/berth-project/berth/service/images/archive"
	networksvc "github.com/berth-project/berth/service/networks"
	volumesvc "github.com/berth-project/berth/service/volumes"
	"github.com/berth-project/berth/store/content"
	"github.com/berth-project/berth/store/metadata"
	"github.com/berth-project/berth/store/snapshots/overlay"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/volume"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// Daemon is a running berthd.
type Daemon struct {
	cfg        Config
	log        *slog.Logger
	db         *metadata.DB
	images     *imagesvc.Service
	registry   *regclient.Client
	containers *containersvc.Service
	execs      *execs.Service
	netns      *netns.Pool
	events     *events.Bus
	runtime    runtime.Runtime
	volumes    *volumesvc.Service
	networks   *networksvc.Service
	builder    *buildsvc.Builder
	servers    []*http.Server
	listeners  []net.Listener
	restored   chan struct{} // closed when restore has run
	id         string        // engineID
	live       atomic.Pointer[Reloadable]
}

// New builds the stores and services; Serve restores the networks and
// containers once it listens.
func New(cfg Config, log *slog.Logger) (*Daemon, error) {
	for _, d := range []string{cfg.DataRoot, cfg.ExecRoot} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	// Detached execs (runc exec -d, used for terminals) are reparented to us.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("become child subreaper: %w", err)
	}
	trace.Mark("daemon: new")
	db, err := metadata.Open(filepath.Join(cfg.DataRoot, metadata.FileName))
	if err != nil {
		return nil, err
	}
	trace.Mark("daemon: metadata open")
	d := &Daemon{cfg: cfg, log: log, db: db, events: events.Open(filepath.Join(cfg.DataRoot, "events.log")), restored: make(chan struct{})}
	live := cfg.reloadable()
	d.live.Store(&live)
	fail := func(err error) (*Daemon, error) {
		if d.netns != nil {
			_ = d.netns.Close()
		}
		db.Close()
		d.events.Close()
		return nil, err
	}
	if err := validateLabels(cfg.Labels); err != nil {
		return fail(err)
	}
	if d.id, err = engineID(cfg.DataRoot); err != nil {
		return fail(err)
	}
	cs, err := content.New(filepath.Join(cfg.DataRoot, "content"))
	if err != nil {
		return fail(err)
	}
	snaps, err := overlay.New(filepath.Join(cfg.DataRoot, "overlay"))
	if err != nil {
		return fail(err)
	}
	if d.images, err = imagesvc.New(cs, snaps, db); err != nil {
		return fail(err)
	}
	d.images.SetEvents(d.events)
	reg, err := regclient.New(regclient.Config{Mirrors: cfg.Mirrors, Insecure: cfg.Insecure, CertsDir: cfg.CertsDir,
		UserAgent: "berth/" + system.Version})
	if err != nil {
		return fail(err)
	}
	d.images.SetRegistry(reg)
	d.registry = reg
	if d.volumes, err = volumesvc.New(filepath.Join(cfg.DataRoot, "volumes"), db); err != nil {
		return fail(err)
	}
	d.volumes.SetEvents(d.events)
	netCfg := networksvc.Config{DefaultBridge: cfg.Bridge, ChainSuffix: chainSuffix(cfg.DataRoot),
		Owner: filepath.Clean(cfg.DataRoot), Live: metadata.InUse}
	if cfg.BIP != "" {
		if netCfg.BIP, err = netip.ParsePrefix(cfg.BIP); err != nil {
			return fail(fmt.Errorf("invalid bip %q: %w", cfg.BIP, err))
		}
	}
	trace.Mark("daemon: stores and images ready")
	if d.networks, err = networksvc.New(netCfg, db); err != nil {
		return fail(fmt.Errorf("networks: %w", err))
	}
	d.networks.SetEvents(d.events)
	if d.runtime, err = selectRuntime(cfg, log); err != nil {
		return fail(err)
	}
	runtimes := map[string]runtime.Runtime{d.runtime.Name(): d.runtime}
	if d.runtime.Name() != "runc" {
		runtimes["runc"] = runcRuntime(cfg)
	} else if rt, err := native.New(filepath.Join(cfg.BinDir, "berth-monitor"), filepath.Join(cfg.ExecRoot, "native")); err == nil && !rt.CgroupV2() {
		runtimes[native.Name] = rt
	}
	// two namespaces made ahead: a start takes one instead of making it
	if d.netns, err = netns.NewPool(filepath.Join(cfg.ExecRoot, "netns-pool"), 2); err != nil {
		return fail(err)
	}
	d.containers, err = containersvc.New(containersvc.Config{
		DataRoot: cfg.DataRoot, ExecRoot: cfg.ExecRoot, Runtime: d.runtime, Runtimes: runtimes,
		RuntimeRoot: filepath.Join(cfg.ExecRoot, "runc"), MonitorPath: filepath.Join(cfg.BinDir, "berth-monitor"),
		InitPath: filepath.Join(cfg.BinDir, "berth-init"), CgroupParent: cfg.CgroupParent, Netns: d.netns,
	}, db, d.images, d.volumes, d.networks, snaps, d.events)
	if err != nil {
		return fail(err)
	}
	d.execs = execs.New(d.containers)
	d.containers.SetExecer(d.execs) // healthchecks' probes
	if d.builder, err = buildsvc.New(d.images, d.containers, filepath.Join(cfg.DataRoot, "tmp", "build")); err != nil {
		return fail(err)
	}
	return d, nil
}

// chainSuffix names this daemon's iptables chains after its data root, so
// daemons side by side (tests) keep their rules apart.
func chainSuffix(dataRoot string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(dataRoot)))
	return hex.EncodeToString(sum[:])[:6]
}

// selectRuntime returns the configured runtime. By default that is the
// native one, except on cgroup v2-only hosts: there device access is
// controlled by eBPF programs, which only runc builds so far.
func selectRuntime(cfg Config, log *slog.Logger) (runtime.Runtime, error) {
	monitor := filepath.Join(cfg.BinDir, "berth-monitor")
	runcRT := runcRuntime(cfg)
	switch cfg.Runtime {
	case native.Name:
		return native.New(monitor, filepath.Join(cfg.ExecRoot, "native"))
	case "runc":
		return runcRT, nil
	case "":
		rt, err := native.New(monitor, filepath.Join(cfg.ExecRoot, "native"))
		if err != nil {
			return nil, err
		}
		if rt.CgroupV2() {
			log.Info("cgroup v2 only: using runc as the default runtime (device control needs eBPF)")
			return runcRT, nil
		}
		return rt, nil
	default:
		return nil, fmt.Errorf("unknown runtime %q: use %q or \"runc\"", cfg.Runtime, native.Name)
	}
}

func runcRuntime(cfg Config) runc.Runtime {
	return runc.Runtime{Binary: "runc", Root: filepath.Join(cfg.ExecRoot, "runc")}
}

// restore brings up the host's side of the networks (firewall chains,
// bridges) and reconciles the containers with what runs: the part of a
// start-up that grows with the state on disk, run once the API listens.
func (d *Daemon) restore() error {
	defer close(d.restored)
	if err := d.networks.Start(); err != nil {
		return fmt.Errorf("networks: %w", err)
	}
	trace.Mark("daemon: networks up")
	if err := d.containers.Restore(); err != nil {
		return err
	}
	trace.Mark("daemon: containers restored")
	return nil
}

// Handler returns the Engine API handler; its requests wait for restore
// (but /_ping and /version).
func (d *Daemon) Handler() http.Handler {
	rt := server.NewRouter(d.log)
	rt.WaitFor(d.restored)
	system.Register(rt, systemBackend{d})
	registryapi.Register(rt, d.registry)
	containers.Register(rt, containerBackend{d.containers, procs.New(d.containers), containerarchive.New(d.containers, d.images), d.execs, logs.New(d.containers)})
	images.Register(rt, d.images, archiveBackend{d.images})
	volumes.Register(rt, d.volumes)
	networks.Register(rt, d.networks, d.containers)
	build.Register(rt, buildBackend{d.builder, d.images})
	frontends.Register(rt, frontendBackend{d})
	swarm.Register(rt)
	plugins.Register(rt)
	return rt
}

// Serve listens on every configured host and serves until Shutdown.
func (d *Daemon) Serve() error {
	h := d.Handler()
	errc := make(chan error, len(d.cfg.Hosts)+1)
	for _, host := range d.cfg.Hosts {
		ln, err := server.Listen(host)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
		d.servers = append(d.servers, srv)
		d.listeners = append(d.listeners, ln)
		d.log.Info("API listening", "addr", host)
		trace.Mark("daemon: listening")
		go func() { errc <- srv.Serve(ln) }()
	}
	go func() {
		if err := d.restore(); err != nil {
			errc <- err
		}
	}()
	if d.cfg.Pidfile != "" {
		if err := os.WriteFile(d.cfg.Pidfile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return err
		}
	}
	err := <-errc
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops serving; containers keep running under their monitors.
func (d *Daemon) Shutdown(ctx context.Context) {
	select { // a restore under way finishes first
	case <-d.restored:
	case <-ctx.Done():
	}
	for _, s := range d.servers {
		_ = s.Shutdown(ctx)
	}
	if d.cfg.Pidfile != "" {
		_ = os.Remove(d.cfg.Pidfile)
	}
	d.networks.Close()
	_ = d.netns.Close()
	_ = d.db.Close()
	d.events.Close()
}

// containerBackend is the containers handlers' backend: the containers
// service and the services beside it that work on its containers.
type containerBackend struct {
	*containerService
	*procsService
	*archiveService
	*execsService
	*logsService
}

type (
	containerService = containersvc.Service
	procsService     = procs.Service
	archiveService   = containerarchive.Service
	execsService     = execs.Service
	logsService      = logs.Service
)

type systemBackend struct{ d *Daemon }

func (s systemBackend) Counts() system.Counts {
	var c system.Counts
	list, _ := s.d.containers.List(containersvc.ListOptions{All: true})
	for _, x := range list {
		c.Containers++
		switch x.State {
		case container.StateRunning:
			c.Running++
		case container.StatePaused:
			c.Paused++
		default:
			c.Stopped++
		}
	}
	c.Images = len(s.d.images.List(imagesvc.ListOptions{All: true}))
	return c
}

func (s systemBackend) DataRoot() string { return s.d.cfg.DataRoot }

func (s systemBackend) Registries() (mirrors, insecure []string) {
	live := s.d.live.Load()
	return live.Mirrors, live.Insecure
}

func (s systemBackend) ID() string { return s.d.id }

func (s systemBackend) Labels() []string { return s.d.live.Load().Labels }

func (s systemBackend) Debug() bool { return s.d.live.Load().Debug }

func (s systemBackend) DiskUsage() (system.DiskUsage, error) {
	var du system.DiskUsage
	du.Images, du.LayersSize, du.BuildCache = s.d.images.DiskUsage()
	var err error
	if du.Containers, err = s.d.containers.List(containersvc.ListOptions{All: true, Size: true}); err != nil {
		return du, err
	}
	vols, err := s.d.volumes.List(nil)
	if err != nil {
		return du, err
	}
	for _, v := range vols {
		du.Volumes = append(du.Volumes, volume.Volume{Name: v.Name, Driver: v.Driver, Mountpoint: s.d.volumes.Mountpoint(v.Name),
			CreatedAt: v.CreatedAt.Format(time.RFC3339), Labels: v.Labels, Options: v.Options, Scope: "local",
			UsageData: &volume.UsageData{Size: s.d.volumes.Size(v.Name), RefCount: int64(len(s.d.volumes.Users(v.Name)))}})
	}
	return du, nil
}

func (s systemBackend) Runtimes() (map[string]string, string) {
	return map[string]string{native.Name: filepath.Join(s.d.cfg.BinDir, "berth-monitor"), "runc": "runc"}, s.d.runtime.Name()
}

func (s systemBackend) Subscribe(since time.Time) ([]eventtypes.Message, <-chan eventtypes.Message, func()) {
	return s.d.events.Subscribe(since)
}

// archiveBackend saves and loads image archives of the image store.
type archiveBackend struct{ images *imagesvc.Service }

func (b archiveBackend) Save(ctx context.Context, names []string, o archive.SaveOptions, w io.Writer) error {
	return archive.Save(ctx, b.images, names, o, w)
}

func (b archiveBackend) Load(ctx context.Context, r io.Reader, o archive.LoadOptions, rep archive.LoadReporter) error {
	return archive.Load(ctx, b.images, r, o, rep)
}

type buildBackend struct {
	b      *buildsvc.Builder
	images *imagesvc.Service
}

func (b buildBackend) PruneCache(all bool) ([]string, uint64, error) {
	return b.images.PruneBuildCache(all)
}

func (b buildBackend) Build(ctx context.Context, r io.Reader, o buildsvc.Options, out io.Writer) (digest.Digest, error) {
	img, err := b.b.Build(ctx, r, o, out)
	if err != nil {
		return "", err
	}
	return img.ID, nil
}

func (b buildBackend) Familiar(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarString(reference.TagNameOnly(named))
}
