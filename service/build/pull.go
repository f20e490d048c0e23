package build

import (
	"github.com/berth-project/berth/service/images"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/registry"
)

// baseImage is a FROM image: pulled first with --pull, or when it is not
// here, as the classic builder does.
func (r *run) baseImage(base string) (*images.Image, error) {
	img, err := r.b.images.Resolve(base)
	if err == nil && !r.o.Pull {
		return img, nil
	}
	if err != nil && !errdefs.IsNotFound(err) {
		return nil, err
	}
	if perr := r.b.images.Pull(r.ctx, base, images.PullOptions{Auth: r.authFor(base)}, buildProgress{r}); perr != nil {
		if img != nil { // --pull of an image only here (built, loaded): use it
			return img, nil
		}
		return nil, perr
	}
	return r.b.images.Resolve(base)
}

// authFor picks the credentials of ref's registry.
func (r *run) authFor(ref string) *registry.AuthConfig {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil
	}
	keys := []string{reference.Domain(n)}
	if keys[0] == "docker.io" {
		keys = append(keys, "https://index.docker.io/v1/", "index.docker.io")
	}
	for _, k := range keys {
		if a, ok := r.o.Auths[k]; ok {
			return &a
		}
	}
	return nil
}

// buildProgress prints a pull's progress in the build output, as lines.
type buildProgress struct{ r *run }

func (p buildProgress) Layer(id, status string, current, total int64) {
	if current == 0 && total == 0 {
		p.r.printf("%s: %s\n", id, status)
	}
}

func (p buildProgress) Line(status string) { p.r.printf("%s\n", status) }
