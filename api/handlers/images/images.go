package images

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	"github.com/berth-project/berth/internal/labels"
	svc "github.com/berth-project/berth/service/images"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
)

type handlers struct {
	b Backend
	a Archives
}

// Register adds the image routes.
func Register(rt *server.Router, b Backend, a Archives) {
	h := handlers{b, a}
	rt.Handle("GET /images/json", h.list)
	rt.Handle("POST /images/create", h.create)
	rt.Handle("POST /images/prune", h.prune)
	rt.Handle("GET /images/get", h.saveAll)
	rt.Handle("POST /images/load", h.load)
	// Image names contain slashes: dispatch on the suffix ourselves.
	rt.Handle("GET /images/{rest...}", h.get)
	rt.Handle("POST /images/{rest...}", h.post)
	rt.Handle("DELETE /images/{rest...}", h.remove)
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) error {
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	for k := range f {
		switch k {
		case "dangling", "label", "before", "since", "reference", "until":
		default:
			return fmt.Errorf("invalid filter '%s': %w", k, errdefs.ErrInvalidArgument)
		}
	}
	o := svc.ListOptions{All: httputil.Bool(r, "all"), Reference: f["reference"], Labels: labels.Parse(f["label"])}
	if err := h.createdBounds(f, &o); err != nil {
		return err
	}
	for _, d := range f["dangling"] {
		v := d == "true" || d == "1"
		o.Dangling = &v
	}
	if ref := r.URL.Query().Get("filter"); ref != "" {
		o.Reference = append(o.Reference, ref)
	}
	return httputil.WriteJSON(w, http.StatusOK, h.b.List(o))
}

func (h handlers) get(w http.ResponseWriter, r *http.Request) error {
	name, action := server.SplitImagePath(r.PathValue("rest"), "json", "history", "get")
	switch action {
	case "get":
		return h.save(w, r, []string{name})
	case "json":
		resp, err := h.b.Inspect(name)
		if err != nil {
			return err
		}
		img, _ := h.b.Resolve(resp.ID)
		return httputil.WriteJSON(w, http.StatusOK, legacyInspect(resp, img))
	case "history":
		resp, err := h.b.History(name)
		if err != nil {
			return err
		}
		return httputil.WriteJSON(w, http.StatusOK, resp)
	}
	return errdefs.ErrNotFound.WithMessage("page not found")
}

func (h handlers) post(w http.ResponseWriter, r *http.Request) error {
	name, action := server.SplitImagePath(r.PathValue("rest"), "tag", "push")
	switch action {
	case "tag":
		repo, tag := r.URL.Query().Get("repo"), r.URL.Query().Get("tag")
		if repo == "" {
			return errdefs.ErrInvalidArgument.WithMessage("repository name must have at least one component")
		}
		if tag != "" {
			repo += ":" + tag
		}
		if err := h.b.Tag(name, repo); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	case "push":
		return h.push(w, r, name)
	}
	return errdefs.ErrNotFound.WithMessage("page not found")
}

func (h handlers) remove(w http.ResponseWriter, r *http.Request) error {
	resp, err := h.b.Remove(r.PathValue("rest"), httputil.Bool(r, "force"), !httputil.Bool(r, "noprune"))
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, resp)
}

func (h handlers) prune(w http.ResponseWriter, r *http.Request) error {
	f, err := httputil.Filters(r)
	if err != nil {
		return err
	}
	all := false
	for _, d := range f["dangling"] {
		all = d == "false" || d == "0"
	}
	rep, err := h.b.Prune(all, labels.Parse(f["label"]))
	if err != nil {
		return err
	}
	return httputil.WriteJSON(w, http.StatusOK, rep)
}

// create is both import (fromSrc) and pull (fromImage).
func (h handlers) create(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if src := q.Get("fromSrc"); src != "" {
		if src != "-" {
			return errdefs.ErrNotImplemented.WithMessage("importing from a URL is not supported yet")
		}
		ref := q.Get("repo")
		if ref != "" && q.Get("tag") != "" {
			ref += ":" + q.Get("tag")
		}
		img, err := h.b.Import(r.Body, svc.ImportOptions{Ref: ref, Changes: q["changes"], Message: q.Get("message"), Platform: q.Get("platform"), Source: src})
		if err != nil {
			return err
		}
		return httputil.NewJSONStream(w).Send(map[string]string{"status": img.ID.String()})
	}
	ref := q.Get("fromImage")
	if tag := q.Get("tag"); tag != "" {
		if strings.HasPrefix(tag, "sha256:") {
			ref += "@" + tag
		} else {
			ref += ":" + tag
		}
	}
	all := false
	if q.Get("tag") == "" {
		if n, err := reference.ParseNormalizedNamed(ref); err == nil && reference.IsNameOnly(n) {
			all = true
		}
	}
	return h.pull(w, r, ref, all)
}

// createdBounds turns the since and before filters (images: the newest
// since, the oldest before, as dockerd ANDs several) and until (a time or
// a duration ago) into the list's bounds.
func (h handlers) createdBounds(f map[string][]string, o *svc.ListOptions) error {
	created := func(ref string) (time.Time, error) {
		img, err := h.b.Resolve(ref)
		if err != nil {
			return time.Time{}, err
		}
		if img.Config.Created == nil {
			return time.Time{}, nil
		}
		return *img.Config.Created, nil
	}
	for _, ref := range f["since"] {
		t, err := created(ref)
		if err != nil {
			return err
		}
		if t.After(o.Since) {
			o.Since = t
		}
	}
	earlier := func(t time.Time) {
		if o.Before.IsZero() || t.Before(o.Before) {
			o.Before = t
		}
	}
	for _, ref := range f["before"] {
		t, err := created(ref)
		if err != nil {
			return err
		}
		earlier(t)
	}
	for _, v := range f["until"] {
		if d, err := time.ParseDuration(v); err == nil {
			earlier(time.Now().Add(-d))
			continue
		}
		t, err := httputil.ParseTime(v)
		if err != nil {
			return err
		}
		earlier(t)
	}
	return nil
}
