package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestComposeServiceFields: one service with most of the compose spec's
// fields, checked in the container berthd made of it.
func TestComposeServiceFields(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	files := map[string]string{
		"app.env": "FROM_FILE=yes\n", "secret.txt": "s3cret\n", "app.conf": "cfg\n",
		"compose.yaml": `
services:
  app:
    image: busybox
    container_name: kit-app
    command: ["sleep", "1000"]
    env_file: app.env
    environment: [INLINE=1]
    ports:
      - target: 80
        published: "18490"
        host_ip: 127.0.0.1
      - "18491-18492:81-82/udp"
    expose: ["7000"]
    volumes:
      - type: bind
        source: ./hostdir
        target: /hostdir
        read_only: true
        bind:
          create_host_path: true
      - type: volume
        source: data
        target: /data
        volume:
          nocopy: true
      - type: tmpfs
        target: /scratch
    tmpfs: ["/run/extra"]
    networks:
      front:
        aliases: [api]
        ipv4_address: 10.230.5.10
    working_dir: /data
    user: "1000:1000"
    hostname: apphost
    domainname: example.test
    labels: {team: blue}
    init: true
    stop_signal: SIGUSR1
    stop_grace_period: 3s
    extra_hosts: ["db.local:10.0.0.5"]
    dns: ["10.0.0.53"]
    ulimits:
      nofile: {soft: 1024, hard: 2048}
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    read_only: true
    shm_size: 32m
    sysctls: {net.core.somaxconn: "1024"}
    ipc: shareable
    secrets: [token]
    configs:
      - source: conf
        target: /etc/app.conf
    logging:
      driver: json-file
      options: {max-size: 1m}
    deploy:
      resources:
        limits: {memory: 64m, cpus: "0.5"}
    restart: unless-stopped
networks:
  front:
    ipam:
      config:
        - subnet: 10.230.5.0/24
volumes:
  data:
secrets:
  token:
    file: ./secret.txt
configs:
  conf:
    file: ./app.conf
`}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compose := func(args ...string) result {
		return d.berth(append([]string{"compose", "--project-directory", dir, "-p", "kit"}, args...)...)
	}
	must(t, compose("up", "-d"))
	defer compose("down", "-v", "-t", "0")
	for _, tc := range []struct{ format, want string }{
		{"{{json .Config.Env}}", `["FROM_FILE=yes","INLINE=1"]`},
		{"{{.Config.WorkingDir}} {{.Config.User}} {{.Config.Hostname}} {{.Config.Domainname}} {{.Config.Labels.team}}", "/data 1000:1000 apphost example.test blue"},
		{"{{.Config.StopSignal}} {{.Config.StopTimeout}} {{json .Config.ExposedPorts}}", `SIGUSR1 3 {"7000/tcp":{},"80/tcp":{},"81/udp":{},"82/udp":{}}`},
		{"{{json .HostConfig.PortBindings}}", `{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"18490"}],"81/udp":[{"HostIp":"","HostPort":"18491"}],"82/udp":[{"HostIp":"","HostPort":"18492"}]}`},
		{"{{.HostConfig.Init}} {{json .HostConfig.ExtraHosts}} {{json .HostConfig.Dns}} {{json .HostConfig.Ulimits}}", `true ["db.local:10.0.0.5"] ["10.0.0.53"] [{"Hard":2048,"Name":"nofile","Soft":1024}]`},
		{"{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.ShmSize}}", `["CAP_NET_ADMIN"] ["CAP_MKNOD"] true 33554432`},
		{"{{json .HostConfig.Sysctls}} {{.HostConfig.IpcMode}} {{.HostConfig.LogConfig.Type}} {{json .HostConfig.LogConfig.Config}}", `{"net.core.somaxconn":"1024"} shareable json-file {"max-size":"1m"}`},
		{"{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}} {{json .HostConfig.Tmpfs}}", `67108864 500000000 unless-stopped {"/run/extra":""}`},
		{"{{range .Mounts}}{{.Type}}:{{.Destination}}:{{.RW}} {{end}}", "volume:/data:true bind:/etc/app.conf:false bind:/hostdir:false tmpfs:/run/extra:true bind:/run/secrets/token:false tmpfs:/scratch:true"},
		{"{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}} {{json $v.Aliases}}{{end}}", `kit_front 10.230.5.10 ["kit-app","app","api"]`},
	} {
		if got := must(t, d.docker("inspect", "-f", tc.format, "kit-app")); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.format, got, tc.want)
		}
	}
	if got := must(t, d.berth("exec", "kit-app", "sh", "-c", "cat /run/secrets/token /etc/app.conf; id -u; ls -d /hostdir")); got != "s3cret\ncfg\n1000\n/hostdir" {
		t.Fatalf("inside: %q", got)
	}
}

// TestComposeInlineSecrets: secrets from the environment and configs
// with inline content are copied into the container before it starts, with
// their mode and owner; what cannot work is refused before anything starts.
func TestComposeInlineSecrets(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	project := `
services:
  app:
    image: busybox
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
    secrets:
      - api_key
      - source: api_key
        target: /etc/key
        uid: "1000"
        mode: 0400
    configs:
      - source: motd
        target: /etc/motd
secrets:
  api_key:
    environment: API_KEY
configs:
  motd:
    content: |
      hello ${GREETING}
`
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("compose.yaml", project)
	write(".env", "API_KEY=k3y\nGREETING=world\n")
	compose := func(args ...string) result {
		return d.berth(append([]string{"compose", "--project-directory", dir, "-p", "inl"}, args...)...)
	}
	must(t, compose("up", "-d"))
	got := must(t, d.berth("exec", "inl-app-1", "sh", "-c", "cat /run/secrets/api_key; echo; cat /etc/motd; stat -c '%a %u %n' /run/secrets/api_key /etc/key /etc/motd"))
	if want := "k3y\nhello world\n444 0 /run/secrets/api_key\n400 1000 /etc/key\n444 0 /etc/motd"; got != want {
		t.Fatalf("inside:\n%s\nwant:\n%s", got, want)
	}
	must(t, compose("down", "-t", "0"))

	for _, tc := range []struct{ name, yaml, env, want string }{
		{"read-only", strings.Replace(project, "stop_signal: SIGKILL", "read_only: true", 1), "API_KEY=k\nGREETING=x\n",
			"cannot create secret \"inl_api_key\" in read-only service app: `file` is the sole supported option"},
		{"unset variable", project, "GREETING=x\n", `environment variable "API_KEY" required by secret "inl_api_key" is not set`},
		{"external", strings.Replace(project, "environment: API_KEY", "external: true", 1), "GREETING=x\n", "unsupported external secret api_key"},
	} {
		write("compose.yaml", tc.yaml)
		write(".env", tc.env)
		r := compose("up", "-d")
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: %s\nwant an error with %q", tc.name, r, tc.want)
		}
		if ids := must(t, d.berth("ps", "-aq", "--filter", "label=com.docker.compose.project=inl")); ids != "" {
			t.Errorf("%s: a refused up left containers: %s", tc.name, ids)
		}
		if nets := must(t, d.berth("network", "ls", "-q", "--filter", "label=com.docker.compose.project=inl")); nets != "" {
			t.Errorf("%s: a refused up left networks: %s", tc.name, nets)
		}
	}
}
