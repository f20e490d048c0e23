package images

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/berth-project/berth/registry/client"
	"github.com/berth-project/berth/store/metadata"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/go-archive/compression"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Progress receives what a pull or push reports, in the shape of docker's
// JSON messages: per-layer statuses (with byte counts while moving) and
// plain lines.
type Progress interface {
	Layer(id, status string, current, total int64)
	Line(status string)
}

// PullOptions are the parameters of a pull.
type PullOptions struct {
	Auth     *registry.AuthConfig
	Platform *ocispec.Platform
}

// SetRegistry gives the service its registry client (pulls fail without).
func (s *Service) SetRegistry(c *client.Client) { s.registry = c }

// pullJobs is how many layers download (and unpack) at once.
const pullJobs = 6

// Pull fetches ref from its registry and records it with its tag and
// repo digest. Every layer streams once: into the content store (its
// digest checked on the way) and, decompressed, into its snapshot (its
// diff ID checked before the snapshot is committed), several at a time.
// The image becomes visible only when all of it is stored; a failure or
// a kill leaves nothing that is visible, and what it wrote is collected.
func (s *Service) Pull(ctx context.Context, ref string, o PullOptions, p Progress) error {
	if s.registry == nil {
		return fmt.Errorf("no registry client: %w", errdefs.ErrNotImplemented)
	}
	n, err := Normalize(ref)
	if err != nil {
		return err
	}
	platform := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if o.Platform != nil {
		platform = *o.Platform
	}
	im, err := s.registry.Resolve(ctx, n, o.Auth, platform)
	if err != nil {
		return err
	}
	if err := checkDescriptors(im); err != nil {
		return fmt.Errorf("%s: %w", reference.FamiliarString(n), err)
	}
	tag := "latest"
	if t, ok := n.(reference.Tagged); ok {
		tag = t.Tag()
	} else if d, ok := n.(reference.Digested); ok {
		tag = d.Digest().String()
	}
	p.Layer(tag, "Pulling from "+reference.Path(n), 0, 0) // dockerd names the repository by its path

	lease := s.NewLease()
	defer lease.Release()
	cfgJSON, err := s.fetchConfig(ctx, im, lease)
	if err != nil {
		return err
	}
	var cfg dockerspec.DockerOCIImage
	if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
		return fmt.Errorf("image config of %s: %w", reference.FamiliarString(n), err)
	}
	if len(cfg.RootFS.DiffIDs) != len(im.Layers) {
		return fmt.Errorf("%s: %d layers for %d diff IDs: %w", reference.FamiliarString(n), len(im.Layers), len(cfg.RootFS.DiffIDs), errdefs.ErrInvalidArgument)
	}
	for _, d := range cfg.RootFS.DiffIDs { // they name snapshot directories
		if err := checkDigest(d); err != nil {
			return fmt.Errorf("%s: diff ID: %w", reference.FamiliarString(n), err)
		}
	}
	downloaded, err := s.fetchLayers(ctx, im, cfg.RootFS.DiffIDs, lease, p)
	if err != nil {
		return err
	}
	id := im.ConfigDesc.Digest
	manDigest, _, created, err := s.content.Ingest(bytes.NewReader(im.Manifest), "")
	if err != nil {
		return err
	}
	if created {
		lease.Wrote(manDigest)
	}
	img := &Image{ID: id, Manifest: manDigest, Layers: im.Layers, Config: &cfg}
	if img.Size, err = s.unpackedSize(cfg.RootFS.DiffIDs); err != nil {
		return err
	}
	var refs []string
	tagMoved := false // docker says "Downloaded newer image" when the tag moves
	if t, ok := n.(reference.NamedTagged); ok {
		refs = append(refs, n.String())
		old, had := s.LookupTag(t)
		tagMoved = !had || old.ID != id
	}
	stored, err := s.Record([]NewImage{{Image: img, Refs: refs}})
	if err != nil {
		return err
	}
	canonical, err := reference.WithDigest(reference.TrimNamed(n), im.Digest)
	if err != nil {
		return err
	}
	if err := s.addRepoDigest(stored[0].Image.ID, canonical.String()); err != nil {
		return err
	}
	p.Line("Digest: " + im.Digest.String())
	s.Publish(eventtypes.ActionPull, id, reference.FamiliarString(n))
	if downloaded || tagMoved {
		p.Line("Status: Downloaded newer image for " + reference.FamiliarString(n))
	} else {
		p.Line("Status: Image is up to date for " + reference.FamiliarString(n))
	}
	return nil
}

