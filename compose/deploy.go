package compose

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/apiext"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Blue/green deploys (issue 14): a service with deploy.update_config.order
// start-first stands behind a berthd frontend (docs/api-extensions.md)
// that owns its published ports and its DNS names. An update starts the
// new containers next to the serving ones, waits until they are ready,
// switches the frontend to them in one step, lets the old ones drain and
// keeps them, stopped, for a rollback.

// Defaults where update_config says nothing: Docker Swarm's monitor, and
// Docker's stop timeout as the longest drain.
const (
	defaultMonitor = 5 * time.Second
	defaultDrain   = 10 * time.Second
)

// startFirst reports whether s deploys blue/green.
func startFirst(s types.ServiceConfig) bool {
	return s.Deploy != nil && s.Deploy.UpdateConfig != nil && s.Deploy.UpdateConfig.Order == "start-first"
}

// FrontendName is the frontend of a start-first service.
func FrontendName(project, service string) string { return project + "-" + service }

// frontendSpec is the frontend a start-first service stands behind: its
// fixed published ports, on its first network, and its names there.
func frontendSpec(p *types.Project, s types.ServiceConfig) (apiext.FrontendCreateRequest, error) {
	req := apiext.FrontendCreateRequest{Name: FrontendName(p.Name, s.Name), Labels: map[string]string{
		ProjectLabel: p.Name, ServiceLabel: s.Name}}
	fail := func(why string) (apiext.FrontendCreateRequest, error) {
		return req, fmt.Errorf("service %q: update_config.order start-first %s", s.Name, why)
	}
	if s.NetworkMode != "" {
		return fail("needs the service on networks, not network_mode " + s.NetworkMode)
	}
	if s.ContainerName != "" {
		return fail("cannot keep container_name: the new container starts next to the old one")
	}
	keys := s.NetworksByPriority()
	if len(keys) == 0 {
		keys = []string{"default"}
	}
	n, ok := p.Networks[keys[0]]
	if !ok {
		return req, fmt.Errorf("service %q refers to undefined network %s: invalid compose project", s.Name, keys[0])
	}
	req.Network = n.Name
	req.Aliases = []string{s.Name}
	for _, k := range keys {
		if cfg := s.Networks[k]; cfg != nil {
			if cfg.Ipv4Address != "" || cfg.Ipv6Address != "" {
				return fail("cannot keep a fixed address on network " + k)
			}
			for _, a := range cfg.Aliases {
				if !slices.Contains(req.Aliases, a) {
					req.Aliases = append(req.Aliases, a)
				}
			}
		}
	}
	for _, pc := range s.Ports {
		port, err := strconv.Atoi(pc.Published)
		if err != nil || port == 0 {
			return fail(fmt.Sprintf("needs fixed published ports (port %d: %q)", pc.Target, pc.Published))
		}
		req.Ports = append(req.Ports, apiext.FrontendPort{Protocol: pc.Protocol, HostIP: pc.HostIP, HostPort: port, TargetPort: int(pc.Target)})
	}
	return req, nil
}

// deployPlan is a start-first service's state: what serves, what was
// kept from the last deploy, what is left over from an interrupted one.
type deployPlan struct {
	fe                       *apiext.Frontend
	serving, previous, stale []container.Summary
}

func (e *Engine) deployState(ctx context.Context, p *types.Project, s types.ServiceConfig, name string) (*deployPlan, error) {
	fe, err := e.fe.get(ctx, name)
	if err != nil {
		return nil, err
	}
	cs, err := e.containers(ctx, p.Name, false, s.Name)
	if err != nil {
		return nil, err
	}
	d := &deployPlan{fe: fe}
	for _, c := range cs {
		switch {
		case fe == nil:
			d.serving = append(d.serving, c) // a service opting in: what it has serves
		case slices.Contains(fe.Backends, c.ID):
			d.serving = append(d.serving, c)
		case slices.Contains(fe.Previous, c.ID):
			d.previous = append(d.previous, c)
		default:
			d.stale = append(d.stale, c)
		}
	}
	return d, nil
}

