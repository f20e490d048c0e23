package build

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/service/containers"
	"github.com/berth-project/berth/service/images"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// run is one build in progress.
type run struct {
	b       *Builder
	ctx     context.Context
	o       Options
	out     io.Writer
	dir     string // the extracted context
	lex     *shell.Lex
	global  map[string]string
	total   int
	step    int
	stages  map[string]*stageRun // the build's stages by index and lower-case name
	holdID  bool                 // commit leaves printing the ID to the caller
	current int                  // index of the stage this run copy builds
	cache   *cacheSources        // --cache-from images; nil: the local cache
}

// defaultPath is the PATH a stage gets when its image sets none (dockerd's
// system.DefaultPathEnv for Linux).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// predefined ARGs usable without declaring them.
var predefinedArgs = map[string]bool{"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true, "NO_PROXY": true, "no_proxy": true, "ALL_PROXY": true, "all_proxy": true}

func (r *run) printf(format string, a ...any) { fmt.Fprintf(r.out, format, a...) }

// stderrWriter marks a RUN step's stderr in red, as the classic builder
// does (its clients show it so).
type stderrWriter struct{ w io.Writer }

func (s stderrWriter) Write(p []byte) (int, error) {
	if _, err := s.w.Write([]byte("\x1b[91m" + string(p) + "\x1b[0m")); err != nil {
		return 0, err
	}
	return len(p), nil
}

// stage_ waits for an earlier stage of this build named ref (a name or an
// index) and returns its result.
func (r *run) stage_(ref string, before int) (*stage, bool) {
	sr, ok := r.stages[strings.ToLower(ref)]
	if !ok || sr.index >= before {
		return nil, false
	}
	<-sr.finished
	return sr.st, sr.st != nil
}

func (r *run) stepHeader(text string) {
	r.step++
	r.printf("Step %d/%d : %s\n", r.step, r.total, text)
}

// env is what ${VAR} sees in a stage: its ENV, then the ARGs in scope.
func (r *run) env(st *stage) shell.EnvGetter {
	env := append([]string(nil), st.cfg.Config.Env...)
	for _, kv := range envList(st.args) {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := lookupEnv(env, k); !ok {
			env = append(env, kv)
		}
	}
	return shell.EnvsFromSlice(env)
}

func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(env[i], "="); k == key {
			return v, true
		}
	}
	return "", false
}

func (r *run) expander(st *stage) instructions.SingleWordExpander {
	return func(word string) (string, error) {
		v, _, err := r.lex.ProcessWord(word, r.env(st))
		return v, err
	}
}

