package compose

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/compose"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// logPrinter writes containers' lines with Docker Compose's prefix: the
// container's name without the project ("web-1"), padded, then " | ".
type logPrinter struct {
	mu     sync.Mutex
	out    io.Writer
	prefix bool
	width  int
	colors map[string]string // the prefix's ANSI colour by container; nil: none
}

// palette is the order Docker Compose colours its prefixes in.
var palette = []string{"36", "33", "32", "35", "34", "31", "96", "93", "92", "95", "94", "91"}

func newLogPrinter(out io.Writer, prefix bool, cs []container.Summary) *logPrinter {
	lp := &logPrinter{out: out, prefix: prefix}
	for _, c := range cs {
		if n := len(shortName(c)); n+1 > lp.width {
			lp.width = n + 1
		}
	}
	return lp
}

// colour gives each container's prefix a colour of its own, in order.
func (lp *logPrinter) colour(cs []container.Summary) *logPrinter {
	lp.colors = map[string]string{}
	for i, c := range cs {
		lp.colors[shortName(c)] = palette[i%len(palette)]
	}
	return lp
}

// useColour is --ansi's rule: always, never, or auto (a terminal), and
// never with --no-color.
func useColour(c *cli.Cli, ansi string, noColor bool) bool {
	if noColor || ansi == "never" {
		return false
	}
	if ansi == "always" {
		return true
	}
	_, tty := c.OutFd()
	return tty
}

// shortName is a container's name without its project's prefix, unless it
// has a container_name of its own.
func shortName(c container.Summary) string {
	n := strings.TrimPrefix(c.Names[0], "/")
	project := c.Labels[compose.ProjectLabel]
	def := project + "-" + c.Labels[compose.ServiceLabel] + "-" + c.Labels[compose.ContainerNumberLabel]
	if n != def {
		return n
	}
	return n[len(project)+1:]
}

func (lp *logPrinter) line(name, text string) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if lp.prefix {
		p := fmt.Sprintf("%-"+strconv.Itoa(lp.width)+"s |", name)
		if col, ok := lp.colors[name]; ok {
			p = "\x1b[" + col + "m" + p + "\x1b[0m"
		}
		fmt.Fprintf(lp.out, "%s %s\n", p, text)
	} else {
		fmt.Fprintln(lp.out, text)
	}
}

func (lp *logPrinter) exited(name string, code int64) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	fmt.Fprintf(lp.out, "%s exited with code %d\n", name, code)
}

// lineWriter splits a stream into lines for the printer.
type lineWriter struct {
	lp   *logPrinter
	name string
	buf  bytes.Buffer
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			return len(b), nil
		}
		line := string(w.buf.Next(i + 1))
		w.lp.line(w.name, strings.TrimSuffix(line, "\n"))
	}
}

func (w *lineWriter) flush() {
	if w.buf.Len() > 0 {
		w.lp.line(w.name, w.buf.String())
		w.buf.Reset()
	}
}

// followLogs prints one container's logs through lp.
func followLogs(ctx context.Context, api client.APIClient, lp *logPrinter, c container.Summary, o client.ContainerLogsOptions, tty bool) error {
	rc, err := api.ContainerLogs(ctx, c.ID, o)
	if err != nil {
		return err
	}
	defer rc.Close()
	w := &lineWriter{lp: lp, name: shortName(c)}
	defer w.flush()
	info, err := api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err == nil && info.Container.Config != nil && info.Container.Config.Tty {
		_, err = io.Copy(w, bufio.NewReader(rc))
		return err
	}
	_, err = stdcopy.StdCopy(w, w, rc)
	return err
}

func newLogsCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var o client.ContainerLogsOptions
	var noPrefix, noColor bool
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] [SERVICE...]",
		Short: "View output from containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name, _, err := po.projectName(ctx)
			if err != nil {
				return err
			}
			e, err := engine(c, po)
			if err != nil {
				return err
			}
			cs, err := e.Containers(ctx, name, args, true)
			if err != nil {
				return err
			}
			api, _ := c.Client()
			lp := newLogPrinter(c.Out(), !noPrefix, cs)
			if useColour(c, po.ansi, noColor) {
				lp.colour(cs)
			}
			o.ShowStdout, o.ShowStderr = true, true
			var wg sync.WaitGroup
			errs := make(chan error, len(cs))
			for _, ct := range cs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- followLogs(ctx, api, lp, ct, o, false)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.Follow, "follow", "f", false, "Follow log output")
	fl.StringVarP(&o.Tail, "tail", "n", "all", "Number of lines to show from the end of the logs for each container")
	fl.BoolVarP(&o.Timestamps, "timestamps", "t", false, "Show timestamps")
	fl.StringVar(&o.Since, "since", "", "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	fl.StringVar(&o.Until, "until", "", "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	fl.BoolVar(&noPrefix, "no-log-prefix", false, "Don't print prefix in logs")
	fl.BoolVar(&noColor, "no-color", false, "Produce monochrome output")
	return cmd
}

// numberOf is a container's index in its service.
func numberOf(c container.Summary) int {
	n, _ := strconv.Atoi(c.Labels[compose.ContainerNumberLabel])
	return n
}