// PullAll pulls every tag of a repository (`pull --all-tags`).
func (s *Service) PullAll(ctx context.Context, repo string, o PullOptions, p Progress) error {
	if s.registry == nil {
		return fmt.Errorf("no registry client: %w", errdefs.ErrNotImplemented)
	}
	n, err := reference.ParseNormalizedNamed(repo)
	if err != nil || !reference.IsNameOnly(n) {
		return fmt.Errorf("invalid repository name %q: %w", repo, errdefs.ErrInvalidArgument)
	}
	tags, err := s.registry.Tags(ctx, n, o.Auth)
	if err != nil {
		return err
	}
	for _, tag := range tags {
		t, err := reference.WithTag(n, tag)
		if err != nil {
			continue
		}
		if err := s.Pull(ctx, t.String(), o, p); err != nil {
			return err
		}
	}
	return nil
}

// checkDescriptors refuses a manifest whose digests this store cannot
// take: they become file names, so anything but a valid sha256 or
// sha512 digest (a "sha256:../x") is refused before it is used.
func checkDescriptors(im *client.Image) error {
	if err := checkDigest(im.ConfigDesc.Digest); err != nil || im.ConfigDesc.Digest.Algorithm() != digest.SHA256 {
		return fmt.Errorf("config digest %q: an image ID is a sha256 digest: %w", im.ConfigDesc.Digest, errdefs.ErrInvalidArgument)
	}
	for _, l := range im.Layers {
		if err := checkDigest(l.Digest); err != nil {
			return fmt.Errorf("layer: %w", err)
		}
	}
	return nil
}

func checkDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil || (d.Algorithm() != digest.SHA256 && d.Algorithm() != digest.SHA512) {
		return fmt.Errorf("invalid digest %q: %w", d, errdefs.ErrInvalidArgument)
	}
	return nil
}

// fetchConfig returns the image config, from the store if it has it
// (held), else downloaded once however many pulls want it.
func (s *Service) fetchConfig(ctx context.Context, im *client.Image, lease *Lease) ([]byte, error) {
	d := im.ConfigDesc.Digest
	release, _, err := s.inflight(ctx, d)
	if err != nil {
		return nil, err
	}
	defer release()
	if _, ok := lease.HoldBlob(d); ok {
		if b, err := s.content.ReadAll(d); err == nil {
			return b, nil
		}
	}
	b, err := im.FetchConfig(ctx)
	if err != nil {
		return nil, err
	}
	if _, _, created, err := s.content.Ingest(bytes.NewReader(b), d); err != nil {
		return nil, err
	} else if created {
		lease.Wrote(d)
	}
	return b, nil
}

