package integration

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/apiext"
)

// load sends requests to url without pause until stopped, each on a new
// connection, and counts what failed (refused, reset, timed out, not 200,
// an unexpected body) and which versions answered.
type load struct {
	url      string
	stop     chan struct{}
	done     sync.WaitGroup
	ok, bad  atomic.Int64
	mu       sync.Mutex
	versions map[string]int
	errs     []string
}

func startLoad(url string, workers int) *load {
	l := &load{url: url, stop: make(chan struct{}), versions: map[string]int{}}
	for i := 0; i < workers; i++ {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				l.one(c)
			}
		}()
	}
	return l
}

func (l *load) one(c *http.Client) {
	resp, err := c.Get(l.url)
	var body string
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		body, err = strings.TrimSpace(string(b)), rerr
		if err == nil && (resp.StatusCode != 200 || !strings.HasPrefix(body, "v")) {
			err = fmt.Errorf("status %d, body %q", resp.StatusCode, body)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.bad.Add(1)
		if len(l.errs) < 5 {
			l.errs = append(l.errs, err.Error())
		}
		return
	}
	l.ok.Add(1)
	l.versions[body]++
}

func (l *load) finish() (ok, bad int64, versions map[string]int, errs []string) {
	close(l.stop)
	l.done.Wait()
	return l.ok.Load(), l.bad.Load(), l.versions, l.errs
}

const blueGreenProject = `services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo $$VERSION > /www/index.html && exec httpd -f -p 80 -h /www"]
    environment: {VERSION: "%s"}
    ports: ["%d:80"]
    stop_signal: SIGKILL
    stop_grace_period: 2s
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1/"]
      interval: 200ms
      retries: 3
    deploy:
      update_config:
        order: start-first
        monitor: 300ms
  client:
    image: busybox
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
`

// blueGreen is blueGreenProject run as a project on a daemon of its own.
type blueGreen struct {
	d       *daemon
	dir     string
	port    int
	url     string
	write   func(version string) // the project's file at version
	compose func(args ...string) result
}

// upBlueGreen writes blueGreenProject at v1 as project, brings it up and
// waits until it serves.
func upBlueGreen(t *testing.T, project string) *blueGreen {
	d := startDaemon(t)
	d.loadBusybox()
	bg := &blueGreen{d: d, dir: t.TempDir(), port: freePortPair(t)}
	bg.url = fmt.Sprintf("http://127.0.0.1:%d/", bg.port)
	bg.write, bg.compose = d.project(t, bg.dir, project, func(version string) string { return fmt.Sprintf(blueGreenProject, version, bg.port) })
	bg.write("v1")
	must(t, bg.compose("up", "-d"))
	waitHTTP(t, bg.url, "v1")
	return bg
}