// convergeStartFirst brings a start-first service to its wanted
// containers without a moment in which its ports or names lead nowhere.
func (e *Engine) convergeStartFirst(ctx context.Context, p *types.Project, s types.ServiceConfig, o UpOptions) error {
	spec, err := frontendSpec(p, s)
	if err != nil {
		return err
	}
	d, err := e.deployState(ctx, p, s, spec.Name)
	if err != nil {
		return err
	}
	// left over from an interrupted deploy: not serving, not kept
	if err := e.removeContainers(ctx, d.stale, o.Timeout, false); err != nil {
		return err
	}
	if d.fe == nil {
		// the first time: the frontend takes over the port of what
		// runs, and what it creates or starts stands behind it
		var up, down []container.Summary
		for _, c := range d.serving {
			if c.State == container.StateRunning {
				up = append(up, c)
			} else {
				down = append(down, c)
			}
		}
		if len(d.serving) == 0 {
			for n := 1; n <= replicas(s, o.Scale); n++ {
				id, cname, err := e.createContainer(ctx, p, s, n, "", o.PullOut)
				if err != nil {
					return err
				}
				down = append(down, container.Summary{ID: id, Names: []string{"/" + cname}, Labels: map[string]string{ContainerNumberLabel: strconv.Itoa(n)}})
			}
		}
		if o.NoStart {
			return nil
		}
		spec.Backends, spec.Candidates = ids(up), ids(down)
		if d.fe, err = e.fe.create(ctx, spec); err != nil {
			return err
		}
		for _, c := range down {
			if err := e.startContainer(ctx, name(c), c.ID); err != nil {
				return err
			}
		}
		if len(down) > 0 {
			if _, err := e.fe.switchTo(ctx, d.fe.Name, apiext.FrontendSwitchRequest{Backends: ids(slices.Concat(up, down))}); err != nil {
				return err
			}
		}
		return e.convergeStartFirst(ctx, p, s, o) // now as any later up
	}
	if o.NoStart {
		return nil
	}
	// serving ones that were stopped (compose stop) start again; kept
	// ones still running (an up interrupted while they drained) stop
	for _, c := range d.serving {
		if c.State != container.StateRunning {
			if err := e.startContainer(ctx, name(c), c.ID); err != nil {
				return err
			}
		}
	}
	if err := e.drainAndStop(ctx, s, d.fe.Name, running(d.previous), o.Timeout); err != nil {
		return err
	}
	current, err := e.upToDate(ctx, p, s, o)
	if err != nil {
		return err
	}
	want := replicas(s, o.Scale)
	var keep, outdated, extra []container.Summary
	for _, c := range d.serving {
		switch {
		case !current(c):
			outdated = append(outdated, c)
		case len(keep) < want:
			keep = append(keep, c)
		default:
			extra = append(extra, c)
		}
	}
	need := want - len(keep)
	if need == 0 && len(outdated) == 0 && len(extra) == 0 {
		for _, c := range keep {
			e.progress.Event(containerID(name(c)), "Running", "")
		}
		return nil
	}
	return e.deploy(ctx, p, s, d, need, outdated, extra, o)
}

