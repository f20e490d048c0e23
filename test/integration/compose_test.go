package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// composeProject is a web server and a client that reaches it by its
// service name; the server counts its starts in a named volume.
const composeProject = `
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo \"hello from $$GREETING\" > /www/index.html && echo $$(( $$(cat /data/count 2>/dev/null || echo 0) + 1 )) > /data/count && exec httpd -f -p 80 -h /www"]
    stop_signal: SIGKILL
    environment:
      GREETING: ${GREETING:-web}
    volumes:
      - data:/data
  client:
    image: busybox
    command: ["sh", "-c", "until wget -qO- http://web/; do sleep 0.1; done; exec sleep 1000"]
    stop_signal: SIGKILL
    depends_on:
      - web
volumes:
  data:
`

func TestComposeUpDown(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(composeProject), 0o644); err != nil {
		t.Fatal(err)
	}
	compose := func(env []string, args ...string) result {
		return d.cliEnv(filepath.Join(binDir, "berth"), env, append([]string{"compose", "-f", file, "-p", "cp"}, args...)...)
	}
	id := func(name string) string { return must(t, d.berth("inspect", "-f", "{{.Id}}", name)) }

	r := compose(nil, "up", "-d")
	if r.code != 0 {
		t.Fatalf("up: %s", r)
	}
	for _, line := range []string{" Network cp_default Created", " Volume cp_data Created", " Container cp-web-1 Started", " Container cp-client-1 Started"} {
		if !strings.Contains(r.stderr, line) {
			t.Fatalf("up's progress lacks %q: %s", line, r.stderr)
		}
	}
	// the client reached the server by its service name on the project's network
	waitFor(t, func() bool {
		return strings.Contains(compose(nil, "logs", "client").stdout, "client-1  | hello from web")
	})
	if got := must(t, compose(nil, "ps", "--format", "{{.Name}} {{.Service}} {{.State}}")); got != "cp-client-1 client running\ncp-web-1 web running" {
		t.Fatalf("ps: %q", got)
	}
	// Docker Compose's labels and names, seen by the docker CLI too
	labels := must(t, d.docker("inspect", "-f", `{{index .Config.Labels "com.docker.compose.project"}} {{index .Config.Labels "com.docker.compose.service"}} {{index .Config.Labels "com.docker.compose.container-number"}} {{index .Config.Labels "com.docker.compose.oneoff"}}`, "cp-web-1"))
	if labels != "cp web 1 False" {
		t.Fatalf("labels: %q", labels)
	}
	if got := must(t, d.docker("volume", "inspect", "-f", `{{index .Labels "com.docker.compose.project"}} {{index .Labels "com.docker.compose.volume"}}`, "cp_data")); got != "cp data" {
		t.Fatalf("volume labels: %q", got)
	}
	if got := must(t, d.docker("network", "inspect", "-f", `{{index .Labels "com.docker.compose.network"}}`, "cp_default")); got != "default" {
		t.Fatalf("network labels: %q", got)
	}

	// ls lists the running project with its file
	if got := must(t, d.berth("compose", "ls")); !strings.Contains(got, "cp        running(2)   "+file) {
		t.Fatalf("ls: %q", got)
	}

	// up again: nothing changed, nothing recreated
	web, client := id("cp-web-1"), id("cp-client-1")
	r = compose(nil, "up", "-d")
	if r.code != 0 || !strings.Contains(r.stderr, " Container cp-web-1 Running") || id("cp-web-1") != web {
		t.Fatalf("second up: %s", r)
	}
	// a changed environment recreates web alone; its volume stays
	r = compose([]string{"GREETING=v2"}, "up", "-d")
	if r.code != 0 || !strings.Contains(r.stderr, " Container cp-web-1 Recreated") || id("cp-web-1") == web || id("cp-client-1") != client {
		t.Fatalf("up after a change: %s", r)
	}
	if got := must(t, compose(nil, "exec", "-T", "web", "cat", "/data/count", "/www/index.html")); got != "2\nhello from v2" {
		t.Fatalf("after the recreate: %q", got)
	}
	if r := compose(nil, "exec", "-T", "web", "sh", "-c", "exit 3"); r.code != 3 {
		t.Fatalf("exec's exit status: %s", r)
	}
	if r := compose(nil, "exec", "-T", "nosuch", "true"); r.code == 0 || !strings.Contains(r.stderr, `service "nosuch" is not running`) {
		t.Fatalf("exec in a missing service: %s", r)
	}

	// a one-off: its own command and environment, the exit status, gone with --rm
	r = compose([]string{"GREETING=v2"}, "run", "--rm", "-T", "-e", "X=7", "client", "sh", "-c", "echo $X; wget -qO- http://web/; exit 5")
	if r.code != 5 || r.stdout != "7\nhello from v2\n" {
		t.Fatalf("run: %s", r)
	}
	if left := must(t, d.berth("ps", "-aq", "--filter", "label=com.docker.compose.oneoff=True")); left != "" {
		t.Fatalf("run --rm left its container: %s", left)
	}

	// images, top, cp, port-less services
	if got := must(t, compose(nil, "images", "--format", "json")); !strings.Contains(got, `"ContainerName":"cp-web-1","Repository":"busybox","Tag":"latest"`) {
		t.Fatalf("images: %s", got)
	}
	if got := must(t, compose(nil, "top", "web")); !strings.Contains(got, "SERVICE") || !strings.Contains(got, "httpd -f -p 80") {
		t.Fatalf("top: %s", got)
	}
	local := filepath.Join(dir, "note")
	if err := os.WriteFile(local, []byte("copied\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must(t, compose(nil, "cp", local, "web:/tmp/note"))
	if got := must(t, compose(nil, "exec", "-T", "web", "cat", "/tmp/note")); got != "copied" {
		t.Fatalf("cp into web: %q", got)
	}
	if r := compose(nil, "port", "web", "80"); r.code == 0 || !strings.Contains(r.stderr, "no port 80/tcp") {
		t.Fatalf("port of an unpublished port: %s", r)
	}

	// stop, start
	must(t, compose([]string{"GREETING=v2"}, "stop"))
	if got := must(t, compose(nil, "ps", "-a", "--format", "{{.State}}")); got != "exited\nexited" {
		t.Fatalf("after stop: %q", got)
	}
	if got := must(t, compose(nil, "ps", "-q")); got != "" {
		t.Fatalf("ps lists stopped containers: %q", got)
	}
	must(t, compose([]string{"GREETING=v2"}, "start"))
	if got := must(t, compose(nil, "ps", "--services")); got != "client\nweb" {
		t.Fatalf("after start: %q", got)
	}

	// kill and wait
	must(t, compose(nil, "kill", "client"))
	if r := compose(nil, "wait", "client"); r.code != 137 || strings.TrimSpace(r.stdout) != "137" {
		t.Fatalf("wait after kill: %s", r)
	}

	// down keeps the named volume, down -v removes it
	r = compose(nil, "down")
	if r.code != 0 || !strings.Contains(r.stderr, " Network cp_default Removed") {
		t.Fatalf("down: %s", r)
	}
	if left := must(t, d.berth("ps", "-aq", "--filter", "label=com.docker.compose.project=cp")); left != "" {
		t.Fatalf("down left containers: %s", left)
	}
	if d.berth("network", "inspect", "cp_default").code == 0 {
		t.Fatal("down left the network")
	}
	must(t, d.berth("volume", "inspect", "cp_data"))
	must(t, compose(nil, "up", "-d"))
	// the volume kept the count: up, the recreate, start, this up
	waitFor(t, func() bool { return d.berth("exec", "cp-web-1", "cat", "/data/count").stdout == "4\n" })
	r = compose(nil, "down", "-v", "-t", "1")
	if r.code != 0 || !strings.Contains(r.stderr, " Volume cp_data Removed") {
		t.Fatalf("down -v: %s", r)
	}
	if d.berth("volume", "inspect", "cp_data").code == 0 {
		t.Fatal("down -v left the volume")
	}
}

func TestComposeConfig(t *testing.T) {
	d := startDaemon(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("services:\n  web:\n    image: busybox:${TAG:?set TAG}\n  db:\n    image: busybox\n    profiles: [debug]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// include and extends, compose-go's
	if err := os.WriteFile(filepath.Join(dir, "extra.yaml"), []byte("services:\n  base:\n    image: busybox\n    environment:\n      FROM_BASE: \"1\"\n  tool:\n    extends: base\n    command: [\"true\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compose.override.yaml"), []byte("include:\n  - extra.yaml\nservices:\n  web:\n    environment:\n      A: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("TAG=1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	compose := func(args ...string) result {
		return d.berth(append([]string{"compose", "--project-directory", dir}, args...)...)
	}
	if got := must(t, compose("config", "--services")); got != "base\ntool\nweb" {
		t.Fatalf("services: %q", got)
	}
	if got := must(t, compose("--profile", "debug", "config", "--services")); got != "base\ndb\ntool\nweb" {
		t.Fatalf("services with the profile: %q", got)
	}
	out := must(t, compose("config"))
	for _, want := range []string{"image: busybox:1.0", "A: b", "name: " + filepath.Base(dir), "FROM_BASE: \"1\""} {
		if !strings.Contains(out, want) {
			t.Fatalf("config lacks %q:\n%s", want, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(""), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := compose("config"); r.code == 0 || !strings.Contains(r.stderr, "set TAG") {
		t.Fatalf("a required variable unset: %s", r)
	}
}

// TestDockerCompose129 drives the same project with Debian's docker-compose
// 1.29 (docker-py over the Engine API), and berth compose sees what it made.
func TestDockerCompose129(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	file := filepath.Join(dir, "docker-compose.yml")
	if err := os.WriteFile(file, []byte(composeProject), 0o644); err != nil {
		t.Fatal(err)
	}
	dc := func(args ...string) result {
		return d.cliEnv("docker-compose", nil, append([]string{"-f", file, "-p", "dc"}, args...)...)
	}
	if r := dc("up", "-d"); r.code != 0 || !strings.Contains(r.stderr, "Creating dc_web_1 ... done") {
		t.Fatalf("docker-compose up: %s", r)
	}
	waitFor(t, func() bool { return strings.Contains(dc("logs", "client").stdout, "hello from web") })
	got := must(t, d.berth("compose", "-f", file, "-p", "dc", "ps", "--format", "{{.Name}} {{.Service}} {{.State}}"))
	if got != "dc_client_1 client running\ndc_web_1 web running" {
		t.Fatalf("berth compose ps of docker-compose's project: %q", got)
	}
	if r := dc("stop"); r.code != 0 {
		t.Fatalf("docker-compose stop: %s", r)
	}
	if r := dc("down", "-v"); r.code != 0 || !strings.Contains(r.stderr, "Removing network dc_default") || !strings.Contains(r.stderr, "Removing volume dc_data") {
		t.Fatalf("docker-compose down -v: %s", r)
	}
	if left := must(t, d.berth("ps", "-aq")); left != "" {
		t.Fatalf("left containers: %s", left)
	}
	if d.berth("volume", "inspect", "dc_data").code == 0 {
		t.Fatal("down -v left the volume")
	}
}

// redisContext writes a build context for an image with Redis (the host's
// redis-tools binary, which is redis-server when so named, and redis-cli)
// and the libraries they link, on busybox: the test needs no registry.
func redisContext(t *testing.T, dir string) {
	t.Helper()
	for _, bin := range []string{"/usr/bin/redis-check-rdb", "/usr/bin/redis-cli"} {
		if _, err := os.Stat(bin); err != nil {
			t.Skip("redis-tools is not installed (scripts/install-deps.sh --test installs it)")
		}
	}
	root := filepath.Join(dir, "rootfs")
	copyFile := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("/usr/bin/redis-check-rdb", filepath.Join(root, "usr/bin/redis-server"))
	copyFile("/usr/bin/redis-cli", filepath.Join(root, "usr/bin/redis-cli"))
	for _, bin := range []string{"/usr/bin/redis-check-rdb", "/usr/bin/redis-cli"} {
		out, err := exec.Command("ldd", bin).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.Fields(string(out)) {
			if strings.HasPrefix(f, "/") {
				real, err := filepath.EvalSymlinks(f)
				if err != nil {
					t.Fatal(err)
				}
				copyFile(real, filepath.Join(root, f))
			}
		}
	}
	df := "FROM busybox\nCOPY rootfs/ /\nCMD [\"redis-server\", \"--protected-mode\", \"no\", \"--save\", \"\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestComposeRedisCounter is the compose workflow Docker's docs start with:
// a web app that counts its visits in Redis, reached by its service name;
// `up --build` builds the image, a healthcheck gates the app's start.
func TestComposeRedisCounter(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	redisContext(t, filepath.Join(dir, "redis"))
	cgi := "#!/bin/sh\nn=$(redis-cli -h redis INCR hits)\nprintf 'Content-Type: text/plain\\r\\n\\r\\nHello! I have been seen %s times.\\n' \"$n\"\n"
	if err := os.MkdirAll(filepath.Join(dir, "www/cgi-bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "www/cgi-bin/visit"), []byte(cgi), 0o755); err != nil {
		t.Fatal(err)
	}
	project := `
services:
  redis:
    build: ./redis
    image: counter-redis:1
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 200ms
      retries: 50
  web:
    image: counter-redis:1
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    stop_signal: SIGKILL
    ports:
      - "127.0.0.1::80"
    volumes:
      - ./www:/www:ro
    depends_on:
      redis:
        condition: service_healthy
`
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(project), 0o644); err != nil {
		t.Fatal(err)
	}
	compose := func(args ...string) result {
		return d.berth(append([]string{"compose", "--project-directory", dir, "-p", "counter"}, args...)...)
	}
	r := compose("up", "-d", "--build")
	if r.code != 0 || !strings.Contains(r.stderr, " Container counter-redis-1 Healthy") || !strings.Contains(r.stderr, " Container counter-web-1 Started") {
		t.Fatalf("up --build: %s", r)
	}
	// from the host, through the published port
	addr := must(t, compose("port", "web", "80"))
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("port: %q", addr)
	}
	for i := 1; i <= 3; i++ {
		resp, err := http.Get("http://" + addr + "/cgi-bin/visit")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("Hello! I have been seen %d times.\n", i); string(b) != want {
			t.Fatalf("visit %d: %q, want %q", i, b, want)
		}
	}
	// a restart of web keeps the count (it is in redis)
	must(t, compose("restart", "web"))
	if got := must(t, compose("exec", "-T", "web", "wget", "-qO-", "http://localhost/cgi-bin/visit")); got != "Hello! I have been seen 4 times." {
		t.Fatalf("after a restart: %q", got)
	}
	must(t, compose("down", "--rmi", "all", "-t", "0"))
	if d.berth("image", "inspect", "counter-redis:1").code == 0 {
		t.Fatal("down --rmi all left the built image")
	}
}

// TestComposeWatch: develop.watch's sync copies changed files into the
// running container and removes deleted ones, ignoring what its patterns
// say; sync+restart restarts the container after; dockerfile_inline builds.
func TestComposeWatch(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("index.html", "v1\n")
	project := `
services:
  web:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        RUN echo inline > /built
    image: watched:1
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
    develop:
      watch:
        - path: ./src
          target: /www
          action: sync
          ignore: ["*.tmp"]
`
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(project), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"compose", "--project-directory", dir, "-p", "cw"}
	cmd := exec.Command(filepath.Join(binDir, "berth"), append(args, "watch")...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+d.sock)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		must(t, d.berth(append(args, "down", "-t", "0")...))
	}()
	exec1 := func(c ...string) string {
		return d.berth(append(append(args, "exec", "-T", "web"), c...)...).stdout
	}
	waitFor(t, func() bool { return strings.Contains(out.String(), "Watch enabled") })
	if got := exec1("cat", "/built"); got != "inline\n" {
		t.Fatalf("dockerfile_inline's image: %q (%s)", got, out.String())
	}
	write("index.html", "v2\n")
	write("sub/a.txt", "deep\n")
	write("skip.tmp", "no\n")
	waitFor(t, func() bool { return exec1("cat", "/www/index.html", "/www/sub/a.txt") == "v2\ndeep\n" })
	if got := exec1("ls", "/www"); got != "index.html\nsub\n" {
		t.Fatalf("an ignored file was synced: %q", got)
	}
	if err := os.Remove(filepath.Join(src, "sub/a.txt")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return exec1("ls", "/www/sub") == "" })
	if !strings.Contains(out.String(), `Syncing service "web" after 2 changes were detected`) {
		t.Fatalf("watch's output: %s", out.String())
	}
}

// TestComposeScale: --scale and deploy.replicas make numbered replicas,
// which resolve together under the service's name; scaling down removes
// the highest numbers.
func TestComposeScale(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	project := "services:\n  worker:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    stop_signal: SIGKILL\n    deploy:\n      replicas: 2\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(project), 0o644); err != nil {
		t.Fatal(err)
	}
	compose := func(args ...string) result {
		return d.berth(append([]string{"compose", "--project-directory", dir, "-p", "sc"}, args...)...)
	}
	names := func() string { return must(t, compose("ps", "--format", "{{.Name}}")) }
	must(t, compose("up", "-d"))
	if got := names(); got != "sc-worker-1\nsc-worker-2" {
		t.Fatalf("replicas: %q", got)
	}
	first := must(t, d.berth("inspect", "-f", "{{.Id}}", "sc-worker-1"))
	must(t, compose("up", "-d", "--scale", "worker=4"))
	if got := names(); got != "sc-worker-1\nsc-worker-2\nsc-worker-3\nsc-worker-4" {
		t.Fatalf("scaled up: %q", got)
	}
	if id := must(t, d.berth("inspect", "-f", "{{.Id}}", "sc-worker-1")); id != first {
		t.Fatal("scaling up recreated a replica")
	}
	// the service's name resolves to its replicas on the project's network
	out := must(t, d.berth("exec", "sc-worker-1", "nslookup", "worker"))
	n := 0 // the answers, not the server's own address (the pool the network came from varies)
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Address: ") && !strings.Contains(l, "127.0.0.11") {
			n++
		}
	}
	if n < 4 {
		t.Fatalf("worker resolves to %d addresses:\n%s", n, out)
	}
	must(t, compose("up", "-d", "--scale", "worker=1"))
	if got := names(); got != "sc-worker-1" {
		t.Fatalf("scaled down: %q", got)
	}
	must(t, compose("down", "-t", "0"))
}

// TestComposeBadInput: broken projects are refused with the file, the path
// in it and the reason, before anything is created.
func TestComposeBadInput(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	holder := must(t, d.berth("run", "-d", "-p", "127.0.0.1:18383:80", "-p", "18384-18385:81-82", "busybox", "sleep", "1000"))
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"yaml syntax", "services:\n  a:\n    image: busybox\n   bad: indent\n", "compose.yaml: yaml: "},
		{"unknown key", "services:\n  a:\n    image: busybox\n    nosuchkey: 1\n", "compose.yaml: services.a additional properties 'nosuchkey' not allowed"},
		{"cycle", "services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n", "dependency cycle detected"},
		{"required variable", "services:\n  a:\n    image: ${NOSUCHVAR:?set it}\n", "required variable NOSUCHVAR is missing a value: set it"},
		{"missing env_file", "services:\n  a:\n    image: busybox\n    env_file: missing.env\n", "missing.env not found"},
		{"port taken", "services:\n  a:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    ports: [\"18383:80\"]\n", `service "a": Bind for 0.0.0.0:18383 failed: port is already allocated`},
		{"port range taken", "services:\n  a:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    ports: [\"18384-18385:80\"]\n", `service "a": Bind for 0.0.0.0:18384-18385 failed: port is already allocated`},
		{"bad published port", "services:\n  a:\n    image: busybox\n    ports: [{target: 80, published: \"9-1\"}]\n", `invalid published port "9-1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			r := d.berth("compose", "--project-directory", dir, "-p", "bad", "up", "-d")
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("want %q: %s", tc.want, r)
			}
			if left := must(t, d.berth("ps", "-aq", "--filter", "label=com.docker.compose.project=bad")); left != "" {
				t.Fatalf("containers made: %s", left)
			}
			if d.berth("network", "inspect", "bad_default").code == 0 {
				t.Fatal("a network was made")
			}
		})
	}
	must(t, d.berth("rm", "-f", holder))
}

// TestComposeDownAfterKill9: berthd killed while `up` is under way; after
// the restart `down -v` completes and leaves nothing of the project, and
// nothing of another project is touched.
func TestComposeDownAfterKill9(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("run", "-d", "--name", "bystander", "--network", "none", "busybox", "sleep", "1000"))
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("services:\n")
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, "  s%d:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    stop_signal: SIGKILL\n    volumes: [data%d:/data]\n", i, i)
	}
	b.WriteString("volumes:\n")
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, "  data%d:\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"compose", "--project-directory", dir, "-p", "k9"}
	for _, delay := range []time.Duration{20 * time.Millisecond, 60 * time.Millisecond} {
		up := exec.Command(filepath.Join(binDir, "berth"), append(args, "up", "-d")...)
		up.Env = append(os.Environ(), "DOCKER_HOST=unix://"+d.sock)
		if err := up.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		d.stop(syscall.SIGKILL)
		_ = up.Wait()
		d.start()
		if r := d.berth(append(args, "down", "-v", "-t", "0")...); r.code != 0 {
			t.Fatalf("down after a kill -9 %v into up: %s", delay, r)
		}
		if left := must(t, d.berth("ps", "-aq", "--filter", "label=com.docker.compose.project=k9")); left != "" {
			t.Fatalf("containers left: %s", left)
		}
		if left := must(t, d.berth("volume", "ls", "-q", "--filter", "label=com.docker.compose.project=k9")); left != "" {
			t.Fatalf("volumes left: %s", left)
		}
		if left := must(t, d.berth("network", "ls", "-q", "--filter", "label=com.docker.compose.project=k9")); left != "" {
			t.Fatalf("networks left: %s", left)
		}
		if got := must(t, d.berth("inspect", "-f", "{{.State.Running}}", "bystander")); got != "true" {
			t.Fatalf("the bystander: %q", got)
		}
	}
}

// TestDockerComposeV2Interop drives the project with Docker Compose v2
// (v5.x, built from source: not in CI; DOCKER_COMPOSE_V2=path runs it) and
// berth compose in turn: each sees the other's containers as up to date
// (the same config hash) and can take the project down.
func TestDockerComposeV2Interop(t *testing.T) {
	bin := os.Getenv("DOCKER_COMPOSE_V2")
	if bin == "" {
		t.Skip("DOCKER_COMPOSE_V2 names no Docker Compose v2 binary")
	}
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(composeProject), 0o644); err != nil {
		t.Fatal(err)
	}
	dc := func(args ...string) result {
		return d.cliEnv(bin, nil, append([]string{"-f", file, "-p", "iv"}, args...)...)
	}
	bc := func(args ...string) result {
		return d.berth(append([]string{"compose", "-f", file, "-p", "iv"}, args...)...)
	}
	if r := dc("up", "-d"); r.code != 0 {
		t.Fatalf("docker compose up: %s", r)
	}
	web := must(t, d.berth("inspect", "-f", "{{.Id}}", "iv-web-1"))
	if r := bc("up", "-d"); r.code != 0 || !strings.Contains(r.stderr, " Container iv-web-1 Running") {
		t.Fatalf("berth compose up after docker compose's: %s", r)
	}
	if id := must(t, d.berth("inspect", "-f", "{{.Id}}", "iv-web-1")); id != web {
		t.Fatal("berth compose recreated docker compose's container")
	}
	must(t, bc("up", "-d", "--force-recreate", "web"))
	if r := dc("up", "-d"); r.code != 0 || strings.Contains(r.stderr, "Recreate") {
		t.Fatalf("docker compose up after berth compose's: %s", r)
	}
	if got := must(t, dc("ps", "--format", "{{.Name}}")); got != "iv-client-1\niv-web-1" {
		t.Fatalf("docker compose ps: %q", got)
	}
	if r := bc("down", "-v", "-t", "0"); r.code != 0 {
		t.Fatalf("berth compose down: %s", r)
	}
	if left := must(t, d.berth("ps", "-aq")); left != "" {
		t.Fatalf("left: %s", left)
	}
}

// TestComposeUpAttached: up in the foreground prints the services' output
// with their prefixes and, with --exit-code-from, stops them all when that
// service exits and returns its code.
func TestComposeUpAttached(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	project := "services:\n  server:\n    image: busybox\n    command: [\"sh\", \"-c\", \"echo serving; exec sleep 1000\"]\n    stop_signal: SIGKILL\n  job:\n    image: busybox\n    command: [\"sh\", \"-c\", \"sleep 0.3; echo done; exit 3\"]\n    depends_on: [server]\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(project), 0o644); err != nil {
		t.Fatal(err)
	}
	compose := func(args ...string) result {
		return d.berth(append([]string{"compose", "--project-directory", dir, "-p", "fg"}, args...)...)
	}
	r := compose("up", "--exit-code-from", "job")
	if r.code != 3 {
		t.Fatalf("up --exit-code-from job: %s", r)
	}
	for _, want := range []string{"server-1  | serving\n", "job-1     | done\n", "job-1 exited with code 3\n", "Aborting on container exit...\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("up's output lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := must(t, compose("ps", "-a", "--format", "{{.Service}} {{.State}}")); got != "job exited\nserver exited" {
		t.Fatalf("after the abort: %q", got)
	}
	must(t, compose("down"))
}

// TestComposeRecreateRestartsDependents: when up recreates a service, the
// services that depend on it with restart: true are stopped first and
// started again (not recreated); the others are left running.
func TestComposeRecreateRestartsDependents(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	write := func(version string) {
		project := `services:
  db:
    image: busybox
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
    environment: {VERSION: "` + version + `"}
  app:
    image: busybox
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
    depends_on:
      db: {condition: service_started, restart: true}
  other:
    image: busybox
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
    depends_on: [db]
`
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(project), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compose := func(args ...string) result {
		return d.berth(append([]string{"compose", "--project-directory", dir, "-p", "rd"}, args...)...)
	}
	state := func(name string) string {
		return must(t, d.berth("inspect", "-f", "{{.Id}} {{.State.StartedAt}} {{.State.Running}}", name))
	}
	write("1")
	must(t, compose("up", "-d"))
	app, other, db := state("rd-app-1"), state("rd-other-1"), state("rd-db-1")
	write("2")
	r := compose("up", "-d")
	out := must(t, r) + r.stderr
	if state("rd-db-1") == db {
		t.Fatal("db was not recreated")
	}
	newApp := state("rd-app-1")
	if strings.Fields(newApp)[0] != strings.Fields(app)[0] {
		t.Fatal("app was recreated, not restarted")
	}
	if newApp == app || !strings.HasSuffix(newApp, " true") {
		t.Fatalf("app was not restarted: %s, was %s\n%s", newApp, app, out)
	}
	if state("rd-other-1") != other {
		t.Fatalf("other (no restart: true) was touched\n%s", out)
	}
	if !strings.Contains(out, "Container rd-app-1  Stopped") && !strings.Contains(out, "Container rd-app-1 Stopped") {
		t.Fatalf("up's progress does not show app stopped:\n%s", out)
	}
	must(t, compose("down", "-t", "0"))
}