func (r *run) stage(s instructions.Stage, index int) (*stage, error) {
	r.current = index
	st := &stage{name: s.Name, args: map[string]string{}, shell: []string{"/bin/sh", "-c"}}
	base, _, err := r.lex.ProcessWord(s.BaseName, shell.EnvsFromSlice(envList(r.global)))
	if err != nil {
		return nil, err
	}
	r.stepHeader(s.SourceCode)
	if prev, ok := r.stage_(base, index); ok {
		st.img, st.cfg, st.layers = prev.img, cloneConfig(prev.cfg), append([]ocispec.Descriptor(nil), prev.layers...)
	} else if strings.EqualFold(base, "scratch") {
		st.cfg = dockerspec.DockerOCIImage{Image: ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: goarch()}, RootFS: ocispec.RootFS{Type: "layers"}}}
		r.printf(" ---> \n")
	} else {
		img, err := r.baseImage(base)
		if err != nil {
			return nil, err
		}
		st.img, st.cfg, st.layers = img, cloneConfig(*img.Config), append([]ocispec.Descriptor(nil), img.Layers...)
	}
	if st.img != nil {
		r.printf(" ---> %s\n", shortID(st.img.ID))
	}
	if sh := st.cfg.Config.Shell; len(sh) > 0 {
		st.shell = append([]string(nil), sh...) // SHELL is inherited
	}
	// dockerd gives a stage the default PATH when its image has none
	if _, ok := lookupEnv(st.cfg.Config.Env, "PATH"); !ok {
		st.cfg.Config.Env = append(st.cfg.Config.Env, "PATH="+defaultPath)
	}
	// ONBUILD triggers of the base run first (not for stages built here);
	// the images they make no longer carry them
	if _, local := r.stages[strings.ToLower(base)]; !local && len(st.cfg.Config.OnBuild) > 0 {
		triggers := st.cfg.Config.OnBuild
		st.cfg.Config.OnBuild = nil
		for _, trig := range triggers {
			if err := r.onbuild(st, trig); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range s.Commands {
		if err := r.command(st, c); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (r *run) onbuild(st *stage, expr string) error {
	df := "FROM scratch\n" + expr + "\n"
	stages, _, err := parseDockerfile(df)
	if err != nil || len(stages) != 1 || len(stages[0].Commands) != 1 {
		return failf("failed to process ONBUILD trigger %q: %v", expr, err)
	}
	r.printf("# Executing 1 build trigger\n")
	r.total++
	return r.command(st, stages[0].Commands[0])
}

func cloneConfig(c dockerspec.DockerOCIImage) dockerspec.DockerOCIImage { return images.CloneConfig(c) }

// command runs one instruction.
func (r *run) command(st *stage, c instructions.Command) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	type expandable interface {
		Expand(instructions.SingleWordExpander) error
	}
	text := strings.TrimSpace(sourceText(c))
	if e, ok := c.(expandable); ok {
		if err := e.Expand(r.expander(st)); err != nil {
			return failf("%s: %v", text, err)
		}
	}
	r.stepHeader(text)
	cfg := &st.cfg.Config
	switch c := c.(type) {
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
		}
		return r.meta(st, "ENV "+kvString(c.Env))
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
		}
		return r.meta(st, "LABEL "+kvString(c.Labels))
	case *instructions.MaintainerCommand:
		st.cfg.Author = c.Maintainer
		return r.meta(st, "MAINTAINER "+c.Maintainer)
	case *instructions.CmdCommand:
		cfg.Cmd = r.cmdline(st, c.ShellDependantCmdLine)
		st.cmdSet = true
		return r.meta(st, "CMD "+jsonString(cfg.Cmd))
	case *instructions.EntrypointCommand:
		cfg.Entrypoint = r.cmdline(st, c.ShellDependantCmdLine)
		if !st.cmdSet {
			cfg.Cmd = nil // an ENTRYPOINT resets the CMD inherited from the base, as Docker
		}
		return r.meta(st, "ENTRYPOINT "+jsonString(cfg.Entrypoint))
	case *instructions.ExposeCommand:
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		var ports []string
		for _, p := range c.Ports {
			v, _, err := r.lex.ProcessWord(p, r.env(st))
			if err != nil {
				return failf("%s: %v", text, err)
			}
			for _, w := range strings.Fields(v) {
				w = strings.ToLower(w) // 5678/UDP is 5678/udp
				if !strings.Contains(w, "/") {
					w += "/tcp"
				}
				cfg.ExposedPorts[w] = struct{}{}
				ports = append(ports, w)
			}
		}
		return r.meta(st, "EXPOSE "+strings.Join(ports, " "))
	case *instructions.UserCommand:
		cfg.User = c.User
		return r.meta(st, "USER "+c.User)
	case *instructions.VolumeCommand:
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			if strings.TrimSpace(v) == "" {
				return failf("VOLUME specified can not be an empty string")
			}
			// a volume needs a directory: an existing file there fails, as
			// it does when dockerd creates the step's container
			if err := r.volumePathFree(st, v); err != nil {
				return err
			}
			cfg.Volumes[v] = struct{}{}
		}
		return r.meta(st, "VOLUME "+jsonString(c.Volumes))
	case *instructions.StopSignalCommand:
		cfg.StopSignal = c.Signal
		return r.meta(st, "STOPSIGNAL "+c.Signal)
	case *instructions.ShellCommand:
		st.shell = append([]string(nil), c.Shell...)
		cfg.Shell = st.shell
		return r.meta(st, "SHELL "+jsonString(c.Shell))
	case *instructions.HealthCheckCommand:
		hc := c.Health
		cfg.Healthcheck = &dockerspec.HealthcheckConfig{Test: hc.Test, Interval: hc.Interval, Timeout: hc.Timeout,
			StartPeriod: hc.StartPeriod, StartInterval: hc.StartInterval, Retries: hc.Retries}
		return r.meta(st, "HEALTHCHECK "+jsonString(hc.Test))
	case *instructions.OnbuildCommand:
		cfg.OnBuild = append(cfg.OnBuild, c.Expression)
		return r.meta(st, "ONBUILD "+c.Expression)
	case *instructions.ArgCommand:
		var parts []string
		for _, kv := range c.Args {
			v, given := r.o.BuildArgs[kv.Key]
			switch {
			case given && v != nil:
				st.args[kv.Key] = *v
			case kv.Value != nil:
				st.args[kv.Key] = *kv.Value
			default:
				if g, ok := r.global[kv.Key]; ok {
					st.args[kv.Key] = g
				} else {
					st.args[kv.Key] = ""
				}
			}
			parts = append(parts, kv.String())
		}
		return r.meta(st, "ARG "+strings.Join(parts, " "))
	case *instructions.WorkdirCommand:
		if c.Path == "" {
			return failf("cannot normalize nothing")
		}
		dir := path.Clean(c.Path) // no trailing slash, as dockerd
		if !strings.HasPrefix(dir, "/") {
			dir = path.Join("/", cfg.WorkingDir, dir)
		}
		cfg.WorkingDir = dir
		return r.workdir(st, dir)
	case *instructions.RunCommand:
		return r.runStep(st, c)
	case *instructions.CopyCommand:
		return r.copyStep(st, copySpec{sources: c.SourcePaths, contents: c.SourceContents, dest: c.DestPath, from: c.From, chown: c.Chown, chmod: c.Chmod, verb: "COPY"})
	case *instructions.AddCommand:
		return r.copyStep(st, copySpec{sources: c.SourcePaths, contents: c.SourceContents, dest: c.DestPath, chown: c.Chown, chmod: c.Chmod, verb: "ADD", add: true})
	}
	return failf("%s: instruction not supported", text)
}