// deploy replaces outdated and extra serving containers with need new
// ones, parallelism at a time, switching the frontend after each batch.
// The old ones keep running until every batch is in (so a failure can
// switch back at once), then drain; the outdated are kept, stopped, as
// the previous version.
func (e *Engine) deploy(ctx context.Context, p *types.Project, s types.ServiceConfig, d *deployPlan, need int, outdated, extra []container.Summary, o UpOptions) error {
	uc := s.Deploy.UpdateConfig
	batch := need + len(outdated) + len(extra)
	if uc.Parallelism != nil && *uc.Parallelism > 0 {
		batch = int(*uc.Parallelism)
	}
	fe := d.fe.Name
	orig := ids(d.serving)
	numbers := map[int]bool{}
	for _, c := range slices.Concat(d.serving, d.previous) {
		numbers[number(c)] = true
	}
	retire := slices.Concat(outdated, extra)
	backends := slices.Clone(orig)
	var greens []string
	e.progress.Event("Service "+s.Name, "Updating", "start-first")
	for need > 0 || len(retire) > 0 {
		nNew, nOld := min(batch, need), min(batch, len(retire))
		fresh, err := e.startCandidates(ctx, p, s, fe, nNew, numbers, o)
		greens = append(greens, fresh...)
		if err != nil {
			return e.failDeploy(ctx, s, fe, orig, greens, err, o)
		}
		old := ids(retire[:nOld])
		retire = retire[nOld:]
		backends = slices.Concat(slices.DeleteFunc(backends, func(id string) bool { return slices.Contains(old, id) }), fresh)
		prev := ids(outdated)
		if _, err := e.fe.switchTo(ctx, fe, apiext.FrontendSwitchRequest{Backends: backends, Previous: &prev}); err != nil {
			return e.failDeploy(ctx, s, fe, orig, greens, err, o)
		}
		e.progress.Event("Service "+s.Name, "Switched", fmt.Sprintf("%d new serving", len(greens)))
		if len(outdated) > 0 && len(d.previous) > 0 {
			// one previous version is kept: once the new one serves,
			// the older one goes
			if err := e.removeContainers(ctx, d.previous, o.Timeout, false); err != nil {
				return err
			}
			d.previous = nil
		}
		need -= nNew
		if uc.Delay != 0 && (need > 0 || len(retire) > 0) {
			time.Sleep(time.Duration(uc.Delay))
		}
	}
	if err := e.drainAndStop(ctx, s, fe, outdated, o.Timeout); err != nil {
		return err
	}
	if len(extra) > 0 {
		if err := e.removeContainers(ctx, extra, o.Timeout, false); err != nil {
			return err
		}
	}
	e.progress.Event("Service "+s.Name, "Updated", "")
	return nil
}

// startCandidates creates n new containers of s under the lowest free
// numbers, marks them as the frontend's candidates (so they do not
// publish its ports themselves), starts them and waits until they are
// ready. It returns those it created, also on error.
func (e *Engine) startCandidates(ctx context.Context, p *types.Project, s types.ServiceConfig, fe string, n int, numbers map[int]bool, o UpOptions) ([]string, error) {
	var made []string
	var names []string
	for i := 0; i < n; i++ {
		num := 1
		for numbers[num] {
			num++
		}
		numbers[num] = true
		id, cname, err := e.createContainer(ctx, p, s, num, "", o.PullOut)
		if err != nil {
			return made, err
		}
		made, names = append(made, id), append(names, cname)
	}
	if len(made) == 0 {
		return nil, nil
	}
	if _, err := e.fe.update(ctx, fe, apiext.FrontendUpdateRequest{Candidates: &made}); err != nil {
		return made, err
	}
	for i, id := range made {
		if err := e.startContainer(ctx, names[i], id); err != nil {
			return made, err
		}
	}
	for i, id := range made {
		if err := e.waitServing(ctx, s, names[i], id, o.WaitTimeout); err != nil {
			return made, err
		}
	}
	return made, nil
}

