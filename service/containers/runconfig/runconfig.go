// Package runconfig is a container's Config and HostConfig as the daemon
// takes them (moby's runconfig and daemon checks): the image's config
// merged in, Docker's defaults recorded, the run settings validated, the
// log driver's options parsed, and updates merged, all in Docker's
// words. It is pure: nothing here touches the host.
package runconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/runtime/oci"
	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// MergeImage fills what the user left empty from the image, with
// Docker's rules (an explicit --entrypoint drops the image's CMD).
func MergeImage(cfg *container.Config, img *dockerspec.DockerOCIImageConfig) {
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

// SetDefaults records Docker's defaults in hc, as dockerd does, so
// inspect shows them.
func SetDefaults(hc *container.HostConfig) {
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

// Validate is the daemon's check of restart policy and healthcheck
// settings, with Docker's messages.
func Validate(cfg *container.Config, hc *container.HostConfig) error {
	if _, err := ParseLogOptions(hc.LogConfig); err != nil {
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

// LogOptions are a log driver's rotation settings.
type LogOptions struct {
	MaxSize  int64 // bytes; 0: never rotate
	MaxFile  int
	Compress bool
}

// ParseLogOptions validates a container's log config the way Docker's
// json-file and local drivers do, and applies their defaults (local:
// 20 MiB × 5 files, compressed).
func ParseLogOptions(lc container.LogConfig) (LogOptions, error) {
	bad := func(format string, a ...any) (LogOptions, error) {
		return LogOptions{}, fmt.Errorf(format+": %w", append(a, errdefs.ErrInvalidArgument)...)
	}
	var o LogOptions
	switch lc.Type {
	case "none":
		for k := range lc.Config {
			return bad("unknown log opt '%s' for none log driver", k)
		}
		return o, nil
	case "json-file":
		o.MaxFile = 1
	case "local":
		o = LogOptions{MaxSize: 20 << 20, MaxFile: 5, Compress: true}
	default:
		return bad("logger: no log driver named '%s' is registered", lc.Type)
	}
	for k, v := range lc.Config {
		switch k {
		case "max-size":
			n, err := units.RAMInBytes(v)
			if err != nil {
				return bad("%s", err.Error())
			}
			if n <= 0 {
				return bad("max-size must be a positive number")
			}
			o.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil {
				return bad("%s", err.Error())
			}
			if n < 1 {
				return bad("max-file cannot be less than 1")
			}
			o.MaxFile = n
		case "compress":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return bad("error reading compress log option: %s", err.Error())
			}
			o.Compress = b
		case "labels", "labels-regex", "env", "env-regex", "tag":
			if lc.Type == "local" {
				return bad("unknown log opt '%s' for local log driver", k)
			}
		default:
			return bad("unknown log opt '%s' for %s log driver", k, lc.Type)
		}
	}
	if lc.Type == "json-file" {
		if _, ok := lc.Config["max-file"]; ok && o.MaxSize == 0 && o.MaxFile > 1 {
			// Docker ignores max-file without max-size; so do we
			o.MaxFile = 1
		}
		if o.Compress && o.MaxFile < 2 {
			return bad("compress cannot be true when max-file is less than 2 or max-size is not set")
		}
	}
	return o, nil
}

// MergeUpdate applies u to hc with the daemon's rules (moby's
// container.UpdateContainer): zero values leave a setting alone.
func MergeUpdate(hc *container.HostConfig, u container.UpdateConfig) error {
	r, cur := u.Resources, &hc.Resources
	conflict := func(msg string) error { return fmt.Errorf("%s: %w", msg, errdefs.ErrInvalidArgument) }
	if r.NanoCPUs > 0 && cur.CPUPeriod > 0 {
		return conflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set")
	}
	if r.NanoCPUs > 0 && cur.CPUQuota > 0 {
		return conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set")
	}
	if r.CPUPeriod > 0 && cur.NanoCPUs > 0 {
		return conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
	}
	if r.CPUQuota > 0 && cur.NanoCPUs > 0 {
		return conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")
	}
	if r.BlkioWeight != 0 {
		cur.BlkioWeight = r.BlkioWeight
	}
	if r.CPUShares != 0 {
		cur.CPUShares = r.CPUShares
	}
	if r.NanoCPUs != 0 {
		cur.NanoCPUs = r.NanoCPUs
	}
	if r.CPUPeriod != 0 {
		cur.CPUPeriod = r.CPUPeriod
	}
	if r.CPUQuota != 0 {
		cur.CPUQuota = r.CPUQuota
	}
	if r.CpusetCpus != "" {
		cur.CpusetCpus = r.CpusetCpus
	}
	if r.CpusetMems != "" {
		cur.CpusetMems = r.CpusetMems
	}
	if r.Memory != 0 {
		// a memory limit above the swap limit already set needs the swap
		// limit updated too
		if cur.MemorySwap > 0 && r.Memory > cur.MemorySwap && r.MemorySwap == 0 {
			return conflict("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
		}
		cur.Memory = r.Memory
	}
	if r.MemorySwap != 0 {
		cur.MemorySwap = r.MemorySwap
	}
	if r.MemoryReservation != 0 {
		cur.MemoryReservation = r.MemoryReservation
	}
	if r.PidsLimit != nil {
		cur.PidsLimit = r.PidsLimit
	}
	if u.RestartPolicy.Name != "" {
		if err := container.ValidateRestartPolicy(u.RestartPolicy); err != nil {
			return conflict(err.Error())
		}
		if hc.AutoRemove && u.RestartPolicy.Name != container.RestartPolicyDisabled {
			return conflict("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		hc.RestartPolicy = u.RestartPolicy
	}
	return nil
}

// UpdatedOnly keeps, from the merged resources, the limits the update
// names, so a live update writes nothing else.
func UpdatedOnly(merged, u container.Resources) container.Resources {
	var out container.Resources
	if u.BlkioWeight != 0 {
		out.BlkioWeight = merged.BlkioWeight
	}
	if u.CPUShares != 0 {
		out.CPUShares = merged.CPUShares
	}
	if u.NanoCPUs != 0 {
		out.NanoCPUs = merged.NanoCPUs
	}
	if u.CPUPeriod != 0 || u.CPUQuota != 0 {
		out.CPUPeriod, out.CPUQuota = merged.CPUPeriod, merged.CPUQuota
	}
	out.CpusetCpus, out.CpusetMems = u.CpusetCpus, u.CpusetMems
	if u.Memory != 0 || u.MemorySwap != 0 {
		out.Memory, out.MemorySwap = merged.Memory, merged.MemorySwap
		if out.Memory > 0 && out.MemorySwap == 0 {
			out.MemorySwap = -1 // keep the swap limit as it is (unlimited when never set)
		}
	}
	if u.MemoryReservation != 0 {
		out.MemoryReservation = merged.MemoryReservation
	}
	if u.PidsLimit != nil {
		out.PidsLimit = merged.PidsLimit
	}
	return out
}
