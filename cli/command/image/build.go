package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	units "github.com/docker/go-units"
	"github.com/moby/go-archive"
	"github.com/moby/moby/client"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/spf13/cobra"
)

type buildOptions struct {
	tags, buildArgs, labels, addHosts, cacheFrom cli.ListOpt
	file, target, iidfile, network, platform     string
	cgroupParent, memory, memorySwap, shmSize    string
	cpusetCPUs, cpusetMems                       string
	cpuShares, cpuPeriod, cpuQuota               int64
	noCache, pull, quiet, rm, forceRm            bool
}

func newBuildCommand(c *cli.Cli) *cobra.Command {
	o := &buildOptions{}
	cmd := &cobra.Command{
		Use:         "build [OPTIONS] PATH | URL | -",
		Short:       "Build an image from a Dockerfile",
		Args:        cli.ExactArgs(1),
		Annotations: cli.Aliases("image build", "build", "builder build"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd, c, args[0], o)
		},
	}
	fl := cmd.Flags()
	fl.VarP(&o.tags, "tag", "t", `Name and optionally a tag in the "name:tag" format`)
	fl.StringVarP(&o.file, "file", "f", "", `Name of the Dockerfile (Default is "PATH/Dockerfile")`)
	fl.Var(&o.buildArgs, "build-arg", "Set build-time variables")
	fl.StringVar(&o.target, "target", "", "Set the target build stage to build.")
	fl.BoolVar(&o.noCache, "no-cache", false, "Do not use cache when building the image")
	fl.BoolVar(&o.pull, "pull", false, "Always attempt to pull a newer version of the image")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress the build output and print image ID on success")
	fl.Var(&o.labels, "label", "Set metadata for an image")
	fl.StringVar(&o.iidfile, "iidfile", "", "Write the image ID to the file")
	fl.StringVar(&o.network, "network", "default", "Set the networking mode for the RUN instructions during build")
	fl.Var(&o.addHosts, "add-host", "Add a custom host-to-IP mapping (\"host:ip\")")
	fl.Var(&o.cacheFrom, "cache-from", "Images to consider as cache sources")
	fl.BoolVar(&o.rm, "rm", true, "Remove intermediate containers after a successful build")
	fl.BoolVar(&o.forceRm, "force-rm", false, "Always remove intermediate containers")
	fl.StringVar(&o.platform, "platform", "", "Set platform if server is multi-platform capable")
	fl.StringVar(&o.cgroupParent, "cgroup-parent", "", `Set the parent cgroup for the "RUN" instructions during build`)
	fl.StringVarP(&o.memory, "memory", "m", "", "Memory limit")
	fl.StringVar(&o.memorySwap, "memory-swap", "", "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
	fl.StringVar(&o.shmSize, "shm-size", "", "Size of /dev/shm")
	fl.StringVar(&o.cpusetCPUs, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	fl.StringVar(&o.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	fl.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	fl.Int64Var(&o.cpuPeriod, "cpu-period", 0, "Limit the CPU CFS (Completely Fair Scheduler) period")
	fl.Int64Var(&o.cpuQuota, "cpu-quota", 0, "Limit the CPU CFS (Completely Fair Scheduler) quota")
	return cmd
}

func runBuild(cmd *cobra.Command, c *cli.Cli, src string, o *buildOptions) error {
	var body io.Reader
	var sent *counter // the context as it streams, for the "Sending" line
	var remote string
	dockerfile := o.file
	switch {
	case src == "-":
		c.NegotiateVersion()
		data, err := io.ReadAll(c.In())
		if err != nil {
			return err
		}
		if isTar(data) {
			body = bytes.NewReader(data)
		} else {
			// a Dockerfile on stdin: an empty context
			body, dockerfile = singleFileTar("Dockerfile", data), "Dockerfile"
		}
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		remote = src // the daemon fetches the context tar
	default:
		rc, name, err := ContextTar(src, o.file)
		if err != nil {
			return err
		}
		defer rc.Close()
		sent = &counter{r: rc}
		body, dockerfile = sent, name
	}
	args := map[string]*string{}
	for _, a := range o.buildArgs.Values {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			// KEY alone takes the value from the environment, if set
			if ev, set := os.LookupEnv(k); set {
				v, ok = ev, true
			}
		}
		if ok {
			val := v
			args[k] = &val
		} else {
			args[k] = nil
		}
	}
	labels := map[string]string{}
	for _, l := range o.labels.Values {
		k, v, _ := strings.Cut(l, "=")
		labels[k] = v
	}
	sizes := map[string]int64{}
	for flag, v := range map[string]string{"memory": o.memory, "memory-swap": o.memorySwap, "shm-size": o.shmSize} {
		switch {
		case v == "":
		case v == "-1" && flag == "memory-swap":
			sizes[flag] = -1
		default:
			n, err := units.RAMInBytes(v)
			if err != nil {
				return fmt.Errorf("invalid argument %q for \"--%s\" flag: %v", v, flag, err)
			}
			sizes[flag] = n
		}
	}
	api, err := c.Client()
	if err != nil {
		return err
	}
	res, err := api.ImageBuild(cmd.Context(), body, client.ImageBuildOptions{
		Tags: o.tags.Values, Dockerfile: dockerfile, BuildArgs: args, Target: o.target, NoCache: o.noCache, PullParent: o.pull,
		SuppressOutput: o.quiet, Labels: labels, Remove: o.rm, ForceRemove: o.forceRm, NetworkMode: o.network,
		ExtraHosts: o.addHosts.Values, CacheFrom: o.cacheFrom.Values, RemoteContext: remote,
		CgroupParent: o.cgroupParent, Memory: sizes["memory"], MemorySwap: sizes["memory-swap"], ShmSize: sizes["shm-size"],
		CPUSetCPUs: o.cpusetCPUs, CPUSetMems: o.cpusetMems, CPUShares: o.cpuShares, CPUPeriod: o.cpuPeriod, CPUQuota: o.cpuQuota,
	})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var id string
	dec := json.NewDecoder(res.Body)
	// the daemon reads the whole context before it answers
	if sent != nil && !o.quiet {
		fmt.Fprintf(c.Out(), "Sending build context to Docker daemon  %s\n", format.HumanSize(sent.n))
	}
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
				Code    int    `json:"code"`
			} `json:"errorDetail"`
			Aux *struct {
				ID string `json:"ID"`
			} `json:"aux"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		switch {
		case m.ErrorDetail != nil:
			code := m.ErrorDetail.Code
			if code == 0 {
				code = 1
			}
			return cli.StatusError{Status: m.ErrorDetail.Message, StatusCode: code}
		case m.Error != "":
			return cli.StatusError{Status: m.Error, StatusCode: 1}
		case m.Aux != nil:
			id = m.Aux.ID
		case m.Stream != "":
			fmt.Fprint(c.Out(), m.Stream)
		}
	}
	if o.iidfile != "" && id != "" {
		if err := os.WriteFile(o.iidfile, []byte(id), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func isTar(b []byte) bool {
	if len(b) < 512 {
		return false
	}
	_, err := tar.NewReader(bytes.NewReader(b)).Next()
	return err == nil
}

func singleFileTar(name string, data []byte) io.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
	_, _ = tw.Write(data)
	_ = tw.Close()
	return &buf
}

// contextTar streams the context directory as a tar, leaving out
// what .dockerignore (or <Dockerfile>.dockerignore) excludes but always
// keeping the Dockerfile and .dockerignore; a Dockerfile outside the
// context is added under a private name. It returns the Dockerfile's name
// in the context.
// ContextTar tars the build context dir with its .dockerignore applied and
// names the Dockerfile inside it, as docker build sends it.
func ContextTar(dir, dockerfile string) (io.ReadCloser, string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, "", fmt.Errorf("unable to prepare context: path %q not found", dir)
	}
	if !st.IsDir() {
		return nil, "", fmt.Errorf("unable to prepare context: context must be a directory: %s", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	// -f is relative to the current directory, not the context (docker's rule)
	if dockerfile == "" {
		dockerfile = filepath.Join(abs, "Dockerfile")
	} else if dockerfile, err = filepath.Abs(dockerfile); err != nil {
		return nil, "", err
	}
	df, err := os.ReadFile(dockerfile)
	if err != nil {
		return nil, "", fmt.Errorf("unable to prepare context: unable to evaluate symlinks in Dockerfile path: %w", err)
	}
	rel, err := filepath.Rel(abs, dockerfile)
	inside := err == nil && !strings.HasPrefix(rel, "..")
	excludes, err := readIgnore(abs, dockerfile)
	if err != nil {
		return nil, "", err
	}
	name := filepath.ToSlash(rel)
	if inside {
		excludes = append(excludes, "!"+name, "!.dockerignore")
	} else {
		name = ".dockerfile." + randomSuffix()
	}
	rc, err := archive.TarWithOptions(abs, &archive.TarOptions{ExcludePatterns: excludes, ChownOpts: &archive.ChownOpts{UID: 0, GID: 0}})
	if err != nil {
		return nil, "", err
	}
	if inside {
		return rc, name, nil
	}
	// copy the entries, then add the Dockerfile under its private name
	pr, pw := io.Pipe()
	go func() {
		defer rc.Close()
		tr, tw := tar.NewReader(rc), tar.NewWriter(pw)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil {
				err = tw.WriteHeader(h)
			}
			if err == nil {
				_, err = io.Copy(tw, tr)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(df)), Typeflag: tar.TypeReg})
		if err == nil {
			_, err = tw.Write(df)
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, name, nil
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readIgnore reads <Dockerfile>.dockerignore next to the Dockerfile, else
// the context's .dockerignore.
func readIgnore(ctxDir, dockerfile string) ([]string, error) {
	for _, p := range []string{dockerfile + ".dockerignore", filepath.Join(ctxDir, ".dockerignore")} {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return ignorefile.ReadAll(f)
	}
	return nil, nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	f, err := os.Open("/dev/urandom")
	if err == nil {
		_, _ = io.ReadFull(f, b)
		f.Close()
	}
	return fmt.Sprintf("%x", b)
}