// unpackedSize is what an image's layers take unpacked, the size docker
// reports (a registry's layer sizes are compressed ones).
func (s *Service) unpackedSize(diffIDs []digest.Digest) (int64, error) {
	var total int64
	for _, c := range identity.ChainIDs(append([]digest.Digest(nil), diffIDs...)) {
		n, err := s.snaps.Size(c)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// fetchLayers stores the layers the store lacks, pullJobs at a time, and
// holds those it has; downloaded says whether any was fetched.
func (s *Service) fetchLayers(ctx context.Context, im *client.Image, diffIDs []digest.Digest, lease *Lease, p Progress) (downloaded bool, err error) {
	chains := identity.ChainIDs(append([]digest.Digest(nil), diffIDs...))
	type job struct {
		i  int
		id string
	}
	var todo []job
	for i, l := range im.Layers {
		id := l.Digest.Encoded()[:12]
		lease.HoldChain(chains[i]) // before looking: no rmi may take it meanwhile
		if s.snaps.Exists(chains[i]) {
			if _, ok := lease.HoldBlob(l.Digest); ok {
				p.Layer(id, "Already exists", 0, 0)
				continue
			}
		}
		p.Layer(id, "Pulling fs layer", 0, 0)
		todo = append(todo, job{i, id})
	}
	if len(todo) == 0 {
		return false, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, pullJobs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, j := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if err := s.fetchLayer(ctx, im, im.Layers[j.i], chains[j.i], diffIDs[j.i], j.id, lease, p); err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return true, first
}

// fetchLayer streams one layer into the content store and its snapshot.
// Two pulls of one blob at once download it once: the second waits.
func (s *Service) fetchLayer(ctx context.Context, im *client.Image, l ocispec.Descriptor, chain, diffID digest.Digest, id string, lease *Lease, p Progress) error {
	release, first, err := s.inflight(ctx, l.Digest)
	if err != nil {
		return err
	}
	defer release()
	if !first && s.snaps.Exists(chain) {
		if _, ok := lease.HoldBlob(l.Digest); ok {
			p.Layer(id, "Pull complete", 0, 0)
			return nil
		}
	}
	rc, err := im.OpenBlob(ctx, l)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	defer rc.Close()
	counted := &progressReader{r: rc, total: l.Size, report: func(n int64) { p.Layer(id, "Downloading", n, l.Size) }}
	// the compressed bytes go to the content store as they are read; it
	// commits them once the download's own check has passed
	blob, err := s.content.NewWriter(l.Digest)
	if err != nil {
		return err
	}
	defer blob.Abort()
	tee := io.TeeReader(counted, blob)
	plain, err := compression.DecompressStream(tee)
	if err == nil {
		check := diffID
		if diffID == l.Digest { // an uncompressed layer: the download's own check covers it
			check = ""
		}
		err = s.snaps.ApplyVerified(chain, plain, check)
		plain.Close()
	}
	if err == nil { // the rest of the compressed stream: the registry's digest check ends it
		_, err = io.Copy(io.Discard, tee)
	}
	if err == nil {
		var created bool
		if created, err = blob.Commit(); created {
			lease.Wrote(l.Digest)
		}
		if err == nil {
			lease.HoldBlob(l.Digest) // stored by another image maybe: held until recorded
		}
	}
	lease.Unpacked(chain)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	// the layer was unpacked as it downloaded: its extraction ends with
	// the download, and is reported then, in docker's order
	p.Layer(id, "Verifying Checksum", 0, 0)
	p.Layer(id, "Download complete", 0, 0)
	p.Layer(id, "Extracting", l.Size, l.Size)
	p.Layer(id, "Pull complete", 0, 0)
	return nil
}

// inflight serialises work on one blob: first is true for the caller that
// does it; others wait for it to finish first (or for ctx).
func (s *Service) inflight(ctx context.Context, d digest.Digest) (release func(), first bool, err error) {
	for waited := false; ; waited = true {
		s.mu.Lock()
		if s.pulling == nil {
			s.pulling = map[digest.Digest]chan struct{}{}
		}
		ch, busy := s.pulling[d]
		if !busy {
			ch = make(chan struct{})
			s.pulling[d] = ch
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				delete(s.pulling, d)
				s.mu.Unlock()
				close(ch)
			}, !waited, nil
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// addRepoDigest records repo@digest (what RepoDigests lists) for an image.
func (s *Service) addRepoDigest(id digest.Digest, canonical string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[id]
	if !ok {
		return fmt.Errorf("image %s: %w", id, errdefs.ErrNotFound)
	}
	upd := *img
	upd.RepoDigests = nil
	repo, _ := reference.ParseNormalizedNamed(canonical)
	for _, d := range img.RepoDigests { // one digest per repository, the newest
		if r, err := reference.ParseNormalizedNamed(d); err == nil && repo != nil && r.Name() == repo.Name() {
			continue
		}
		upd.RepoDigests = append(upd.RepoDigests, d)
	}
	upd.RepoDigests = append(upd.RepoDigests, canonical)
	if err := s.db.Batch(func(tx *metadata.Tx) error { return tx.Put(metadata.Images, id.String(), &upd) }); err != nil {
		return err
	}
	s.images[id] = &upd
	return nil
}

// progressReader reports bytes read, at most every 100ms.
type progressReader struct {
	r      io.Reader
	n      int64
	total  int64
	last   time.Time
	report func(n int64)
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.n += int64(n)
	if now := time.Now(); now.Sub(pr.last) > 100*time.Millisecond || (err == io.EOF && pr.n > 0) {
		pr.last = now
		pr.report(pr.n)
	}
	return n, err
}
