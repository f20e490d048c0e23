package compose

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
)

// fileReference is a service's use of a secret or a config.
type fileReference struct {
	types.FileReferenceConfig
	kind string // "secret" or "config"
}

// fileReferences are a service's secrets, then its configs.
func fileReferences(s types.ServiceConfig) []fileReference {
	var refs []fileReference
	for _, r := range s.Secrets {
		refs = append(refs, fileReference{types.FileReferenceConfig(r), "secret"})
	}
	for _, r := range s.Configs {
		refs = append(refs, fileReference{types.FileReferenceConfig(r), "config"})
	}
	return refs
}

// source is the top-level secret or config the reference names.
func (r fileReference) source(p *types.Project) (types.FileObjectConfig, bool) {
	if r.kind == "secret" {
		c, ok := p.Secrets[r.Source]
		return types.FileObjectConfig(c), ok
	}
	c, ok := p.Configs[r.Source]
	return types.FileObjectConfig(c), ok
}

// target is where the file appears in the container: a secret under
// /run/secrets unless its target is absolute, a config at its target or
// /<name>.
func (r fileReference) target() string {
	t := r.Target
	switch {
	case t == "" && r.kind == "secret":
		return "/run/secrets/" + r.Source
	case t == "":
		return "/" + r.Source
	case r.kind == "secret" && !path.IsAbs(t):
		return "/run/secrets/" + t
	}
	return t
}

// content is the file's text when it is inline (content:) or from the
// environment (environment:); "" for a file source.
func (r fileReference) content(p *types.Project, src types.FileObjectConfig) (string, error) {
	if src.Content != "" {
		return src.Content, nil
	}
	if src.Environment != "" {
		v, ok := p.Environment[src.Environment]
		if !ok {
			return "", fmt.Errorf("environment variable %q required by %s %q is not set", src.Environment, r.kind, src.Name)
		}
		return v, nil
	}
	return "", nil
}

// checkFiles refuses, before anything is made, the secrets and configs
// that cannot be provided: external ones (a swarm's), environment ones
// whose variable is unset, and copied ones in a read-only service.
func checkFiles(p *types.Project) error {
	for _, s := range p.Services {
		for _, ref := range fileReferences(s) {
			src, ok := ref.source(p)
			if !ok {
				return fmt.Errorf("service %q refers to undefined %s %s: invalid compose project", s.Name, ref.kind, ref.Source)
			}
			if src.External {
				return fmt.Errorf("unsupported external %s %s", ref.kind, src.Name)
			}
			text, err := ref.content(p, src)
			if err != nil {
				return err
			}
			if text != "" && s.ReadOnly {
				return fmt.Errorf("cannot create %s %q in read-only service %s: `file` is the sole supported option", ref.kind, src.Name, s.Name)
			}
		}
	}
	return nil
}

// injectFiles copies a new container's inline and environment secrets and
// configs into it before it starts, as Docker Compose does: one file each,
// mode 0444 unless the reference says otherwise.
func (e *Engine) injectFiles(ctx context.Context, p *types.Project, s types.ServiceConfig, id string) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	n := 0
	for _, ref := range fileReferences(s) {
		src, ok := ref.source(p)
		if !ok {
			continue // containerConfig refused it already
		}
		text, err := ref.content(p, src)
		if err != nil {
			return err
		}
		if text == "" {
			continue
		}
		h, err := ref.header(len(text))
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write([]byte(text)); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return nil
	}
	if err := tw.Close(); err != nil {
		return err
	}
	_, err := e.api.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: &buf,
		CopyUIDGID: true})
	return err
}

// header is the tar header of a reference's file.
func (r fileReference) header(size int) (*tar.Header, error) {
	mode := int64(0o444)
	if r.Mode != nil {
		mode = int64(*r.Mode)
	}
	h := &tar.Header{Name: strings.TrimPrefix(r.target(), "/"), Size: int64(size), Mode: mode, ModTime: time.Now(), Typeflag: tar.TypeReg}
	for _, id := range []struct {
		s   string
		dst *int
		key string
	}{{r.UID, &h.Uid, "uid"}, {r.GID, &h.Gid, "gid"}} {
		if id.s == "" {
			continue
		}
		v, err := strconv.Atoi(id.s)
		if err != nil {
			return nil, fmt.Errorf("%s %s: invalid %s %q", r.kind, r.Source, id.key, id.s)
		}
		*id.dst = v
	}
	return h, nil
}
