package compose

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/container"
	"github.com/berth-project/berth/cli/format"
	"github.com/berth-project/berth/compose"
	"github.com/compose-spec/compose-go/v2/types"
	mcontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	"github.com/spf13/cobra"
)

func newBuildCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var o buildOptions
	var args []string
	cmd := &cobra.Command{
		Use:   "build [OPTIONS] [SERVICE...]",
		Short: "Build or rebuild services",
		RunE: func(cmd *cobra.Command, services []string) error {
			p, err := po.load(cmd.Context())
			if err != nil {
				return err
			}
			o.args = map[string]string{}
			for _, a := range args {
				k, v, ok := strings.Cut(a, "=")
				if !ok {
					continue
				}
				o.args[k] = v
			}
			for _, name := range sortedServices(p, services) {
				s := p.Services[name]
				if s.Build == nil {
					continue
				}
				if err := buildService(cmd.Context(), c, p, s, o); err != nil {
					return err
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.noCache, "no-cache", false, "Do not use cache when building the image")
	fl.BoolVar(&o.pull, "pull", false, "Always attempt to pull a newer version of the image")
	fl.StringArrayVar(&args, "build-arg", nil, "Set build-time variables for services")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress the build output")
	return cmd
}

// sortedServices is the named services, or all, sorted.
func sortedServices(p *types.Project, names []string) []string {
	if len(names) == 0 {
		names = p.ServiceNames()
	}
	out := append([]string(nil), names...)
	sort.Strings(out)
	return out
}

func newPullCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var ignore, quiet bool
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] [SERVICE...]",
		Short: "Pull service images",
		RunE: func(cmd *cobra.Command, services []string) error {
			p, err := po.load(cmd.Context())
			if err != nil {
				return err
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			for _, name := range sortedServices(p, services) {
				s, ok := p.Services[name]
				if !ok {
					return fmt.Errorf("no such service: %s", name)
				}
				if s.Image == "" || s.PullPolicy == types.PullPolicyBuild {
					continue
				}
				fmt.Fprintf(c.Err(), " %s Pulling \n", name)
				rc, err := api.ImagePull(cmd.Context(), s.Image, client.ImagePullOptions{RegistryAuth: c.RegistryAuth(s.Image)})
				if err == nil {
					out := c.Err()
					if quiet {
						out = nil
					}
					if out != nil {
						err = jsonmessage.DisplayJSONMessagesStream(rc, out, 0, false, nil)
					} else {
						err = jsonmessage.DisplayJSONMessagesStream(rc, discard{}, 0, false, nil)
					}
					rc.Close()
				}
				if err != nil {
					fmt.Fprintf(c.Err(), " %s Error %s\n", name, err)
					if !ignore {
						return err
					}
					continue
				}
				fmt.Fprintf(c.Err(), " %s Pulled \n", name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&ignore, "ignore-pull-failures", false, "Pull what it can and ignores images with pull failures")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Pull without printing progress information")
	return cmd
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

func newPushCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var ignore, quiet bool
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] [SERVICE...]",
		Short: "Push service images",
		RunE: func(cmd *cobra.Command, services []string) error {
			p, err := po.load(cmd.Context())
			if err != nil {
				return err
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			for _, name := range sortedServices(p, services) {
				s := p.Services[name]
				if s.Image == "" || s.Build == nil {
					continue
				}
				fmt.Fprintf(c.Err(), " %s Pushing \n", name)
				rc, err := api.ImagePush(cmd.Context(), s.Image, client.ImagePushOptions{RegistryAuth: c.RegistryAuth(s.Image)})
				if err == nil {
					var out interface{ Write([]byte) (int, error) } = c.Err()
					if quiet {
						out = discard{}
					}
					err = jsonmessage.DisplayJSONMessagesStream(rc, out, 0, false, nil)
					rc.Close()
				}
				if err != nil {
					if !ignore {
						return err
					}
					continue
				}
				fmt.Fprintf(c.Err(), " %s Pushed \n", name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&ignore, "ignore-push-failures", false, "Push what it can and ignores images with push failures")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Push without printing progress information")
	return cmd
}

// projectContainers lists the project's containers of the named services.
func projectContainers(cmd *cobra.Command, c *cli.Cli, po *projectOptions, services []string, all bool) ([]mcontainer.Summary, error) {
	name, _, err := po.projectName(cmd.Context())
	if err != nil {
		return nil, err
	}
	e, err := engine(c, po)
	if err != nil {
		return nil, err
	}
	return e.Containers(cmd.Context(), name, services, all)
}

func newImagesCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var quiet bool
	var tmpl string
	cmd := &cobra.Command{
		Use:   "images [OPTIONS] [SERVICE...]",
		Short: "List images used by the created containers",
		RunE: func(cmd *cobra.Command, services []string) error {
			cs, err := projectContainers(cmd, c, po, services, true)
			if err != nil {
				return err
			}
			api, _ := c.Client()
			type row struct {
				ID            string     `json:"ID"`
				ContainerName string     `json:"ContainerName"`
				Repository    string     `json:"Repository"`
				Tag           string     `json:"Tag"`
				Platform      string     `json:"Platform"`
				Size          int64      `json:"Size"`
				Created       *time.Time `json:"Created,omitempty"`
			}
			var rows []row
			for _, ct := range cs {
				img, err := api.ImageInspect(cmd.Context(), ct.ImageID)
				if err != nil {
					continue
				}
				r := row{ID: img.ID, ContainerName: strings.TrimPrefix(ct.Names[0], "/"), Repository: "<none>", Tag: "<none>", Size: img.Size,
					Platform: img.Os + "/" + img.Architecture}
				if len(img.RepoTags) > 0 {
					ref := img.RepoTags[0]
					for _, t := range img.RepoTags { // the tag the container was made from, when it still has it
						if t == ct.Image || t == ct.Image+":latest" || t == "docker.io/library/"+ct.Image+":latest" {
							ref = t
						}
					}
					if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
						r.Repository, r.Tag = ref[:i], ref[i+1:]
					}
				}
				if t, err := time.Parse(time.RFC3339Nano, img.Created); err == nil {
					r.Created = &t
				}
				rows = append(rows, r)
			}
			sort.Slice(rows, func(i, j int) bool { return rows[i].ContainerName < rows[j].ContainerName })
			if quiet {
				seen := map[string]bool{}
				for _, r := range rows {
					if !seen[r.ID] {
						seen[r.ID] = true
						fmt.Fprintln(c.Out(), r.ID)
					}
				}
				return nil
			}
			if tmpl == "json" {
				if rows == nil {
					rows = []row{}
				}
				b, err := json.Marshal(rows)
				if err != nil {
					return err
				}
				fmt.Fprintln(c.Out(), string(b))
				return nil
			}
			tw := tabwriter.NewWriter(c.Out(), 10, 1, 3, ' ', 0)
			fmt.Fprintln(tw, "CONTAINER\tREPOSITORY\tTAG\tPLATFORM\tIMAGE ID\tSIZE\tCREATED")
			for _, r := range rows {
				created := "N/A"
				if r.Created != nil {
					created = format.Ago(*r.Created, time.Now())
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ContainerName, r.Repository, r.Tag, r.Platform, format.TruncateID(r.ID), format.HumanSize(r.Size), created)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display IDs")
	cmd.Flags().StringVar(&tmpl, "format", "table", "Format the output. Values: [table | json]")
	return cmd
}

func newTopCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "top [SERVICES...]",
		Short: "Display the running processes",
		RunE: func(cmd *cobra.Command, services []string) error {
			cs, err := projectContainers(cmd, c, po, services, false)
			if err != nil {
				return err
			}
			api, _ := c.Client()
			header := []string{"SERVICE", "#"}
			index := map[string]int{}
			var rows []map[string]string
			for _, ct := range cs {
				res, err := api.ContainerTop(cmd.Context(), ct.ID, client.ContainerTopOptions{})
				if err != nil {
					return err
				}
				for _, t := range res.Titles {
					if _, ok := index[t]; !ok {
						index[t] = len(header)
						header = append(header, t)
					}
				}
				for _, proc := range res.Processes {
					r := map[string]string{"SERVICE": ct.Labels[compose.ServiceLabel], "#": ct.Labels[compose.ContainerNumberLabel]}
					for i, t := range res.Titles {
						if i < len(proc) {
							r[t] = proc[i]
						}
					}
					rows = append(rows, r)
				}
			}
			if len(rows) == 0 {
				return nil
			}
			// CMD last
			if i, ok := index["CMD"]; ok {
				header = append(append(header[:i:i], header[i+1:]...), "CMD")
			}
			tw := tabwriter.NewWriter(c.Out(), 4, 1, 2, ' ', 0)
			fmt.Fprintln(tw, strings.Join(header, "\t"))
			for _, r := range rows {
				var vals []string
				for _, h := range header {
					v, ok := r[h]
					if !ok {
						v = "-"
					}
					vals = append(vals, v)
				}
				fmt.Fprintln(tw, strings.Join(vals, "\t"))
			}
			return tw.Flush()
		},
	}
}

// serviceContainer is a service's index'th container (1: the first).
func serviceContainer(cmd *cobra.Command, c *cli.Cli, po *projectOptions, service string, index int) (mcontainer.Summary, error) {
	cs, err := projectContainers(cmd, c, po, []string{service}, true)
	if err != nil {
		return mcontainer.Summary{}, err
	}
	for _, ct := range cs {
		if n, _ := strconv.Atoi(ct.Labels[compose.ContainerNumberLabel]); index == 0 || n == index {
			return ct, nil
		}
	}
	return mcontainer.Summary{}, fmt.Errorf("service %q is not running", service)
}

func newPortCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var protocol string
	var index int
	cmd := &cobra.Command{
		Use:   "port [OPTIONS] SERVICE PRIVATE_PORT",
		Short: "Print the public port for a port binding",
		Args:  cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			port, err := strconv.Atoi(args[1])
			if err != nil {
				return fmt.Errorf("invalid port %q", args[1])
			}
			ct, err := serviceContainer(cmd, c, po, args[0], index)
			if err != nil {
				return err
			}
			for _, p := range ct.Ports {
				if int(p.PrivatePort) == port && p.Type == protocol && p.PublicPort != 0 {
					ip := "0.0.0.0"
					if p.IP.IsValid() {
						ip = p.IP.String()
					}
					fmt.Fprintf(c.Out(), "%s:%d\n", ip, p.PublicPort)
					return nil
				}
			}
			return fmt.Errorf("no port %d/%s for container %s", port, protocol, strings.TrimPrefix(ct.Names[0], "/"))
		},
	}
	cmd.Flags().StringVar(&protocol, "protocol", "tcp", "tcp or udp")
	cmd.Flags().IntVar(&index, "index", 0, "Index of the container if service has multiple replicas")
	return cmd
}

func newCpCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var followLink, archive, all bool
	var index int
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n\t" + cli.ProgramName() + " compose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH",
		Short: "Copy files/folders between a service container and the local filesystem",
		Args:  cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			for i, a := range args {
				svc, path, ok := strings.Cut(a, ":")
				if !ok || strings.HasPrefix(a, "/") || strings.HasPrefix(a, ".") {
					continue
				}
				ct, err := serviceContainer(cmd, c, po, svc, index)
				if err != nil {
					return err
				}
				args[i] = ct.ID + ":" + path
			}
			return container.Copy(cmd.Context(), c, args[0], args[1], followLink, archive, true)
		},
	}
	cmd.Flags().BoolVarP(&followLink, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	cmd.Flags().BoolVarP(&archive, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	cmd.Flags().IntVar(&index, "index", 0, "Index of the container if service has multiple replicas")
	cmd.Flags().BoolVar(&all, "all", false, "Include containers created by the run command")
	return cmd
}

func newWaitCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var downProject bool
	cmd := &cobra.Command{
		Use:   "wait SERVICE [SERVICE...] [OPTIONS]",
		Short: "Block until containers of all (or specified) services stop.",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, services []string) error {
			cs, err := projectContainers(cmd, c, po, services, true)
			if err != nil {
				return err
			}
			api, _ := c.Client()
			code := 0
			for _, ct := range cs {
				res := api.ContainerWait(cmd.Context(), ct.ID, client.ContainerWaitOptions{Condition: mcontainer.WaitConditionNotRunning})
				select {
				case r := <-res.Result:
					fmt.Fprintln(c.Out(), r.StatusCode)
					if r.StatusCode != 0 && code == 0 {
						code = int(r.StatusCode)
					}
				case err := <-res.Error:
					return err
				}
			}
			if downProject {
				name, p, err := po.projectName(cmd.Context())
				if err != nil {
					return err
				}
				e, err := engine(c, po)
				if err != nil {
					return err
				}
				if err := e.Down(cmd.Context(), name, p, compose.DownOptions{}); err != nil {
					return err
				}
			}
			if code != 0 {
				return cli.StatusError{StatusCode: code}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&downProject, "down-project", false, "Drops project when the first container stops")
	return cmd
}

func newEventsCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var asJSON bool
	var since, until string
	cmd := &cobra.Command{
		Use:   "events [OPTIONS] [SERVICE...]",
		Short: "Receive real time events from containers",
		RunE: func(cmd *cobra.Command, services []string) error {
			name, _, err := po.projectName(cmd.Context())
			if err != nil {
				return err
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			f := make(client.Filters).Add("type", "container").Add("label", compose.ProjectLabel+"="+name)
			res := api.Events(cmd.Context(), client.EventsListOptions{Filters: f, Since: since, Until: until})
			for {
				select {
				case m := <-res.Messages:
					svc := m.Actor.Attributes[compose.ServiceLabel]
					if len(services) > 0 && !contains(services, svc) {
						continue
					}
					printEvent(c, m, svc, asJSON)
				case err := <-res.Err:
					return err
				}
			}
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "Output events as a stream of json objects")
	cmd.Flags().StringVar(&since, "since", "", "Show all events created since timestamp")
	cmd.Flags().StringVar(&until, "until", "", "Stream events until this timestamp")
	return cmd
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// printEvent writes an event as docker compose events does: a line of
// time, type, action, ID and attributes, or with --json an object.
func printEvent(c *cli.Cli, m events.Message, service string, asJSON bool) {
	t := time.Unix(0, m.TimeNano).UTC()
	attrs := map[string]string{}
	for k, v := range m.Actor.Attributes {
		if !strings.HasPrefix(k, "com.docker.compose.") {
			attrs[k] = v
		}
	}
	if asJSON {
		b, _ := json.Marshal(map[string]any{"time": t.Format(time.RFC3339Nano), "type": "container", "action": string(m.Action),
			"id": m.Actor.ID, "service": service, "attributes": attrs})
		fmt.Fprintln(c.Out(), string(b))
		return
	}
	var kv []string
	for k, v := range attrs {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	fmt.Fprintf(c.Out(), "%s container %s %s (%s)\n", t.Format("2006-01-02 15:04:05.000000"), m.Action, m.Actor.ID, strings.Join(kv, ", "))
}
