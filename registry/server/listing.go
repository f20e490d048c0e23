package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// page cuts a sorted list after `last` to at most `n` entries and says
// whether more follow.
func page(all []string, q url.Values) (out []string, n int, more bool, err error) {
	n = -1
	if s := q.Get("n"); s != "" {
		if n, err = strconv.Atoi(s); err != nil || n < 0 {
			return nil, 0, false, errPaginationInvalid()
		}
	}
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(all, last)
		if i < len(all) && all[i] == last {
			i++
		}
		all = all[i:]
	}
	if n >= 0 && len(all) > n {
		return all[:n], n, n > 0, nil
	}
	return all, n, false, nil
}

func writeJSON(w http.ResponseWriter, contentType string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, err = w.Write(b)
	return err
}

// nextLink is the RFC 5988 Link header of the following page.
func nextLink(w http.ResponseWriter, path string, n int, last string) {
	w.Header().Set("Link", "<"+path+"?n="+strconv.Itoa(n)+"&last="+url.QueryEscape(last)+`>; rel="next"`)
}

func (g *Registry) tagList(w http.ResponseWriter, r *http.Request, rt route) error {
	if !g.store.repoExists(rt.name) {
		return errNameUnknown(rt.name)
	}
	tags, err := g.store.tags(rt.name)
	if err != nil {
		return err
	}
	out, n, more, err := page(tags, r.URL.Query())
	if err != nil {
		return err
	}
	if more {
		nextLink(w, "/v2/"+rt.name+"/tags/list", n, out[len(out)-1])
	}
	return writeJSON(w, "application/json", map[string]any{"name": rt.name, "tags": out})
}

func (g *Registry) catalog(w http.ResponseWriter, r *http.Request) error {
	repos, err := g.store.repositories()
	if err != nil {
		return err
	}
	out, n, more, err := page(repos, r.URL.Query())
	if err != nil {
		return err
	}
	if more {
		nextLink(w, "/v2/_catalog", n, out[len(out)-1])
	}
	if out == nil {
		out = []string{}
	}
	return writeJSON(w, "application/json", map[string]any{"repositories": out})
}

// referrers answers the referrers API: an index of the manifests whose
// subject is the digest, filtered by artifactType if asked.
func (g *Registry) referrers(w http.ResponseWriter, r *http.Request, rt route) error {
	d, err := parseDigest(rt.ref)
	if err != nil {
		return err
	}
	want := r.URL.Query().Get("artifactType")
	ents, err := os.ReadDir(g.store.referrersDir(rt.name, d))
	if err != nil && !errNotExist(err) {
		return err
	}
	descs := []ocispec.Descriptor{}
	for _, e := range ents {
		b, err := os.ReadFile(g.store.referrersDir(rt.name, d) + "/" + e.Name())
		if err != nil {
			continue
		}
		var desc ocispec.Descriptor
		if json.Unmarshal(b, &desc) != nil || !exists(g.store.revisionLink(rt.name, desc.Digest)) {
			continue
		}
		if want != "" && desc.ArtifactType != want {
			continue
		}
		descs = append(descs, desc)
	}
	sort.Slice(descs, func(i, j int) bool { return descs[i].Digest < descs[j].Digest })
	if want != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	return writeJSON(w, ocispec.MediaTypeImageIndex, ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: descs,
	})
}

// searchResult is one hit of the v1 search API, as Docker Hub answers it.
type searchResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int    `json:"star_count"`
	IsOfficial  bool   `json:"is_official"`
	IsAutomated bool   `json:"is_automated"`
}

// search is Docker Hub's /v1/search over this registry's repositories
// (the reference registry has none, so `docker search` fails there).
func (g *Registry) search(w http.ResponseWriter, r *http.Request) error {
	q := strings.ToLower(r.URL.Query().Get("q"))
	n := 25
	if s := r.URL.Query().Get("n"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	repos, err := g.store.repositories()
	if err != nil {
		return err
	}
	results := []searchResult{}
	for _, name := range repos {
		if !strings.Contains(name, q) {
			continue
		}
		results = append(results, searchResult{Name: name})
		if len(results) == n {
			break
		}
	}
	return writeJSON(w, "application/json", map[string]any{
		"num_results": len(results), "query": q, "page": 1, "num_pages": 1, "page_size": n, "results": results,
	})
}
