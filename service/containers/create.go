package containers

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/ids"
	"github.com/berth-project/berth/internal/names"
	"github.com/berth-project/berth/runtime/oci"
	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// CreateRequest is the body of POST /containers/create plus its name.
type CreateRequest struct {
	Name             string
	Config           *container.Config
	HostConfig       *container.HostConfig
	NetworkingConfig *network.NetworkingConfig
}

// Create makes a container record and its directory; nothing runs yet.
func (s *Service) Create(req CreateRequest) (string, error) {
	if req.Config == nil {
		return "", fmt.Errorf("config cannot be empty in order to create a container: %w", errdefs.ErrInvalidArgument)
	}
	cfg := *req.Config
	hc := req.HostConfig
	if hc == nil {
		hc = &container.HostConfig{}
	}
	img, err := s.images.Resolve(cfg.Image)
	if err != nil {
		return "", err
	}
	mergeImageConfig(&cfg, &img.Config.Config)
	args := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	if len(args) == 0 {
		return "", fmt.Errorf("no command specified: %w", errdefs.ErrInvalidArgument)
	}
	id := ids.New()
	if cfg.Hostname == "" {
		cfg.Hostname = ids.Short(id)
	}
	setHostConfigDefaults(hc)
	if err := validateRun(&cfg, hc); err != nil {
		return "", err
	}
	if err := s.checkRuntime(hc); err != nil {
		return "", err
	}
	// container:<name> modes are recorded with the full ID, as dockerd does
	if m := hc.IpcMode; m.IsContainer() {
		if d, err := s.Get(m.Container()); err == nil {
			hc.IpcMode = container.IpcMode("container:" + d.ID)
		}
	}
	if m := hc.PidMode; m.IsContainer() {
		if d, err := s.Get(m.Container()); err == nil {
			hc.PidMode = container.PidMode("container:" + d.ID)
		}
	}
	if err := s.resolveLinks(hc); err != nil {
		return "", err
	}
	r := Record{
		ID: id, Created: time.Now().UTC(), Path: args[0], Args: args[1:],
		Config: &cfg, HostConfig: hc, Image: img.ID, Chain: img.ChainIDs(), Hostname: cfg.Hostname,
		State: State{Status: container.StateCreated},
	}
	c := newContainer(r, s.cfg.DataRoot, s.cfg.ExecRoot)
	if err := s.reserveName(c, req.Name); err != nil {
		return "", err
	}
	mounts, err := s.resolveMounts(&cfg, hc)
	if err != nil {
		s.releaseName(c)
		return "", err
	}
	c.Mounts = mounts
	if hc.NetworkMode == "" || hc.NetworkMode == "default" {
		hc.NetworkMode = network.NetworkBridge
	}
	if c.Networks, err = s.resolveNetworks(hc, req.NetworkingConfig); err != nil {
		s.releaseName(c)
		for _, m := range mounts {
			if m.Anonymous {
				_ = s.volumes.Remove(m.Name, true)
			}
		}
		return "", err
	}
	if err := s.prepareDir(c); err != nil {
		s.releaseName(c)
		os.RemoveAll(c.dir)
		return "", err
	}
	c.mu.Lock()
	err = s.save(c)
	c.mu.Unlock()
	if err != nil {
		s.releaseName(c)
		os.RemoveAll(c.dir)
		return "", err
	}
	s.publish(c, "create", nil)
	return id, nil
}

// reserveName claims a name (or generates one) and registers c.
func (s *Service) reserveName(c *Container, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name != "" {
		if !validName.MatchString(name) {
			return fmt.Errorf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", name, errdefs.ErrInvalidArgument)
		}
		name = "/" + strings.TrimPrefix(name, "/")
		if other, ok := s.byName[name]; ok {
			return fmt.Errorf("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.: %w",
				name, other, errdefs.ErrConflict)
		}
	} else {
		for i := 0; ; i++ {
			name = "/" + names.Generate(i)
			if _, ok := s.byName[name]; !ok {
				break
			}
		}
	}
	c.Name = name
	s.byName[name] = c.ID
	s.byID[c.ID] = c
	return nil
}

func (s *Service) releaseName(c *Container) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName[c.Name] == c.ID {
		delete(s.byName, c.Name)
	}
	delete(s.byID, c.ID)
}

// prepareDir writes the container's hostname, hosts and resolv.conf files.
func (s *Service) prepareDir(c *Container) error {
	if err := os.MkdirAll(c.dir, 0o710); err != nil {
		return err
	}
	files := map[string]string{
		"hostname":    c.Hostname + "\n",
		"hosts":       hostsFile(c.Hostname),
		"resolv.conf": resolvConf(),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("container %s: %w", name, err)
		}
	}
	return nil
}

func hostsFile(hostname string) string {
	return "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n127.0.1.1\t" + hostname + "\n"
}

