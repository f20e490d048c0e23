package images

import (
	"encoding/json"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// The OCI config types omit an empty Cmd, so `CMD []` (which clears an
// inherited command, and which dockerd stores as []) would read back as no
// CMD at all, that is the base image's. These wrappers keep an empty,
// non-nil Cmd as []; a config without one encodes as the OCI types do, so
// image IDs do not change.

// ConfigJSON is the image config's own encoding.
type ConfigJSON struct {
	dockerspec.DockerOCIImageConfig
	Cmd *[]string `json:"Cmd,omitempty"`
}

// NewConfigJSON wraps c for encoding.
func NewConfigJSON(c dockerspec.DockerOCIImageConfig) ConfigJSON {
	out := ConfigJSON{DockerOCIImageConfig: c}
	if c.Cmd != nil && len(c.Cmd) == 0 {
		out.Cmd = &[]string{}
	} else if c.Cmd != nil {
		cmd := c.Cmd
		out.Cmd = &cmd
	}
	return out
}

type imageJSON struct {
	dockerspec.DockerOCIImage
	Config ConfigJSON `json:"config,omitempty"`
}

// MarshalConfig encodes an image config (the bytes whose digest is the
// image ID).
func MarshalConfig(cfg *dockerspec.DockerOCIImage) ([]byte, error) {
	if cfg.Config.Cmd == nil || len(cfg.Config.Cmd) > 0 {
		return json.Marshal(cfg)
	}
	return json.Marshal(imageJSON{DockerOCIImage: *cfg, Config: NewConfigJSON(cfg.Config)})
}

// CloneConfig is a deep copy of cfg that keeps an empty Cmd.
func CloneConfig(cfg dockerspec.DockerOCIImage) dockerspec.DockerOCIImage {
	b, _ := MarshalConfig(&cfg)
	var out dockerspec.DockerOCIImage
	_ = json.Unmarshal(b, &out)
	return out
}
