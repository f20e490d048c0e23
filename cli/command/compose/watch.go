package compose

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/compose"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"github.com/moby/patternmatcher"
	"github.com/spf13/cobra"
)

// watchInterval is how often watch looks at the watched paths: it polls
// (a walk comparing sizes and modification times) rather than holding an
// inotify watch per directory.
const watchInterval = 300 * time.Millisecond

// watcher is one develop.watch trigger of a service.
type watcher struct {
	service string
	trigger types.Trigger
	ignore  *patternmatcher.PatternMatcher
	seen    map[string]fileState // relative path → state
}

type fileState struct {
	size  int64
	mtime time.Time
	dir   bool
}

func newWatchCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var noUp, quiet, prune bool
	cmd := &cobra.Command{
		Use:   "watch [SERVICE...]",
		Short: "Watch build context for service and rebuild/refresh containers when files are updated",
		RunE: func(cmd *cobra.Command, services []string) error {
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			p, err := po.load(ctx)
			if err != nil {
				return err
			}
			var ws []*watcher
			for _, name := range sortedServices(p, services) {
				s, ok := p.Services[name]
				if !ok {
					return fmt.Errorf("no such service: %s", name)
				}
				if s.Develop == nil {
					continue
				}
				for _, t := range s.Develop.Watch {
					if t.Action == types.WatchActionRebuild && s.Build == nil {
						return fmt.Errorf("can't watch service %q with action %s without a build context", s.Name, types.WatchActionRebuild)
					}
					m, err := patternmatcher.New(t.Ignore)
					if err != nil {
						return err
					}
					w := &watcher{service: s.Name, trigger: t, ignore: m}
					w.seen = w.scan()
					ws = append(ws, w)
				}
			}
			if len(ws) == 0 {
				return fmt.Errorf("none of the selected services is configured for watch, consider setting a 'develop' section")
			}
			e, err := engine(c, po)
			if err != nil {
				return err
			}
			build := func(ctx context.Context, s types.ServiceConfig) error {
				api, _ := c.Client()
				if !missingImage(ctx, api, compose.ImageName(p, s)) {
					return nil
				}
				return buildService(ctx, c, p, s, buildOptions{quiet: quiet})
			}
			if !noUp {
				if err := e.Up(ctx, p, compose.UpOptions{Services: services, Build: build}); err != nil {
					return err
				}
			}
			fmt.Fprintln(c.Out(), "Watch enabled")
			tick := time.NewTicker(watchInterval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					fmt.Fprintln(c.Out(), "Watch disabled")
					return nil
				case <-tick.C:
				}
				for _, w := range ws {
					changed, removed := w.changes()
					if len(changed)+len(removed) == 0 {
						continue
					}
					if err := w.apply(ctx, c, e, p, changed, removed, quiet); err != nil {
						fmt.Fprintf(c.Err(), "%s\n", err)
					}
				}
			}
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&noUp, "no-up", false, "Do not build & start services before watching")
	fl.BoolVar(&quiet, "quiet", false, "hide build output")
	fl.BoolVar(&prune, "prune", true, "Prune dangling images on rebuild")
	return cmd
}

// scan is the state of every file under the trigger's path that its
// ignore patterns do not exclude.
func (w *watcher) scan() map[string]fileState {
	out := map[string]fileState{}
	root := w.trigger.Path
	st, err := os.Stat(root)
	if err != nil {
		return out
	}
	if !st.IsDir() {
		out["."] = fileState{st.Size(), st.ModTime(), false}
		return out
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if ok, _ := w.ignore.MatchesOrParentMatches(filepath.ToSlash(rel)); ok {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		out[rel] = fileState{info.Size(), info.ModTime(), d.IsDir()}
		return nil
	})
	return out
}

// changes compares a new scan with the last: the paths added or changed,
// and those removed.
func (w *watcher) changes() (changed, removed []string) {
	now := w.scan()
	for p, s := range now {
		if old, ok := w.seen[p]; !ok || old != s {
			if !s.dir {
				changed = append(changed, p)
			}
		}
	}
	for p := range w.seen {
		if _, ok := now[p]; !ok {
			removed = append(removed, p)
		}
	}
	w.seen = now
	sort.Strings(changed)
	sort.Strings(removed)
	return changed, removed
}

// apply does the trigger's action for the changes.
func (w *watcher) apply(ctx context.Context, c *cli.Cli, e *compose.Engine, p *types.Project, changed, removed []string, quiet bool) error {
	s := p.Services[w.service]
	switch w.trigger.Action {
	case types.WatchActionRebuild:
		fmt.Fprintf(c.Out(), "Rebuilding service(s) %q after changes were detected...\n", []string{w.service})
		if err := buildService(ctx, c, p, s, buildOptions{quiet: quiet}); err != nil {
			fmt.Fprintf(c.Out(), "Build failed. Error: %v\n", err)
			return nil
		}
		fmt.Fprintf(c.Out(), "service(s) %q successfully built\n", []string{w.service})
		if err := e.Up(ctx, p, compose.UpOptions{Services: []string{w.service}, NoDeps: true}); err != nil {
			fmt.Fprintf(c.Out(), "Failed to recreate services after update. Error: %v\n", err)
		}
		return nil
	case types.WatchActionRestart:
		fmt.Fprintf(c.Out(), "Restarting service %q after changes were detected\n", w.service)
		return e.Restart(ctx, p, []string{w.service}, nil)
	}
	fmt.Fprintf(c.Out(), "Syncing service %q after %d changes were detected\n", w.service, len(changed)+len(removed))
	if err := w.sync(ctx, c, e, p, changed, removed); err != nil {
		return err
	}
	if w.trigger.Action == types.WatchActionSyncRestart {
		if err := e.Restart(ctx, p, []string{w.service}, nil); err != nil {
			return err
		}
		fmt.Fprintf(c.Out(), "service(s) %q restarted\n", []string{w.service})
	}
	return nil
}

// sync copies changed files to the trigger's target in the service's
// running containers, and removes the removed ones there.
func (w *watcher) sync(ctx context.Context, c *cli.Cli, e *compose.Engine, p *types.Project, changed, removed []string) error {
	api, err := c.Client()
	if err != nil {
		return err
	}
	cs, err := e.Containers(ctx, p.Name, []string{w.service}, false)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, rel := range changed {
		src := filepath.Join(w.trigger.Path, rel)
		dst := w.trigger.Target
		if rel != "." {
			dst = path.Join(dst, filepath.ToSlash(rel))
		}
		b, err := os.ReadFile(src)
		if err != nil {
			continue // gone again
		}
		st, err := os.Stat(src)
		if err != nil {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(dst, "/"), Mode: int64(st.Mode().Perm()), Size: int64(len(b)), ModTime: st.ModTime(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	for _, ct := range cs {
		if len(changed) > 0 {
			if _, err := api.CopyToContainer(ctx, ct.ID, client.CopyToContainerOptions{DestinationPath: "/", Content: bytes.NewReader(buf.Bytes())}); err != nil {
				return err
			}
		}
		if len(removed) > 0 {
			cmd := []string{"rm", "-rf"}
			for _, rel := range removed {
				cmd = append(cmd, path.Join(w.trigger.Target, filepath.ToSlash(rel)))
			}
			ex, err := api.ExecCreate(ctx, ct.ID, client.ExecCreateOptions{Cmd: cmd})
			if err != nil {
				return err
			}
			if _, err := api.ExecStart(ctx, ex.ID, client.ExecStartOptions{Detach: true}); err != nil {
				return err
			}
		}
	}
	return nil
}
