// Package build turns a Dockerfile and a context into an image, the way
// Docker's classic builder does: each step is an image whose parent is the
// previous step's, RUN steps are containers, and the cache is a child of
// the current image made by the same instruction (same expanded text, same
// build args, same content checksum for COPY/ADD). Layers and configs carry
// fixed timestamps (SOURCE_DATE_EPOCH or the Unix epoch) and normalised
// tar headers, so a build is reproducible.
package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/ids"
	"github.com/berth-project/berth/service/containers"
	"github.com/berth-project/berth/service/images"
	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options are the parameters of one build (the /build query).
type Options struct {
	Dockerfile string             // path in the context; default "Dockerfile"
	Tags       []string           // references to tag the result with
	BuildArgs  map[string]*string // --build-arg
	Target     string             // stop after this stage
	NoCache    bool
	CacheFrom  []string // images whose steps may be reused, instead of the local cache
	// Pull refreshes base images from their registries (--pull); a base
	// image missing here is pulled either way.
	Pull bool
	// Auths are the credentials per registry (X-Registry-Config).
	Auths        map[string]registry.AuthConfig
	Labels       map[string]string
	Remove       bool // remove intermediate containers of successful steps (default true)
	ForceRm      bool // remove them after failures too
	Network      string
	CgroupParent string // of the RUN containers (--cgroup-parent)
	// Resources are the RUN containers' limits (--memory, --cpu-shares,
	// --ulimit, …; CgroupParent is set from the field above), ShmSize their
	// /dev/shm; none of them reaches the image.
	Resources  container.Resources
	ShmSize    int64
	ExtraHosts []string
	Epoch      time.Time // timestamps in layers and config (SOURCE_DATE_EPOCH)
}

// Builder runs builds.
type Builder struct {
	images     *images.Service
	containers *containers.Service
	tmp        string
}

// New returns a builder keeping its scratch files under tmp.
func New(imgs *images.Service, ctrs *containers.Service, tmp string) (*Builder, error) {
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	return &Builder{images: imgs, containers: ctrs, tmp: tmp}, nil
}

// Error is a build failure reported to the client as an errorDetail;
// Code is a failing RUN's exit code (the CLI exits with it).
type Error struct {
	Msg  string
	Code int
}

func (e *Error) Error() string { return e.Msg }

