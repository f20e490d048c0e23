// Package build serves POST /build, Docker's classic builder API: the
// context is the request body (a tar), progress is a JSON stream of
// {"stream": …} messages, the image ID comes as {"aux": {"ID": …}}.
package build

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/api/httperr"
	"github.com/berth-project/berth/api/httputil"
	"github.com/berth-project/berth/api/server"
	svc "github.com/berth-project/berth/service/build"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/registry"
)

type handlers struct{ b Backend }

// Register adds the build route.
func Register(rt *server.Router, b Backend) {
	rt.Handle("POST /build", handlers{b}.build)
	rt.Handle("POST /build/prune", handlers{b}.prune)
}

func (h handlers) prune(w http.ResponseWriter, r *http.Request) error {
	deleted, space, err := h.b.PruneCache(httputil.Bool(r, "all"))
	if err != nil {
		return err
	}
	if deleted == nil {
		deleted = []string{}
	}
	return httputil.WriteJSON(w, http.StatusOK, build.CachePruneReport{CachesDeleted: deleted, SpaceReclaimed: space})
}

// streamWriter turns writes into {"stream": …} messages; until the first
// one, nothing has been sent, so an early error can still be an HTTP error.
type streamWriter struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	started bool
	quiet   bool
	held    bytes.Buffer // with -q: the output, replayed if the build fails (as moby)
}

func (s *streamWriter) start() {
	if !s.started {
		s.started = true
		s.w.Header().Set("Content-Type", "application/json")
		s.w.WriteHeader(http.StatusOK)
	}
}

func (s *streamWriter) send(v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.start()
	_ = httputil.WriteJSONBody(s.w, v)
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *streamWriter) Write(p []byte) (int, error) {
	if s.quiet {
		s.mu.Lock()
		s.held.Write(p)
		s.mu.Unlock()
		return len(p), nil
	}
	s.send(map[string]string{"stream": string(p)})
	return len(p), nil
}

func (h handlers) build(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	o := svc.Options{Dockerfile: q.Get("dockerfile"), Tags: q["t"], Target: q.Get("target"), NoCache: httputil.Bool(r, "nocache"),
		Remove: q.Get("rm") != "0" && q.Get("rm") != "false", ForceRm: httputil.Bool(r, "forcerm"), Network: q.Get("networkmode"),
		ExtraHosts: q["extrahosts"], CgroupParent: q.Get("cgroupparent"), Epoch: time.Unix(0, 0).UTC()}
	if v := q.Get("buildargs"); v != "" {
		if err := json.Unmarshal([]byte(v), &o.BuildArgs); err != nil {
			return fmt.Errorf("invalid buildargs: %v: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	if err := resources(r, &o); err != nil {
		return err
	}
	o.Pull = httputil.Bool(r, "pull")
	if v := r.Header.Get("X-Registry-Config"); v != "" {
		o.Auths = registryConfig(v)
	}
	if v := q.Get("cachefrom"); v != "" {
		if err := json.Unmarshal([]byte(v), &o.CacheFrom); err != nil {
			return fmt.Errorf("invalid cachefrom: %v: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	if v := q.Get("labels"); v != "" {
		if err := json.Unmarshal([]byte(v), &o.Labels); err != nil {
			return fmt.Errorf("invalid labels: %v: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	if o.Network == "default" {
		o.Network = ""
	}
	// SOURCE_DATE_EPOCH as a build arg (BuildKit's way) or in berthd's environment
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if v, ok := o.BuildArgs["SOURCE_DATE_EPOCH"]; ok && v != nil {
		epoch = *v
	}
	if epoch != "" {
		n, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return fmt.Errorf("invalid SOURCE_DATE_EPOCH %q: %w", epoch, errdefs.ErrInvalidArgument)
		}
		o.Epoch = time.Unix(n, 0).UTC()
	}
	body := io.Reader(r.Body)
	if remote := q.Get("remote"); remote != "" {
		// a context tar (possibly compressed) at a URL
		resp, err := fetch(r, remote)
		if err != nil {
			return err
		}
		defer resp.Close()
		body = resp
	}
	sw := &streamWriter{w: w, quiet: httputil.Bool(r, "q")}
	id, err := h.b.Build(r.Context(), body, o, sw)
	if err != nil {
		var be *svc.Error
		isBuildErr := errors.As(err, &be)
		if !sw.started && !isBuildErr {
			return err // nothing sent yet: a plain HTTP error
		}
		msg := httperr.Message(err)
		if sw.quiet && sw.held.Len() > 0 {
			sw.send(map[string]string{"stream": sw.held.String()})
		}
		detail := map[string]any{"message": msg}
		if be != nil && be.Code != 0 {
			detail["code"] = be.Code // a failing RUN's exit code: the CLI exits with it
		}
		sw.send(map[string]any{"errorDetail": detail, "error": msg})
		return nil
	}
	sw.send(map[string]any{"aux": map[string]string{"ID": id.String()}})
	if sw.quiet {
		// what `docker build -q` prints: dockerd's only text in quiet mode
		sw.send(map[string]string{"stream": id.String() + "\n"})
	} else {
		sw.send(map[string]string{"stream": "Successfully built " + id.Encoded()[:12] + "\n"})
		for _, t := range o.Tags {
			sw.send(map[string]string{"stream": "Successfully tagged " + h.b.Familiar(t) + "\n"})
		}
	}
	return nil
}

var _ io.Writer = (*streamWriter)(nil)

func fetch(r *http.Request, url string) (io.ReadCloser, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("remote contexts other than http(s) tar URLs are not supported: %s: %w", url, errdefs.ErrNotImplemented)
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("unable to download remote context %s: %v: %w", url, err, errdefs.ErrInvalidArgument)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("unable to download remote context %s: %s: %w", url, resp.Status, errdefs.ErrInvalidArgument)
	}
	return resp.Body, nil
}

// resources reads the RUN containers' limits from the query, as dockerd's
// build router does (numbers that do not parse are 0, except shmsize).
func resources(r *http.Request, o *svc.Options) error {
	q := r.URL.Query()
	num := func(k string) int64 {
		n, _ := strconv.ParseInt(q.Get(k), 10, 64)
		return n
	}
	o.Resources.Memory, o.Resources.MemorySwap = num("memory"), num("memswap")
	o.Resources.CPUShares, o.Resources.CPUPeriod, o.Resources.CPUQuota = num("cpushares"), num("cpuperiod"), num("cpuquota")
	o.Resources.CpusetCpus, o.Resources.CpusetMems = q.Get("cpusetcpus"), q.Get("cpusetmems")
	if v := q.Get("shmsize"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("invalid shmsize %q: %w", v, errdefs.ErrInvalidArgument)
		}
		o.ShmSize = n
	}
	if v := q.Get("ulimits"); v != "" {
		if err := json.Unmarshal([]byte(v), &o.Resources.Ulimits); err != nil {
			return fmt.Errorf("error reading ulimit settings: %v: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// registryConfig reads X-Registry-Config: base64url JSON of registry →
// credentials, as the docker CLI sends every stored login with a build.
// Unreadable values count as none.
func registryConfig(v string) map[string]registry.AuthConfig {
	b, err := base64.URLEncoding.DecodeString(v)
	if err != nil {
		if b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "=")); err != nil {
			return nil
		}
	}
	var m map[string]registry.AuthConfig
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}