// waitServing waits until a new container is ready to serve: healthy if
// it has a healthcheck, else still running after update_config.monitor.
// It looks again on each of the container's events (a health_status is
// acted on within a millisecond or two, where polling waited half its
// period on average), and every readyPoll in case one was missed.
func (e *Engine) waitServing(ctx context.Context, s types.ServiceConfig, cname, id string, timeout time.Duration) error {
	monitor := defaultMonitor
	if m := s.Deploy.UpdateConfig.Monitor; m != 0 {
		monitor = time.Duration(m)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	evCtx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	sub := e.api.Events(evCtx, client.EventsListOptions{Filters: make(client.Filters).Add("type", "container").Add("container", id)})
	events, errs := sub.Messages, sub.Err
	ev := containerID(cname)
	e.progress.Event(ev, "Waiting", "")
	began := time.Now()
	for {
		res, err := e.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		st := res.Container.State
		switch {
		case !st.Running:
			return fmt.Errorf("container %s exited (%d)", cname, st.ExitCode)
		case st.Health != nil && st.Health.Status == container.Unhealthy:
			return fmt.Errorf("container %s is unhealthy", cname)
		case st.Health != nil && st.Health.Status == container.Healthy,
			st.Health == nil && time.Since(began) >= monitor:
			e.progress.Event(ev, "Healthy", "")
			return nil
		}
		wait := readyPoll
		if events == nil {
			wait = readyPollNoEvents
		}
		if st.Health == nil {
			wait = min(wait, monitor-time.Since(began))
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("container %s was not ready within %s", cname, timeout)
			}
			return ctx.Err()
		case <-events:
		case <-errs: // no events (an engine without them): poll
			events, errs = nil, nil
		case <-time.After(wait):
		}
	}
}

// How often waitServing looks without an event: a safety net while the
// container's events arrive, the only way when they do not.
const (
	readyPoll         = 250 * time.Millisecond
	readyPollNoEvents = 25 * time.Millisecond
)

// failDeploy undoes a deploy that failed: the frontend goes back to the
// containers that served before (which never stopped), and the new ones
// are removed, or, with update_config.failure_action pause, left for
// inspection. The error names the service and the reason.
func (e *Engine) failDeploy(ctx context.Context, s types.ServiceConfig, fe string, orig, greens []string, cause error, o UpOptions) error {
	err := fmt.Errorf("service %q: update failed: %w", s.Name, cause)
	if s.Deploy.UpdateConfig.FailureAction == "pause" {
		e.progress.Event("Service "+s.Name, "Paused", cause.Error())
		return err
	}
	if cur, gerr := e.fe.get(ctx, fe); gerr == nil && cur != nil && !sameSet(cur.Backends, orig) {
		prev := cur.Previous
		if _, serr := e.fe.switchTo(ctx, fe, apiext.FrontendSwitchRequest{Backends: orig, Previous: &prev, Rollback: true}); serr != nil {
			return errors.Join(err, serr)
		}
	}
	for _, id := range greens {
		if _, rerr := e.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); rerr != nil && !errdefs.IsNotFound(rerr) {
			err = errors.Join(err, rerr)
		}
	}
	empty := []string{}
	_, _ = e.fe.update(ctx, fe, apiext.FrontendUpdateRequest{Candidates: &empty})
	e.progress.Event("Service "+s.Name, "Rolled back", cause.Error())
	return err
}

// drainAndStop waits until the containers switched away from have no
// connection left through the frontend (at most stop_grace_period), then
// stops them.
func (e *Engine) drainAndStop(ctx context.Context, s types.ServiceConfig, fe string, cs []container.Summary, timeout *int) error {
	if len(cs) == 0 {
		return nil
	}
	limit := defaultDrain
	if s.StopGracePeriod != nil {
		limit = time.Duration(*s.StopGracePeriod)
	}
	deadline := time.Now().Add(limit)
	left := ids(cs)
	for len(left) > 0 && time.Now().Before(deadline) {
		f, err := e.fe.get(ctx, fe)
		if err != nil || f == nil {
			break
		}
		left = slices.DeleteFunc(left, func(id string) bool {
			for _, m := range f.Members {
				if m.ID == id {
					return m.Connections == 0
				}
			}
			return true
		})
		if len(left) > 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	t := timeout
	if t == nil {
		t = seconds(s.StopGracePeriod)
	}
	for _, c := range cs {
		ev := containerID(name(c))
		e.progress.Event(ev, "Stopping", "drained")
		if _, err := e.api.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: t}); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		e.progress.Event(ev, "Stopped", "kept as the previous version")
	}
	return nil
}

