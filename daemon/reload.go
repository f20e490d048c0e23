package daemon

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	eventtypes "github.com/moby/moby/api/types/events"
)

// Reloadable is the part of the configuration a running daemon takes
// again from daemon.json on SIGHUP, as dockerd does: the rest needs a
// restart.
type Reloadable struct {
	Debug    bool
	LogLevel string
	Labels   []string
	Mirrors  []string
	Insecure []string
}

func (c Config) reloadable() Reloadable {
	return Reloadable{Debug: c.Debug, LogLevel: c.LogLevel, Labels: c.Labels, Mirrors: c.Mirrors, Insecure: c.Insecure}
}

// Reload applies cfg's reloadable settings as one change: if any is
// invalid, nothing changes. It publishes dockerd's "daemon reload" event
// with the settings as its attributes.
func (d *Daemon) Reload(cfg Config) error {
	r := cfg.reloadable()
	if err := validateLabels(r.Labels); err != nil {
		return err
	}
	if err := d.registry.Reconfigure(r.Mirrors, r.Insecure); err != nil {
		return err
	}
	d.live.Store(&r)
	attrs := map[string]string{
		"debug":               strconv.FormatBool(r.Debug),
		"labels":              attributeList(r.Labels),
		"registry-mirrors":    attributeList(r.Mirrors),
		"insecure-registries": attributeList(r.Insecure),
		"live-restore":        "true",
		"default-runtime":     d.runtime.Name(),
	}
	if host, err := os.Hostname(); err == nil {
		attrs["name"] = host
	}
	d.events.Publish(eventtypes.DaemonEventType, eventtypes.ActionReload, d.id, attrs)
	d.log.Info("configuration reloaded", "debug", r.Debug, "mirrors", r.Mirrors, "insecure", r.Insecure, "labels", r.Labels)
	return nil
}

// attributeList is a list as dockerd writes it into an event attribute:
// JSON, "[]" when empty.
func attributeList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// validateLabels checks daemon labels as dockerd does: key=value, and
// one value per key.
func validateLabels(labels []string) error {
	seen := map[string]string{}
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return fmt.Errorf("bad attribute format: %s", l)
		}
		if old, dup := seen[k]; dup && old != v {
			return fmt.Errorf("daemon labels don't match: label %s has conflicting values", k)
		}
		seen[k] = v
	}
	return nil
}

// engineID is the daemon's lasting identity (GET /info's ID, the actor of
// daemon events): a UUID kept in the data root, made on first start.
func engineID(dataRoot string) (string, error) {
	path := filepath.Join(dataRoot, "engine-id")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", err
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	id := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", err
	}
	return id, os.Rename(tmp, path)
}
