package integration

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/apiext"
)

// versioned runs a container on net that answers HTTP on 80 and, on 7,
// says its version then echoes.
func (d *daemon) versioned(t *testing.T, cmd, name, net, version string, args ...string) string {
	t.Helper()
	script := fmt.Sprintf("mkdir -p /www && echo %s > /www/index.html && (nc -ll -p 7 -e sh -c 'echo %s; exec cat' &) && exec httpd -f -p 80 -h /www", version, version)
	full := append([]string{cmd, "--name", name, "--network", net, "--network-alias", "web"}, args...)
	if cmd == "run" {
		full = append([]string{"run", "-d"}, full[1:]...)
	}
	return must(t, d.berth(append(full, "busybox", "sh", "-c", script)...))
}

// TestFrontendSwitch: a frontend takes over a port its backend published,
// a candidate started behind it does not publish the port itself, a switch
// moves new connections and the alias to the other container at once while
// a connection already made stays, and it all survives a kill -9.
func TestFrontendSwitch(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	httpPort, echoPort := freePortPair(t), freePortPair(t)
	must(t, d.berth("network", "create", "fenet"))
	must(t, d.berth("network", "create", "othernet")) // before the frontend: the rules' order survives a restart
	d.versioned(t, "run", "other", "othernet", "other")
	blue := d.versioned(t, "run", "blue", "fenet", "blue", "-p", fmt.Sprintf("%d:80", httpPort))
	green := d.versioned(t, "create", "green", "fenet", "green", "-p", fmt.Sprintf("%d:80", httpPort))
	url := fmt.Sprintf("http://127.0.0.1:%d/", httpPort)
	waitHTTP(t, url, "blue")

	var fe apiext.Frontend
	ports := []apiext.FrontendPort{{HostPort: httpPort, TargetPort: 80}, {HostPort: echoPort, TargetPort: 7}}
	d.apiJSON(t, "POST", "/berth/frontends/create", apiext.FrontendCreateRequest{Name: "web", Network: "fenet", Ports: ports,
		Aliases: []string{"web"}, Backends: []string{"blue"}, Candidates: []string{"green"}, Labels: map[string]string{"tier": "front"}}, 201, &fe)
	if fe.Network != "fenet" || len(fe.Backends) != 1 || fe.Backends[0] != blue || fe.Candidates[0] != green {
		t.Fatalf("created: %+v", fe)
	}
	if b, err := httpGet(url); err != nil || strings.TrimSpace(b) != "blue" {
		t.Fatalf("through the frontend: %q %v", b, err)
	}
	// another container cannot have the port; the candidate starts without it
	if r := d.berth("run", "-d", "--name", "intruder", "-p", fmt.Sprintf("%d:80", httpPort), "busybox", "sleep", "100"); r.code == 0 || !strings.Contains(r.stderr, "port is already allocated") {
		t.Fatalf("a non-member took the frontend's port: %s", r)
	}
	must(t, d.berth("rm", "-f", "intruder"))
	must(t, d.berth("start", "green"))
	client := must(t, d.berth("run", "-d", "--name", "client", "--network", "fenet", "busybox", "sleep", "1000"))
	for i := 0; i < 3; i++ { // the alias names the backend only
		if out := must(t, d.berth("exec", client, "wget", "-qO-", "http://web/")); out != "blue" {
			t.Fatalf("web before the switch: %q", out)
		}
	}
	// on a network none of its members is on, the frontend's alias does
	// not hide a container of that name there
	elsewhere := must(t, d.berth("run", "-d", "--network", "othernet", "busybox", "sleep", "1000"))
	for i := 0; ; i++ {
		r := d.berth("exec", elsewhere, "wget", "-qO-", "http://web/")
		if r.code == 0 && strings.TrimSpace(r.stdout) == "other" {
			break
		}
		if i == 50 {
			t.Fatalf("web on another network: %s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// a connection made before the switch
	held, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(echoPort))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	rd := bufio.NewReader(held)
	if l, _ := rd.ReadString('\n'); l != "blue\n" {
		t.Fatalf("echo before the switch: %q", l)
	}

	d.apiJSON(t, "POST", "/berth/frontends/web/switch", apiext.FrontendSwitchRequest{Backends: []string{"green"}}, 200, &fe)
	if fe.Backends[0] != green || len(fe.Previous) != 1 || fe.Previous[0] != blue || len(fe.Candidates) != 0 || fe.Generation != 1 {
		t.Fatalf("switched: %+v", fe)
	}
	for i := 0; i < 3; i++ {
		if b, err := httpGet(url); err != nil || strings.TrimSpace(b) != "green" {
			t.Fatalf("new connection after the switch: %q %v", b, err)
		}
		if out := must(t, d.berth("exec", client, "wget", "-qO-", "http://web/")); out != "green" {
			t.Fatalf("web after the switch: %q", out)
		}
	}
	fmt.Fprintf(held, "still here\n")
	if l, err := rd.ReadString('\n'); l != "still here\n" {
		t.Fatalf("the connection made before the switch: %q %v", l, err)
	}
	// the drain's measure: blue still has the held connection, then none
	connections := func(id string) int {
		var f apiext.Frontend
		d.apiJSON(t, "GET", "/berth/frontends/web", nil, 200, &f)
		for _, m := range f.Members {
			if m.ID == id {
				return m.Connections
			}
		}
		t.Fatalf("%s is not a member: %+v", id, f.Members)
		return 0
	}
	if n := connections(blue); n != 1 {
		t.Fatalf("blue has %d connections, want the held one", n)
	}
	held.Close()
	for i := 0; connections(blue) != 0; i++ {
		if i == 100 {
			t.Fatal("blue's closed connection still counts")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out := must(t, d.docker("ps", "--filter", "name=green", "--format", "{{.Ports}}")); !strings.Contains(out, fmt.Sprintf("0.0.0.0:%d->80/tcp", httpPort)) {
		t.Fatalf("docker ps of the serving container: %q", out)
	}

	// a kill -9: the same backend serves after the restart, rules as before
	rules := d.berthRules()
	d.stop(syscall.SIGKILL)
	d.start()
	waitHTTP(t, url, "green")
	if after := d.berthRules(); after != rules {
		t.Fatalf("rules after a kill -9:\n%s\nbefore:\n%s", after, rules)
	}
	d.apiJSON(t, "POST", "/berth/frontends/web/switch", apiext.FrontendSwitchRequest{Backends: []string{"blue"}, Rollback: true}, 200, &fe)
	if b, err := httpGet(url); err != nil || strings.TrimSpace(b) != "blue" {
		t.Fatalf("after the rollback: %q %v", b, err)
	}
	// a backend that stops gets no new connections; one that is not running cannot be switched to
	must(t, d.berth("stop", "-t", "0", "green"))
	if code, b := d.api(t, "POST", "/berth/frontends/web/switch", apiext.FrontendSwitchRequest{Backends: []string{"green"}}); code != 409 || !strings.Contains(string(b), "is not running on network") {
		t.Fatalf("switch to a stopped container: %d %s", code, b)
	}
	if code, _ := d.api(t, "POST", "/berth/frontends/nosuch/switch", apiext.FrontendSwitchRequest{}); code != 404 {
		t.Fatalf("switch of a missing frontend: %d", code)
	}
	var list []apiext.Frontend
	d.apiJSON(t, "GET", "/berth/frontends?filters="+`{"label":["tier=front"]}`, nil, 200, &list)
	if len(list) != 1 || list[0].Name != "web" {
		t.Fatalf("list: %+v", list)
	}
	// removed, the frontend gives the port back to the container it took it from
	d.apiJSON(t, "DELETE", "/berth/frontends/web", nil, 204, nil)
	if b, err := httpGet(url); err != nil || strings.TrimSpace(b) != "blue" {
		t.Fatalf("blue's own port after the frontend went: %q %v", b, err)
	}
	since := "0"
	until := strconv.FormatInt(time.Now().Unix()+1, 10)
	out := must(t, d.berth("events", "--since", since, "--until", until, "--filter", "type=frontend", "--format", "{{.Action}} {{.Actor.Attributes.name}}"))
	if want := "create web\nupdate start web\n"; strings.Contains(out, "update start") && !strings.HasPrefix(out, want) {
		t.Fatalf("frontend events:\n%s", out)
	}
	for _, want := range []string{"create web", "switch web", "rollback web", "destroy web"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q event:\n%s", want, out)
		}
	}
	must(t, d.berth("rm", "-f", "blue", "green", "client"))
	if left := d.berthRules(); strings.Contains(left, "BERTH-FE") || strings.Contains(left, " fe-") {
		t.Fatalf("frontend rules left:\n%s", left)
	}
}

// waitHTTP waits until url answers want.
func waitHTTP(t *testing.T, url, want string) {
	t.Helper()
	var b string
	var err error
	for i := 0; i < 100; i++ {
		if b, err = httpGet(url); err == nil && strings.TrimSpace(b) == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: %q %v, want %q", url, b, err, want)
}

// TestFrontendUDPLocal: a frontend's UDP port bound to 127.0.0.1 reaches
// its backend, follows a switch (each new socket is a new flow), and does
// not answer on the host's other addresses.
func TestFrontendUDPLocal(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	bin := udpecho(t)
	must(t, d.berth("network", "create", "udpnet"))
	for _, n := range []string{"ua", "ub"} {
		must(t, d.berth("run", "-d", "--name", n, "--network", "udpnet", "-v", bin+":/t:ro", "busybox", "/t/udpecho", ":5000"))
	}
	port := freePortPair(t)
	d.apiJSON(t, "POST", "/berth/frontends/create", apiext.FrontendCreateRequest{Name: "dns", Network: "udpnet",
		Ports: []apiext.FrontendPort{{Protocol: "udp", HostIP: "127.0.0.1", HostPort: port, TargetPort: 5000}}, Backends: []string{"ua"}, Candidates: []string{"ub"}}, 201, nil)
	ask := func(addr string) (string, error) {
		c, err := net.Dial("udp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("hi")); err != nil {
			return "", err
		}
		b := make([]byte, 64)
		n, err := c.Read(b)
		return string(b[:n]), err
	}
	if got, err := ask("127.0.0.1"); got != "echo:hi" {
		t.Fatalf("through the frontend: %q %v", got, err)
	}
	d.apiJSON(t, "POST", "/berth/frontends/dns/switch", apiext.FrontendSwitchRequest{Backends: []string{"ub"}}, 200, nil)
	must(t, d.berth("stop", "-t", "0", "ua"))
	if got, err := ask("127.0.0.1"); got != "echo:hi" {
		t.Fatalf("after the switch, with the old backend stopped: %q %v", got, err)
	}
	gw := must(t, d.berth("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", "udpnet"))
	if got, err := ask(gw); err == nil {
		t.Fatalf("the 127.0.0.1 port answered on %s: %q", gw, got)
	}
	d.apiJSON(t, "DELETE", "/berth/frontends/dns", nil, 204, nil)
}