// resolvConf copies the host's resolver configuration without loopback
// nameservers, which mean nothing inside the container's network namespace.
func resolvConf() string {
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return ""
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" && (strings.HasPrefix(f[1], "127.") || f[1] == "::1") {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// mergeImageConfig fills what the user left empty from the image, with
// Docker's rules (an explicit --entrypoint drops the image's CMD).
func mergeImageConfig(cfg *container.Config, img *dockerspec.DockerOCIImageConfig) {
	if cfg.User == "" {
		cfg.User = img.User
	}
	if len(img.ExposedPorts) > 0 && cfg.ExposedPorts == nil {
		cfg.ExposedPorts = network.PortSet{}
	}
	for p := range img.ExposedPorts {
		if port, err := network.ParsePort(p); err == nil {
			cfg.ExposedPorts[port] = struct{}{}
		}
	}
	env := append([]string{}, img.Env...)
	for _, e := range cfg.Env {
		k, _, _ := strings.Cut(e, "=")
		replaced := false
		for i, ie := range env {
			if ik, _, _ := strings.Cut(ie, "="); ik == k {
				env[i], replaced = e, true
				break
			}
		}
		if !replaced {
			env = append(env, e)
		}
	}
	cfg.Env = env
	if len(img.Labels) > 0 {
		labels := map[string]string{}
		for k, v := range img.Labels {
			labels[k] = v
		}
		for k, v := range cfg.Labels {
			labels[k] = v
		}
		cfg.Labels = labels
	}
	if len(cfg.Entrypoint) == 0 {
		if len(cfg.Cmd) == 0 {
			cfg.Cmd = img.Cmd
		}
		if cfg.Entrypoint == nil {
			cfg.Entrypoint = img.Entrypoint
		}
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = img.WorkingDir
	}
	if len(img.Volumes) > 0 && cfg.Volumes == nil {
		cfg.Volumes = map[string]struct{}{}
	}
	for v := range img.Volumes {
		cfg.Volumes[v] = struct{}{}
	}
	if cfg.StopSignal == "" {
		cfg.StopSignal = img.StopSignal
	}
	if img.Healthcheck != nil {
		if cfg.Healthcheck == nil {
			h := *img.Healthcheck
			cfg.Healthcheck = &h
		} else {
			// Docker's merge: unset fields of --health-* come from the image
			h := cfg.Healthcheck
			if len(h.Test) == 0 {
				h.Test = img.Healthcheck.Test
			}
			if h.Interval == 0 {
				h.Interval = img.Healthcheck.Interval
			}
			if h.Timeout == 0 {
				h.Timeout = img.Healthcheck.Timeout
			}
			if h.StartPeriod == 0 {
				h.StartPeriod = img.Healthcheck.StartPeriod
			}
			if h.StartInterval == 0 {
				h.StartInterval = img.Healthcheck.StartInterval
			}
			if h.Retries == 0 {
				h.Retries = img.Healthcheck.Retries
			}
		}
	}
}

func setHostConfigDefaults(hc *container.HostConfig) {
	if hc.NetworkMode == "" || hc.NetworkMode == "default" {
		hc.NetworkMode = "bridge"
	}
	if hc.LogConfig.Type == "" {
		hc.LogConfig.Type = "json-file"
	}
	if hc.LogConfig.Config == nil {
		hc.LogConfig.Config = map[string]string{}
	}
	if hc.ShmSize == 0 {
		hc.ShmSize = 64 << 20
	}
	if hc.IpcMode == "" {
		hc.IpcMode = container.IPCModePrivate // dockerd's default-ipc-mode
	}
	// the defaults are recorded, as dockerd does, so inspect shows them
	if hc.MaskedPaths == nil && !hc.Privileged {
		hc.MaskedPaths = oci.DefaultMaskedPaths()
	}
	if hc.ReadonlyPaths == nil && !hc.Privileged {
		hc.ReadonlyPaths = oci.DefaultReadonlyPaths()
	}
	if hc.Memory > 0 && hc.MemorySwap == 0 {
		hc.MemorySwap = 2 * hc.Memory // Docker's default, recorded as Docker does
	}
}

// validateRun is the daemon's check of restart policy and healthcheck
// settings, with Docker's messages.
func validateRun(cfg *container.Config, hc *container.HostConfig) error {
	if _, err := parseLogOptions(hc.LogConfig); err != nil {
		return err
	}
	if !hc.IpcMode.Valid() {
		return fmt.Errorf("invalid IPC mode: %v: %w", hc.IpcMode, errdefs.ErrInvalidArgument)
	}
	if !hc.PidMode.Valid() {
		return fmt.Errorf("invalid PID mode: %v: %w", hc.PidMode, errdefs.ErrInvalidArgument)
	}
	if err := container.ValidateRestartPolicy(hc.RestartPolicy); err != nil {
		return fmt.Errorf("%s: %w", err.Error(), errdefs.ErrInvalidArgument)
	}
	if hc.AutoRemove && hc.RestartPolicy.Name != "" && hc.RestartPolicy.Name != container.RestartPolicyDisabled {
		return fmt.Errorf("can't create 'AutoRemove' container with restart policy: %w", errdefs.ErrInvalidArgument)
	}
	if h := cfg.Healthcheck; h != nil {
		for _, d := range []struct {
			name string
			v    time.Duration
		}{{"Interval", h.Interval}, {"Timeout", h.Timeout}, {"StartPeriod", h.StartPeriod}, {"StartInterval", h.StartInterval}} {
			if d.v != 0 && d.v < time.Millisecond {
				return fmt.Errorf("%s in Healthcheck cannot be less than %s: %w", d.name, time.Millisecond, errdefs.ErrInvalidArgument)
			}
		}
		if h.Retries < 0 {
			return fmt.Errorf("Retries in Healthcheck cannot be negative: %w", errdefs.ErrInvalidArgument)
		}
	}
	return nil
}