func kvString(kvs instructions.KeyValuePairs) string {
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = kv.Key + "=" + kv.Value
	}
	return strings.Join(parts, " ")
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func setEnv(env []string, key, value string) []string {
	for i, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

func joinPath(base, rel string) string {
	if strings.HasSuffix(base, "/") {
		return base + rel
	}
	return base + "/" + rel
}

// cmdline turns a shell- or exec-form command line into argv.
func (r *run) cmdline(st *stage, c instructions.ShellDependantCmdLine) []string {
	if c.PrependShell {
		return append(append([]string(nil), st.shell...), strings.Join(c.CmdLine, " "))
	}
	return append([]string{}, c.CmdLine...) // CMD [] stays [] (it clears an inherited CMD)
}

func sourceText(c instructions.Command) string {
	if s, ok := c.(interface{ String() string }); ok {
		return s.String()
	}
	return c.Name()
}

// createdBy is the history text Docker's classic builder writes:
// "/bin/sh -c #(nop)  ENV a=b" for metadata steps.
func nop(st *stage, text string) string {
	return strings.Join(st.shell, " ") + " #(nop)  " + text
}

// meta records a metadata-only step (an empty layer).
func (r *run) meta(st *stage, text string) error {
	return r.commit(st, nop(st, text), nil, true)
}

// commit makes the step's image (reusing the cached one when allowed):
// layer is the step's layer tar with its final headers, nil for an empty layer.
func (r *run) commit(st *stage, createdBy string, layer func() (io.ReadCloser, error), cacheable bool) error {
	if cacheable && !r.o.NoCache {
		if img := r.cached(st, createdBy); img != nil {
			r.printf(" ---> Using cache\n ---> %s\n", shortID(img.ID))
			st.img, st.cfg, st.layers = img, cloneConfig(*img.Config), append([]ocispec.Descriptor(nil), img.Layers...)
			return nil
		}
	}
	cfg := cloneConfig(st.cfg)
	h := ocispec.History{Created: timePtr(r.o.Epoch), CreatedBy: createdBy, EmptyLayer: layer == nil}
	layers := append([]ocispec.Descriptor(nil), st.layers...)
	if layer != nil {
		rc, err := layer()
		if err != nil {
			return err
		}
		desc, err := r.b.images.AddLayer(rc, cfg.RootFS.DiffIDs)
		rc.Close()
		if err != nil {
			return err
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, desc.Digest)
		layers = append(layers, desc)
	}
	cfg.RootFS.Type = "layers"
	cfg.History = append(cfg.History, h)
	cfg.Created = timePtr(r.o.Epoch)
	if cfg.OS == "" {
		cfg.OS, cfg.Architecture = "linux", goarch()
	}
	img, err := r.b.images.Commit(&cfg, layers, st.id())
	if err != nil {
		return err
	}
	// the image keeps cfg: the stage goes on with a copy, or a later step
	// (--label's) would change the stored image's config in memory
	st.img, st.cfg, st.layers = img, cloneConfig(cfg), layers
	if !r.holdID {
		r.printf(" ---> %s\n", shortID(img.ID))
	}
	return nil
}

func timePtr(t time.Time) *time.Time { return &t }

// workdir creates the directory in a layer when the image lacks it.
func (r *run) workdir(st *stage, dir string) error {
	exists, err := r.pathIsDir(st, dir)
	if err != nil {
		return err
	}
	if exists {
		return r.meta(st, "WORKDIR "+dir)
	}
	return r.commit(st, nop(st, "WORKDIR "+dir), func() (io.ReadCloser, error) { return dirLayer(dir, r.o.Epoch) }, true)
}

// runStep runs RUN in a container of the current image and commits its changes.
func (r *run) runStep(st *stage, c *instructions.RunCommand) error {
	if len(c.Files) > 0 {
		return failf("RUN with a heredoc is a BuildKit feature the classic builder does not have")
	}
	argv := r.cmdline(st, c.ShellDependantCmdLine)
	// build args in use are part of the step (and its cache key)
	var used []string
	for _, kv := range envList(st.args) {
		k, _, _ := strings.Cut(kv, "=")
		if _, set := lookupEnv(st.cfg.Config.Env, k); !set && (st.args[k] != "" || predefinedArgs[k]) {
			used = append(used, kv)
		}
	}
	createdBy := strings.Join(argv, " ")
	if len(used) > 0 {
		createdBy = "|" + strconv.Itoa(len(used)) + " " + strings.Join(used, " ") + " " + createdBy
	}
	// proxy settings given with --build-arg reach RUN without an ARG, but
	// stay out of the history and the cache key (dockerd's builtin args)
	var proxies []string
	for k, v := range r.o.BuildArgs {
		_, declared := st.args[k]
		_, set := lookupEnv(st.cfg.Config.Env, k)
		if predefinedArgs[k] && !declared && !set && v != nil {
			proxies = append(proxies, k+"="+*v)
		}
	}
	sort.Strings(proxies)
	if !r.o.NoCache {
		if img := r.cached(st, createdBy); img != nil {
			r.printf(" ---> Using cache\n ---> %s\n", shortID(img.ID))
			st.img, st.cfg, st.layers = img, cloneConfig(*img.Config), append([]ocispec.Descriptor(nil), img.Layers...)
			return nil
		}
	}
	if st.img == nil {
		return failf("The command '%s' cannot run: the stage has no filesystem (FROM scratch)", strings.Join(argv, " "))
	}
	cfg := st.cfg.Config
	env := append(append(append([]string(nil), cfg.Env...), used...), proxies...)
	limits := r.o.Resources
	limits.CgroupParent = r.o.CgroupParent
	// the build's --label labels mark its containers (dockerd's step
	// containers carry them), so they can be found, as with --rm=false
	labels := map[string]string{}
	for k, v := range r.o.Labels {
		labels[k] = v
	}
	id, err := r.b.containers.Create(containers.CreateRequest{
		Config: &container.Config{Image: st.img.ID.String(), Cmd: argv, Entrypoint: []string{}, Env: env,
			WorkingDir: cfg.WorkingDir, User: cfg.User, Labels: labels, AttachStdout: true, AttachStderr: true},
		HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(r.o.Network), ExtraHosts: r.o.ExtraHosts,
			Resources: limits, ShmSize: r.o.ShmSize},
	})
	if err != nil {
		return err
	}
	removeCtr := func() { _ = r.b.containers.Remove(id, containers.RemoveOptions{Force: true, RemoveVolumes: true}) }
	r.printf(" ---> Running in %s\n", id[:12])
	attached := make(chan struct{})
	attachDone := make(chan error, 1)
	go func() {
		attachDone <- r.b.containers.Attach(r.ctx, id, containers.AttachOptions{Stdout: r.out, Stderr: stderrWriter{r.out}, Stream: true,
			Ready: func() error { close(attached); return nil }})
	}()
	select {
	case <-attached:
	case err := <-attachDone:
		removeCtr()
		return err
	}
	if err := r.b.containers.Start(id); err != nil {
		if r.o.ForceRm || r.o.Remove {
			removeCtr()
		}
		return err
	}
	res, err := r.b.containers.Wait(r.ctx, id, container.WaitConditionNotRunning)
	<-attachDone
	if err != nil {
		removeCtr()
		return err
	}
	if res.StatusCode != 0 {
		if r.o.ForceRm || r.o.Remove {
			removeCtr()
		}
		return &Error{Msg: fmt.Sprintf("The command '%s' returned a non-zero code: %d", strings.Join(argv, " "), res.StatusCode), Code: int(res.StatusCode)}
	}
	r.holdID = true // Docker prints the removal before the new image's ID
	// a RUN layer's times are the build's epoch, as COPY's and WORKDIR's are
	// written (reproducible builds)
	err = r.commit(st, createdBy, func() (io.ReadCloser, error) {
		rc, err := r.b.containers.Diff(id)
		if err != nil {
			return nil, err
		}
		return readCloser{normalized(rc, r.o.Epoch), rc}, nil
	}, false)
	r.holdID = false
	if r.o.Remove {
		r.printf("Removing intermediate container %s\n", id[:12])
		removeCtr()
	}
	if err != nil {
		return err
	}
	r.printf(" ---> %s\n", shortID(st.img.ID))
	return nil
}

// readCloser reads from one stream and closes another (the source of a
// filter).
type readCloser struct {
	io.Reader
	io.Closer
}