// TestComposeBlueGreen: up -d of a start-first service whose config
// changed starts the new version next to the old one and switches to it
// with no failed request under steady load; rollback switches back the
// same way; a version that never gets healthy is removed and the old one
// keeps serving (one that exits under failure_action pause is left, not
// serving); down leaves no frontend rule.
func TestComposeBlueGreen(t *testing.T) {
	bg := upBlueGreen(t, "bg")
	d, dir, port, url, write, compose := bg.d, bg.dir, bg.port, bg.url, bg.write, bg.compose
	resolve := func() string {
		return must(t, d.berth("exec", "bg-client-1", "wget", "-qO-", "http://web/"))
	}
	if got := resolve(); got != "v1" {
		t.Fatalf("web by name: %q", got)
	}

	l := startLoad(url, 4)
	write("v2")
	r := compose("up", "-d")
	time.Sleep(200 * time.Millisecond) // load after the switch
	ok, bad, versions, errs := l.finish()
	if r.code != 0 {
		t.Fatalf("deploy: %s", r)
	}
	if bad != 0 || versions["v2"] == 0 {
		t.Fatalf("deploy v1→v2: %d ok, %d failed %v, versions %v\n%s", ok, bad, errs, versions, r.stderr)
	}
	if got := resolve(); got != "v2" {
		t.Fatalf("web by name after the deploy: %q", got)
	}
	// the old version is kept, stopped
	if got := must(t, compose("ps", "-a", "--format", "{{.Service}} {{.State}} {{.Role}}")); got != "client running \nweb exited previous\nweb running serving" {
		t.Fatalf("ps -a after the deploy: %q", got)
	}

	l = startLoad(url, 4)
	r = compose("rollback")
	time.Sleep(200 * time.Millisecond)
	ok, bad, versions, errs = l.finish()
	if r.code != 0 || bad != 0 || versions["v1"] == 0 {
		t.Fatalf("rollback: %d ok, %d failed %v, versions %v\n%s", ok, bad, errs, versions, r)
	}
	if b, _ := httpGet(url); strings.TrimSpace(b) != "v1" {
		t.Fatalf("after the rollback: %q", b)
	}

	// a version that never gets healthy: removed, v1 serves on
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(strings.Replace(fmt.Sprintf(blueGreenProject, "v3", port),
		`"http://127.0.0.1/"]`, `"http://127.0.0.1:81/"]`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	l = startLoad(url, 2)
	r = compose("up", "-d")
	ok, bad, versions, errs = l.finish()
	if r.code == 0 || !strings.Contains(r.stderr, `service "web": update failed: container`) || !strings.Contains(r.stderr, "is unhealthy") {
		t.Fatalf("a deploy that cannot get healthy: %s", r)
	}
	if bad != 0 || versions["v3"] != 0 {
		t.Fatalf("during the failed deploy: %d ok, %d failed %v, versions %v", ok, bad, errs, versions)
	}
	if n := strings.Count(must(t, compose("ps", "-a", "-q")), "\n") + 1; n != 3 {
		t.Fatalf("the failed version was left: %d containers", n)
	}
	// one that exits, with failure_action pause: left for inspection,
	// not serving; the next up -d removes it
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(strings.NewReplacer(
		`exec httpd -f -p 80 -h /www"]`, `exit 3"]`,
		"monitor: 300ms", "monitor: 300ms\n        failure_action: pause").Replace(fmt.Sprintf(blueGreenProject, "v5", port))), 0o644); err != nil {
		t.Fatal(err)
	}
	r = compose("up", "-d")
	if r.code == 0 || !strings.Contains(r.stderr, `service "web": update failed: container`) || !strings.Contains(r.stderr, "exited (3)") {
		t.Fatalf("a deploy whose container exits: %s", r)
	}
	if got := must(t, compose("ps", "-a", "--format", "{{.Service}} {{.State}} {{.Role}}")); !strings.Contains(got, "web exited starting") || !strings.Contains(got, "web running serving") {
		t.Fatalf("paused deploy: %q", got)
	}
	if b, _ := httpGet(url); strings.TrimSpace(b) != "v1" {
		t.Fatalf("after the paused deploy: %q", b)
	}
	write("v1") // the serving version's own config: nothing to deploy, the paused one goes
	must(t, compose("up", "-d"))
	if n := strings.Count(must(t, compose("ps", "-a", "-q")), "\n") + 1; n != 3 {
		t.Fatalf("the paused version was left after up -d: %d containers", n)
	}
	// a new version that publishes a port another project's container holds
	// is refused before anything starts
	other := freePortPair(t)
	holder := must(t, d.berth("run", "-d", "-p", fmt.Sprintf("%d:80", other), "busybox", "sleep", "1000"))
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(strings.Replace(fmt.Sprintf(blueGreenProject, "v4", port),
		fmt.Sprintf(`ports: ["%d:80"]`, port), fmt.Sprintf(`ports: ["%d:80", "%d:81"]`, port, other), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = compose("up", "-d")
	if r.code == 0 || !strings.Contains(r.stderr, "port is already allocated") {
		t.Fatalf("a deploy onto a taken port: %s", r)
	}
	if n := strings.Count(must(t, compose("ps", "-a", "-q")), "\n") + 1; n != 3 {
		t.Fatalf("the refused deploy made containers: %d", n)
	}
	if b, _ := httpGet(url); strings.TrimSpace(b) != "v1" {
		t.Fatalf("after the refused deploy: %q", b)
	}
	must(t, d.berth("rm", "-f", holder))
	must(t, compose("down", "-t", "0"))
	if left := d.berthRules(); strings.Contains(left, "BERTH-FE") || strings.Contains(left, " fe-") {
		t.Fatalf("frontend rules after down:\n%s", left)
	}
	if b, err := httpGet(url); err == nil {
		t.Fatalf("the port still answers after down: %q", b)
	}
}

// TestDeployKill9: berthd killed at each step of a deploy and of a
// rollback (the update started, the new version started, healthy, the
// switch made, the old version stopped): after the restart one version
// serves the port, the one the records say, the rules come back from the
// records as they were, and up -d finishes.
func TestDeployKill9(t *testing.T) {
	bg := upBlueGreen(t, "kd")
	d, dir, url, write, compose := bg.d, bg.dir, bg.url, bg.write, bg.compose
	serving, previous, n := "v1", "", 1
	const (
		before = iota // the version serving before serves after the restart
		after         // the one switched to does
		either        // the switch follows healthy within a millisecond or two: the kill may land after it
	)
	for _, step := range []struct {
		rollback bool
		at       string // the event berthd is killed on
		serves   int
	}{
		{false, "frontend update start", before},
		{false, "container start", before},
		{false, "container health_status: healthy", either},
		{false, "frontend switch", after},
		{false, "container die", after}, // the old version stopped once drained
		{true, "container start", before},
		{true, "container health_status: healthy", either},
		{true, "frontend rollback", after},
	} {
		name := step.at
		cmd := []string{"up", "-d"}
		target := serving // what the interrupted command moves to
		if step.rollback {
			name, cmd, target = "rollback at "+name, []string{"rollback"}, previous
		} else {
			n++
			target = fmt.Sprintf("v%d", n)
			write(target)
		}
		events := exec.Command(filepath.Join(binDir, "berth"), "-H", "unix://"+d.sock, "events",
			"--filter", "type=frontend", "--filter", "type=container", "--format", "{{.Type}} {{.Action}}")
		out, err := events.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := events.Start(); err != nil {
			t.Fatal(err)
		}
		run := exec.Command(filepath.Join(binDir, "berth"), append([]string{"-H", "unix://" + d.sock, "compose", "--project-directory", dir, "-p", "kd"}, cmd...)...)
		if err := run.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(time.Minute, func() { _ = events.Process.Kill() })
		seen := false
		for sc := bufio.NewScanner(out); !seen && sc.Scan(); {
			seen = sc.Text() == step.at
		}
		timer.Stop()
		d.stop(syscall.SIGKILL)
		_ = run.Wait()
		_ = events.Wait()
		if !seen {
			t.Fatalf("%s: no %q event within a minute", strings.Join(cmd, " "), step.at)
		}
		d.start()
		// one version serves, the same for every new connection
		first, err := httpGet(url)
		if err != nil {
			t.Fatalf("killed at %q: nothing serves: %v", name, err)
		}
		for j := 0; j < 10; j++ {
			if b, _ := httpGet(url); b != first {
				t.Fatalf("killed at %q: %q then %q", name, first, b)
			}
		}
		now := strings.TrimSpace(first)
		if want := map[int][]string{before: {serving}, after: {target}, either: {serving, target}}[step.serves]; !slices.Contains(want, now) {
			t.Fatalf("killed at %q: %q serves, want one of %q", name, now, want)
		}
		// and it is the one the frontend's record names
		var fe apiext.Frontend
		d.apiJSON(t, "GET", "/berth/frontends/kd-web", nil, 200, &fe)
		if len(fe.Backends) != 1 {
			t.Fatalf("killed at %q: the frontend's backends %v", name, fe.Backends)
		}
		if env := must(t, d.berth("inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", fe.Backends[0])); !slices.Contains(strings.Split(env, "\n"), "VERSION="+now) {
			t.Fatalf("killed at %q: %q serves, the record's backend has\n%s", name, now, env)
		}
		// the rules are what the records give: the same after another restart
		rules := d.berthRules()
		d.stop(syscall.SIGTERM)
		d.start()
		if again := d.berthRules(); again != rules {
			t.Fatalf("killed at %q: rules after a clean restart differ:\n%s\nwere:\n%s", name, again, rules)
		}
		// up -d brings the file's version, whatever was interrupted
		file := fmt.Sprintf("v%d", n)
		must(t, compose("up", "-d"))
		waitHTTP(t, url, file)
		got := strings.Split(must(t, compose("ps", "-a", "--format", "{{.Service}} {{.State}} {{.Role}}")), "\n")
		slices.Sort(got)
		if !slices.Equal(got, []string{"client running ", "web exited previous", "web running serving"}) {
			t.Fatalf("killed at %q, then up -d: %q", name, got)
		}
		if file != serving {
			previous = serving
		}
		serving = file
	}
	must(t, compose("rollback"))
	waitHTTP(t, url, previous)
	must(t, compose("down", "-t", "0"))
}

// TestDeployNoLeaks: 100 consecutive deploys and rollbacks of a
// start-first service leave no container, rule, veth, mount, cgroup,
// monitor, descriptor or conntrack entry behind once the project is down.
func TestDeployNoLeaks(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	cycles := 100
	if testing.Short() {
		cycles = 12
	}
	dir := t.TempDir()
	port := freePortPair(t)
	const project = `services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo $$VERSION > /www/index.html && exec httpd -f -p 80 -h /www"]
    environment: {VERSION: "%s"}
    ports: ["%d:80"]
    stop_signal: SIGKILL
    networks: [leaknet]
    deploy:
      update_config: {order: start-first, monitor: 50ms}
networks:
  leaknet:
    ipam:
      config: [{subnet: 10.231.7.0/24}]
`
	write, compose := d.project(t, dir, "lk", func(version string) string { return fmt.Sprintf(project, version, port) })
	must(t, d.berth("run", "--rm", "busybox", "true"))
	base := d.leakBaseline()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	version := 1
	write("v1")
	must(t, compose("up", "-d"))
	for i := 1; i < cycles; i++ {
		if i%4 == 3 {
			must(t, compose("rollback"))
			version = 3 - version
		} else {
			version = 3 - version
			write(fmt.Sprintf("v%d", version))
			must(t, compose("up", "-d"))
		}
		if i%10 == 0 {
			if b, err := httpGet(url); err != nil || strings.TrimSpace(b) != fmt.Sprintf("v%d", version) {
				t.Fatalf("cycle %d: %q %v, want v%d", i, b, err, version)
			}
		}
	}
	if n := strings.Count(must(t, compose("ps", "-a", "-q")), "\n") + 1; n != 2 {
		t.Fatalf("after %d deploys and rollbacks: %d containers, want the serving and the previous", cycles, n)
	}
	must(t, compose("down", "-t", "0"))
	base.check(t)
	if b, err := os.ReadFile("/proc/net/nf_conntrack"); err == nil {
		var left []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "=10.231.7.") {
				left = append(left, l)
			}
		}
		if len(left) > 0 {
			t.Errorf("%d conntrack entries of removed containers, e.g. %s", len(left), left[0])
		}
	}
}

// TestComposeBlueGreenReplicas: three replicas behind one published port
// share the new connections, and a deploy with parallelism 1 replaces them
// one at a time without a failed request.
func TestComposeBlueGreenReplicas(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	port := freePortPair(t)
	const project = `services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo $$VERSION-$$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www"]
    environment: {VERSION: "%s"}
    ports: ["%d:80"]
    stop_signal: SIGKILL
    deploy:
      replicas: 3
      update_config: {order: start-first, parallelism: 1, monitor: 200ms}
`
	write, compose := d.project(t, dir, "rp", func(version string) string { return fmt.Sprintf(project, version, port) })
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	write("v1")
	must(t, compose("up", "-d"))
	hosts := map[string]bool{}
	for i := 0; i < 30; i++ {
		b, err := httpGet(url)
		if err != nil {
			t.Fatal(err)
		}
		hosts[strings.TrimSpace(b)] = true
	}
	if len(hosts) != 3 {
		t.Fatalf("30 new connections reached %d replicas: %v", len(hosts), hosts)
	}
	l := startLoad(url, 4)
	write("v2")
	r := compose("up", "-d")
	time.Sleep(200 * time.Millisecond)
	ok, bad, versions, errs := l.finish()
	if r.code != 0 || bad != 0 {
		t.Fatalf("deploy of 3 replicas: %d ok, %d failed %v\n%s", ok, bad, errs, r)
	}
	if switches := strings.Count(r.stderr, "Switched"); switches != 3 {
		t.Fatalf("%d switches for 3 replicas one at a time:\n%s", switches, r.stderr)
	}
	v2 := 0
	for v := range versions {
		if strings.HasPrefix(v, "v2-") {
			v2++
		}
	}
	if v2 != 3 {
		t.Fatalf("the load saw %d v2 replicas: %v", v2, versions)
	}
	if got := must(t, compose("ps", "--format", "{{.Role}}")); got != "serving\nserving\nserving" {
		t.Fatalf("ps: %q", got)
	}
	must(t, compose("down", "-t", "0"))
}

// project is a compose project in dir named name: write puts the
// compose file that file makes of a version there, compose runs berth
// compose on it.
func (d *daemon) project(t *testing.T, dir, name string, file func(version string) string) (write func(version string), compose func(args ...string) result) {
	write = func(version string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(file(version)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compose = func(args ...string) result {
		return d.berth(append([]string{"compose", "--project-directory", dir, "-p", name}, args...)...)
	}
	return write, compose
}
