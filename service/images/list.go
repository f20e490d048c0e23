package images

import (
	"sort"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/labels"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/storage"
	"github.com/opencontainers/go-digest"
)

// ListOptions filter `images`.
type ListOptions struct {
	All       bool
	Dangling  *bool
	Reference []string
	Labels    map[string]string // label=key or label=key=value ("" value matches any)
	// Since and Before keep the images created strictly after and before
	// these times (zero: no bound), the since, before and until filters.
	Since, Before time.Time
}

func created(img *Image) time.Time {
	if img.Config.Created != nil {
		return *img.Config.Created
	}
	return time.Time{}
}

// List returns image summaries, newest first.
func (s *Service) List(o ListOptions) []image.Summary {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []image.Summary{}
	for id, img := range s.images {
		tags := s.refsOf(id)
		if o.Dangling != nil && (len(tags) == 0) != *o.Dangling {
			continue
		}
		if !o.All && len(tags) == 0 && s.hasChild(id) {
			continue // intermediate build layers, hidden without -a
		}
		digests := img.RepoDigests
		if len(o.Reference) > 0 { // dockerd filters the digests too
			tags, digests = matchRefs(tags, o.Reference), matchRefs(digests, o.Reference)
			if len(tags) == 0 && len(digests) == 0 {
				continue
			}
		}
		if !labels.Match(img.Config.Config.Labels, o.Labels) {
			continue
		}
		if c := created(img); (!o.Since.IsZero() && !c.After(o.Since)) || (!o.Before.IsZero() && !c.Before(o.Before)) {
			continue
		}
		sum := image.Summary{
			ID:          id.String(),
			Created:     created(img).Unix(),
			Labels:      img.Config.Config.Labels,
			ParentID:    string(img.Parent),
			RepoTags:    tags,
			RepoDigests: familiarAll(digests),
			Size:        img.Size,
			SharedSize:  -1,
			Containers:  -1,
		}
		if sum.RepoTags == nil {
			sum.RepoTags = []string{}
		}
		out = append(out, sum)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Created != out[j].Created {
			return out[i].Created > out[j].Created
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (s *Service) hasChild(id digest.Digest) bool {
	for _, img := range s.images {
		if img.Parent == id {
			return true
		}
	}
	return false
}

// matchRefs keeps tags matching any pattern, as Docker's reference filter:
// the pattern is matched against the familiar name and name:tag.
func matchRefs(tags, patterns []string) []string {
	var out []string
	for _, t := range tags {
		n, err := reference.ParseNormalizedNamed(t)
		if err != nil {
			continue
		}
		for _, p := range patterns {
			if ok, _ := reference.FamiliarMatch(p, n); ok {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// Inspect returns Docker's image inspect document.
func (s *Service) Inspect(refOrID string) (*image.InspectResponse, error) {
	img, err := s.Resolve(refOrID)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	cfg := img.Config
	diffIDs := make([]string, len(cfg.RootFS.DiffIDs))
	for i, d := range cfg.RootFS.DiffIDs {
		diffIDs[i] = d.String()
	}
	resp := &image.InspectResponse{
		ID:           img.ID.String(),
		RepoTags:     s.refsOf(img.ID),
		RepoDigests:  familiarAll(img.RepoDigests),
		Author:       cfg.Author,
		Config:       &cfg.Config,
		Architecture: cfg.Architecture,
		Variant:      cfg.Variant,
		Os:           cfg.OS,
		Size:         img.Size,
		RootFS:       image.RootFS{Type: cfg.RootFS.Type, Layers: diffIDs},
		GraphDriver:  &storage.DriverData{Name: "overlay2", Data: map[string]string{}},
	}
	if resp.RepoTags == nil {
		resp.RepoTags = []string{}
	}
	if cfg.Created != nil {
		resp.Created = cfg.Created.Format(time.RFC3339Nano)
	}
	if n := len(cfg.History); n > 0 && cfg.History[n-1].Comment != "" && !strings.HasPrefix(cfg.History[n-1].Comment, "berth") {
		resp.Comment = cfg.History[n-1].Comment
	}
	var last time.Time
	for _, t := range s.tags {
		if t.ID == img.ID && t.Updated.After(last) {
			last = t.Updated
		}
	}
	if !last.IsZero() {
		resp.Metadata.LastTagTime = last
	}
	return resp, nil
}

// History returns the image's history, newest first, as `image history`.
func (s *Service) History(refOrID string) ([]image.HistoryResponseItem, error) {
	img, err := s.Resolve(refOrID)
	if err != nil {
		return nil, err
	}
	hist := img.Config.History
	out := make([]image.HistoryResponseItem, 0, len(hist))
	layer := 0
	for _, h := range hist {
		item := image.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: []string{}}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if !h.EmptyLayer && layer < len(img.Layers) {
			item.Size = img.Layers[layer].Size
			layer++
		}
		out = append(out, item)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	// Each image of the parent chain (a build's steps) names the history
	// entry that made it, as Docker shows for locally built images.
	for cur := img; cur != nil; {
		n := len(cur.Config.History)
		if n == 0 || n > len(out) {
			break
		}
		item := &out[len(out)-n]
		item.ID = cur.ID.String()
		if item.Tags = s.Tags(cur.ID); item.Tags == nil {
			item.Tags = []string{}
		}
		if cur.Parent == "" {
			break
		}
		cur, _ = s.Get(cur.Parent)
	}
	return out, nil
}

// familiarAll shortens normalized references (docker.io/library/x → x).
func familiarAll(refs []string) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		if n, err := reference.ParseNormalizedNamed(r); err == nil {
			r = reference.FamiliarString(n)
		}
		out = append(out, r)
	}
	return out
}