// Rollback switches start-first services back to the version their last
// deploy replaced: it is started and made ready first, then serves, and
// the version it replaces drains and is kept in its turn. A deploy left
// half done (candidates, not yet serving) is undone instead.
func (e *Engine) Rollback(ctx context.Context, p *types.Project, services []string, o UpOptions) error {
	if !e.fe.served(ctx) {
		return errors.New("rollback needs berthd: this daemon has no frontends (blue/green deploys)")
	}
	done := 0
	for _, svc := range sortedKeys(p.Services) {
		s := p.Services[svc]
		if len(services) > 0 && !slices.Contains(services, s.Name) {
			continue
		}
		if !startFirst(s) {
			if len(services) > 0 {
				return fmt.Errorf("service %q does not deploy blue/green (deploy.update_config.order: start-first)", s.Name)
			}
			continue
		}
		d, err := e.deployState(ctx, p, s, FrontendName(p.Name, s.Name))
		if err != nil {
			return err
		}
		if d.fe == nil {
			return fmt.Errorf("service %q has not been deployed", s.Name)
		}
		if len(d.stale) > 0 {
			e.progress.Event("Service "+s.Name, "Rolling back", "an update under way")
			if err := e.removeContainers(ctx, d.stale, o.Timeout, false); err != nil {
				return err
			}
			empty := []string{}
			_, _ = e.fe.update(ctx, d.fe.Name, apiext.FrontendUpdateRequest{Candidates: &empty})
			done++
			continue
		}
		if len(d.previous) == 0 {
			return fmt.Errorf("service %q has no previous version to roll back to", s.Name)
		}
		e.progress.Event("Service "+s.Name, "Rolling back", "")
		for _, c := range d.previous {
			if c.State != container.StateRunning {
				if err := e.startContainer(ctx, name(c), c.ID); err != nil {
					return err
				}
			}
			if err := e.waitServing(ctx, s, name(c), c.ID, o.WaitTimeout); err != nil {
				return fmt.Errorf("service %q: rollback failed: %w", s.Name, err)
			}
		}
		cur := ids(d.serving)
		if _, err := e.fe.switchTo(ctx, d.fe.Name, apiext.FrontendSwitchRequest{Backends: ids(d.previous), Previous: &cur, Rollback: true}); err != nil {
			return err
		}
		if err := e.drainAndStop(ctx, s, d.fe.Name, d.serving, o.Timeout); err != nil {
			return err
		}
		e.progress.Event("Service "+s.Name, "Rolled back", "")
		done++
	}
	if done == 0 && len(services) == 0 {
		return errors.New("no service of the project deploys blue/green (deploy.update_config.order: start-first)")
	}
	return nil
}

// Roles tells, for the containers of a project's start-first services,
// which version each is: "serving", "previous" (kept for a rollback) or
// "starting" (a deploy under way). Against a Docker daemon: none.
func (e *Engine) Roles(ctx context.Context, project string) (map[string]string, error) {
	l, err := e.fe.list(ctx, map[string][]string{"label": {ProjectLabel + "=" + project}})
	if errdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	roles := map[string]string{}
	for _, f := range l {
		for _, m := range f.Members {
			roles[m.ID] = map[string]string{"backend": "serving", "previous": "previous", "candidate": "starting"}[m.Role]
		}
	}
	return roles, nil
}

// removeFrontends removes a project's frontends (down).
func (e *Engine) removeFrontends(ctx context.Context, project string) error {
	l, err := e.fe.list(ctx, map[string][]string{"label": {ProjectLabel + "=" + project}})
	if err != nil {
		if errdefs.IsNotFound(err) { // a Docker daemon
			return nil
		}
		return err
	}
	for _, f := range l {
		if err := e.fe.remove(ctx, f.Name); err != nil {
			return err
		}
	}
	return nil
}

func ids(cs []container.Summary) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func running(cs []container.Summary) []container.Summary {
	var out []container.Summary
	for _, c := range cs {
		if c.State == container.StateRunning {
			out = append(out, c)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, ",") == strings.Join(b, ",")
}
