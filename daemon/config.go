package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Config is berthd's configuration: flags over daemon.json over defaults.
type Config struct {
	Hosts        []string `json:"hosts,omitempty"`
	DataRoot     string   `json:"data-root,omitempty"`
	ExecRoot     string   `json:"exec-root,omitempty"`
	Pidfile      string   `json:"pidfile,omitempty"`
	LogLevel     string   `json:"log-level,omitempty"`
	Debug        bool     `json:"debug,omitempty"`
	Runtime      string   `json:"default-runtime,omitempty"`
	BinDir       string   `json:"-"` // where berth-monitor and berth-init live
	CgroupParent string   `json:"cgroup-parent,omitempty"`
	Bridge       string   `json:"bridge,omitempty"` // the default bridge's interface (created if missing)
	BIP          string   `json:"bip,omitempty"`    // its address/prefix, e.g. 172.17.0.1/16
	// Mirrors are tried before Docker Hub for docker.io images.
	Mirrors []string `json:"registry-mirrors,omitempty"`
	// Insecure registries (host:port or CIDR) are reached over HTTP or
	// unverified TLS.
	Insecure []string `json:"insecure-registries,omitempty"`
	// Labels describe the daemon (key=value), shown by info.
	Labels []string `json:"labels,omitempty"`
	// CertsDir holds registries' CA and client certificates (certs.d).
	CertsDir string `json:"-"`
}

// Defaults mirror dockerd's, under berth's names.
func Defaults() Config {
	return Config{
		Hosts:        []string{"unix:///run/berth/berth.sock"},
		DataRoot:     "/var/lib/berth",
		ExecRoot:     "/run/berth",
		Pidfile:      "/run/berth.pid",
		LogLevel:     "info",
		CgroupParent: "/berth",
		CertsDir:     "/etc/berth/certs.d",
	}
}

// LoadFile merges daemon.json into c; a missing file is not an error
// unless required.
func (c *Config) LoadFile(path string, required bool) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	known := map[string]bool{"hosts": true, "data-root": true, "exec-root": true, "pidfile": true, "log-level": true, "debug": true,
		"default-runtime": true, "cgroup-parent": true, "bridge": true, "bip": true, "registry-mirrors": true, "insecure-registries": true, "labels": true}
	for k := range raw {
		if !known[k] {
			return fmt.Errorf("config file %s: the following directives don't match any configuration option: %s", path, k)
		}
	}
	return json.Unmarshal(b, c)
}
