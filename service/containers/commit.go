package containers

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/berth-project/berth/service/images"
	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// CommitOptions are commit's flags.
type CommitOptions struct {
	Ref     string   // repository[:tag] to tag the image with; "" for none
	Comment string   // -m
	Author  string   // -a
	Changes []string // -c Dockerfile instructions
	Pause   bool     // freeze a running container while its changes are read
}

// Commit makes an image of the container's image plus its changes (one
// new layer), with the container's config and a history entry. Nothing is
// left behind on failure: a layer only stays if an image uses it.
func (s *Service) Commit(ref string, o CommitOptions) (*images.Image, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	if o.Ref != "" {
		if _, err := images.NormalizeTag(o.Ref); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	cfg, imgID, cmd := *c.Config, c.Image, append([]string{c.Path}, c.Args...)
	paused := false
	if o.Pause && c.State.Status == container.StateRunning {
		if err := s.freeze(c, true); err == nil {
			paused = true
			s.publish(c, eventtypes.ActionPause, nil) // as dockerd's commit does
		}
	}
	c.mu.Unlock()
	if paused {
		defer func() {
			c.mu.Lock()
			if s.freeze(c, false) == nil {
				s.publish(c, eventtypes.ActionUnPause, nil)
			}
			c.mu.Unlock()
		}()
	}
	base, ok := s.images.Get(imgID)
	if !ok {
		return nil, fmt.Errorf("image %s of container %s: %w", imgID, c.ID, errdefs.ErrNotFound)
	}
	next := dockerspec.DockerOCIImage{}
	b, _ := json.Marshal(base.Config)
	_ = json.Unmarshal(b, &next)
	// the container's settings become the image's, then the changes apply
	ic := &next.Config
	ic.Cmd, ic.Entrypoint, ic.Env, ic.WorkingDir, ic.User = cfg.Cmd, cfg.Entrypoint, cfg.Env, cfg.WorkingDir, cfg.User
	ic.Labels = cfg.Labels
	if len(cfg.ExposedPorts) > 0 {
		ic.ExposedPorts = map[string]struct{}{}
		for p := range cfg.ExposedPorts {
			ic.ExposedPorts[p.String()] = struct{}{}
		}
	}
	if len(cfg.Volumes) > 0 {
		ic.Volumes = cfg.Volumes
	}
	if cfg.StopSignal != "" {
		ic.StopSignal = cfg.StopSignal
	}
	if err := images.ApplyChanges(ic, o.Changes); err != nil {
		return nil, err
	}
	rc, err := s.Diff(c.ID)
	if err != nil {
		return nil, err
	}
	layer, err := s.images.AddLayer(rc, base.Config.RootFS.DiffIDs)
	rc.Close()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	next.Created = &now
	next.Author = o.Author
	next.RootFS.DiffIDs = append(next.RootFS.DiffIDs, layer.Digest)
	next.History = append(next.History, ocispec.History{Created: &now, Author: o.Author, Comment: o.Comment, CreatedBy: strings.Join(cmd, " ")})
	layers := append(append([]ocispec.Descriptor(nil), base.Layers...), layer)
	var refs []string
	if o.Ref != "" {
		refs = append(refs, o.Ref)
	}
	img, err := s.images.Commit(&next, layers, base.ID, refs...)
	if err != nil {
		return nil, err
	}
	s.publish(c, "commit", nil)
	return img, nil
}