func failf(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

// stage is the state of one FROM … section.
type stage struct {
	name   string
	img    *images.Image // current image; nil for scratch before any step
	cfg    dockerspec.DockerOCIImage
	layers []ocispec.Descriptor
	args   map[string]string // ARGs in scope with their values
	shell  []string
	cmdSet bool // a CMD was given in this stage (ENTRYPOINT then keeps it)
}

func (s *stage) id() digest.Digest {
	if s.img == nil {
		return ""
	}
	return s.img.ID
}

// Build runs the Dockerfile in the context read from r (a tar), writing
// Docker's progress lines to out, and returns the final image.
func (b *Builder) Build(ctx context.Context, r io.Reader, o Options, out io.Writer) (*images.Image, error) {
	dir, err := os.MkdirTemp(b.tmp, "ctx-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := extractContext(r, dir); err != nil {
		return nil, fmt.Errorf("read build context: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	name := o.Dockerfile
	if name == "" {
		name = "Dockerfile"
	}
	dfPath, err := containedPath(dir, name)
	if err != nil {
		return nil, err
	}
	df, err := os.ReadFile(dfPath)
	if err != nil {
		return nil, fmt.Errorf("Cannot locate specified Dockerfile: %s: %w", name, errdefs.ErrInvalidArgument)
	}
	if err := removeIgnored(dir, name); err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(df))
	if err != nil {
		return nil, fmt.Errorf("Dockerfile parse error %s: %w", strings.TrimPrefix(err.Error(), "dockerfile parse error "), errdefs.ErrInvalidArgument)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("Dockerfile parse error %s: %w", parseErrorText(err), errdefs.ErrInvalidArgument)
	}
	if syntax, _, _, ok := parser.DetectSyntax(df); ok {
		fmt.Fprintf(out, "# syntax=%s is ignored: berth's builder parses the Dockerfile itself\n", syntax)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("the Dockerfile (%s) cannot be empty: %w", name, errdefs.ErrInvalidArgument)
	}
	last := len(stages) - 1
	if o.Target != "" {
		last = -1
		for i, s := range stages {
			if strings.EqualFold(s.Name, o.Target) {
				last = i
			}
		}
		if last < 0 {
			return nil, fmt.Errorf("target stage %q could not be found: %w", o.Target, errdefs.ErrInvalidArgument)
		}
	}
	lex := shell.NewLex(res.EscapeToken)
	// ARGs before the first FROM: defaults overridden by --build-arg
	global := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if v, ok := o.BuildArgs[kv.Key]; ok && v != nil {
				global[kv.Key] = *v
			} else if kv.Value != nil {
				v, _, err := lex.ProcessWord(*kv.Value, shell.EnvsFromSlice(envList(global)))
				if err != nil {
					return nil, err
				}
				global[kv.Key] = v
			}
		}
	}
	// stages the target needs; FROM ${ARG} is expanded with the global args
	need := neededStages(stages, last, func(w string) string {
		v, _, err := lex.ProcessWord(w, shell.EnvsFromSlice(envList(global)))
		if err != nil {
			return w
		}
		return v
	})
	total := len(metaArgs) // the classic builder counts ARGs before FROM as steps
	for i := range stages {
		if need[i] {
			total += 1 + len(stages[i].Commands)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	br := &run{b: b, ctx: ctx, o: o, out: out, dir: dir, lex: lex, global: global, total: total, stages: map[string]*stageRun{},
		cache: b.cacheFrom(o.CacheFrom)}
	for _, a := range metaArgs {
		br.stepHeader(strings.TrimSpace(a.String()))
	}
	// Independent stages run concurrently: each waits only for the stages
	// it names (FROM, COPY --from). Their output is kept in stage order: a
	// stage streams once the ones before it are done, buffered until then.
	var order []int
	for i := 0; i <= last; i++ {
		if need[i] {
			order = append(order, i)
		}
	}
	ordered := newOrderedOutput(out, len(order))
	step := br.step
	// every stage is registered before any runs: they look each other up
	runs := make([]*stageRun, len(order))
	for k, i := range order {
		runs[k] = &stageRun{index: i, finished: make(chan struct{})}
		br.stages[strconv.Itoa(i)] = runs[k]
		if stages[i].Name != "" {
			br.stages[strings.ToLower(stages[i].Name)] = runs[k]
		}
	}
	for k, i := range order {
		sr := runs[k]
		rr := *br
		rr.out, rr.step = ordered.writer(k), step
		rr.lex = shell.NewLex(res.EscapeToken) // a Lex is not safe for concurrent use
		step += 1 + len(stages[i].Commands)
		go func(k, i int, rr *run) {
			defer ordered.finish(k)
			defer close(sr.finished)
			sr.st, sr.err = rr.stage(stages[i], i)
			if sr.err != nil {
				cancel()
			}
		}(k, i, &rr)
	}
	var final *stage
	for _, sr := range runs {
		<-sr.finished
	}
	for _, sr := range runs { // the first failure in stage order is the build's
		if sr.err != nil && !errors.Is(sr.err, context.Canceled) {
			return nil, sr.err
		}
	}
	for _, sr := range runs {
		if sr.err != nil {
			return nil, sr.err
		}
		final = sr.st
	}
	br.step = step
	if final.img == nil && len(o.Labels) == 0 {
		return nil, failf("No image was generated. Is your Dockerfile empty?")
	}
	if len(o.Labels) > 0 {
		// scratch without steps, or --label: one more (metadata) image
		if final.cfg.Config.Labels == nil && len(o.Labels) > 0 {
			final.cfg.Config.Labels = map[string]string{}
		}
		keys := make([]string, 0, len(o.Labels))
		for k := range o.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		pairs := make([]string, len(keys))
		for i, k := range keys {
			final.cfg.Config.Labels[k] = o.Labels[k]
			pairs[i] = fmt.Sprintf("%q='%s'", k, o.Labels[k]) // dockerd's LABEL line for --label
		}
		// the values are part of the step, so of its cache key
		if err := br.commit(final, nop(final, "LABEL "+strings.Join(pairs, " ")), nil, true); err != nil {
			return nil, err
		}
	}
	warnUnusedArgs(out, o.BuildArgs, stages, metaArgs, need)
	for _, t := range o.Tags {
		if err := b.images.Tag(final.img.ID.String(), t); err != nil {
			return nil, err
		}
	}
	return final.img, nil
}

// warnUnusedArgs prints dockerd's warning for --build-args that no ARG of
// the stages built declares (the proxy settings excepted).
func warnUnusedArgs(out io.Writer, given map[string]*string, stages []instructions.Stage, meta []instructions.ArgCommand, built map[int]bool) {
	declared := map[string]bool{}
	for _, a := range meta {
		for _, kv := range a.Args {
			declared[kv.Key] = true
		}
	}
	for i, s := range stages {
		if !built[i] {
			continue
		}
		for _, c := range s.Commands {
			if a, ok := c.(*instructions.ArgCommand); ok {
				for _, kv := range a.Args {
					declared[kv.Key] = true
				}
			}
		}
	}
	var unused []string
	for k := range given {
		if !declared[k] && !predefinedArgs[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Fprintf(out, "[Warning] One or more build-args %v were not consumed\n", unused)
	}
}

// parseErrorText words instruction errors as Docker does: "on line N: …".
func parseErrorText(err error) string {
	msg := err.Error()
	if loc, ok := findLocation(err); ok {
		return fmt.Sprintf("on line %d: %s", loc, strings.TrimPrefix(msg, "dockerfile parse error on line "+strconv.Itoa(loc)+": "))
	}
	return msg
}

func findLocation(err error) (int, bool) {
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		return le.Locations[0][0].Start.Line, true
	}
	return 0, false
}

// neededStages marks the stages the target depends on (FROM <stage>,
// COPY --from=<stage>); the others are skipped.
func neededStages(stages []instructions.Stage, target int, expand func(string) string) map[int]bool {
	byName := map[string]int{}
	for i, s := range stages {
		if s.Name != "" {
			byName[strings.ToLower(s.Name)] = i
		}
	}
	need := map[int]bool{}
	var mark func(i int)
	mark = func(i int) {
		if need[i] {
			return
		}
		need[i] = true
		if j, ok := byName[strings.ToLower(expand(stages[i].BaseName))]; ok && j < i {
			mark(j)
		}
		for _, c := range stages[i].Commands {
			if cp, ok := c.(*instructions.CopyCommand); ok && cp.From != "" {
				if j, ok := byName[strings.ToLower(cp.From)]; ok {
					mark(j)
				} else if n, err := strconv.Atoi(cp.From); err == nil && n < i {
					mark(n)
				}
			}
		}
	}
	mark(target)
	return need
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// containedPath joins name to root, refusing anything that leaves it.
func containedPath(root, name string) (string, error) {
	p := filepath.Join(root, filepath.Clean("/"+name))
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("forbidden path outside the build context: %s: %w", name, errdefs.ErrInvalidArgument)
	}
	return p, nil
}

func shortID(d digest.Digest) string { return ids.Short(d.Encoded()) }

// stageRun is one stage of a build in flight.
type stageRun struct {
	index    int
	finished chan struct{}
	st       *stage
	err      error
}

// orderedOutput keeps concurrent stages' output in stage order.
type orderedOutput struct {
	mu   sync.Mutex
	w    io.Writer
	bufs []bytes.Buffer
	done []bool
	cur  int
}

func newOrderedOutput(w io.Writer, n int) *orderedOutput {
	return &orderedOutput{w: w, bufs: make([]bytes.Buffer, n), done: make([]bool, n)}
}

type stageWriter struct {
	o *orderedOutput
	k int
}

func (o *orderedOutput) writer(k int) io.Writer { return stageWriter{o, k} }

func (s stageWriter) Write(p []byte) (int, error) {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	if s.k == s.o.cur {
		return s.o.w.Write(p)
	}
	return s.o.bufs[s.k].Write(p)
}

// finish marks stage k done and lets the next stages' output through.
func (o *orderedOutput) finish(k int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done[k] = true
	for o.cur < len(o.done) && o.done[o.cur] {
		o.cur++
		if o.cur < len(o.bufs) {
			_, _ = o.w.Write(o.bufs[o.cur].Bytes())
			o.bufs[o.cur].Reset()
		}
	}
}
