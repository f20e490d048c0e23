package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/network/firewall"
	"github.com/berth-project/berth/network/netns"
	"github.com/miekg/dns"
)

// freePort returns a TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lowPorts counts the ports freePortPair handed out, so that no two
// calls in a test binary return the same.
var lowPorts atomic.Int32

// freePortPair returns a port that is free, as is the next one, below
// the ephemeral range (which other tests' connections cycle through, so a
// port found free there may be a client's a moment later).
func freePortPair(t *testing.T) int {
	t.Helper()
	for {
		p := 20000 + (os.Getpid()%2000)*4 + int(lowPorts.Add(1))*2
		if p >= 32700 {
			break
		}
		a, err := net.Listen("tcp4", fmt.Sprintf(":%d", p))
		if err != nil {
			continue
		}
		b, err := net.Listen("tcp4", fmt.Sprintf(":%d", p+1))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return p
	}
	t.Fatal("no two free ports in a row")
	return 0
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// udpecho builds the test's UDP echo server (busybox nc has no UDP).
func udpecho(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "udpecho"), "./testdata/udpecho")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build udpecho: %v\n%s", err, out)
	}
	return dir
}

// berthRules lists this daemon's iptables and ip6tables rules (both
// tables), the IPv6 ones marked "ip6 ".
func (d *daemon) berthRules() string {
	var out []string
	suffix := chainSuffix(d.dataRoot)
	for _, tool := range []string{"iptables", "ip6tables"} {
		for _, table := range []string{"nat", "filter"} {
			b, _ := exec.Command(tool, "-t", table, "-S").Output()
			for _, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, suffix) && strings.HasPrefix(l, "-A BERTH") {
					if tool == "ip6tables" {
						l = "ip6 " + l
					}
					out = append(out, l)
				}
			}
		}
	}
	// the frontends' DNAT, in nftables
	nat, _ := firewall.NewNAT(suffix).Rules()
	out = append(out, nat...)
	return strings.Join(out, "\n")
}

// TestPublishedPorts: the seed's "-p 8080:80 -v site:/www httpd" from the
// host, edits seen live, UDP, ephemeral ports, -P, a taken port.
func TestPublishedPorts(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	id := must(t, d.berth("run", "-d", "-p", fmt.Sprintf("%d:80", port), "-v", site+":/www", "busybox", "httpd", "-f", "-h", "/www", "-p", "80"))
	url := fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	var body string
	waitFor(t, func() bool { b, err := httpGet(url); body = b; return err == nil })
	if body != "v1" {
		t.Fatalf("GET %s: %q", url, body)
	}
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := httpGet(url); err != nil || b != "v2" {
		t.Fatalf("after the edit: %q %v", b, err)
	}
	// ps and port show it; a container reaches it through the gateway (hairpin)
	if out := must(t, d.berth("ps", "--format", "{{.Ports}}")); out != fmt.Sprintf("0.0.0.0:%d->80/tcp", port) {
		t.Fatalf("PORTS: %q", out)
	}
	if out := must(t, d.docker("port", id, "80")); out != fmt.Sprintf("0.0.0.0:%d", port) {
		t.Fatalf("docker port: %q", out)
	}
	gw := must(t, d.berth("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}", id))
	if out := must(t, d.berth("run", "--rm", "busybox", "wget", "-qO-", fmt.Sprintf("http://%s:%d/index.html", gw, port))); out != "v2" {
		t.Fatalf("from another container: %q", out)
	}
	if out := must(t, d.berth("exec", id, "wget", "-qO-", fmt.Sprintf("http://%s:%d/index.html", gw, port))); out != "v2" {
		t.Fatalf("hairpin: %q", out)
	}
	// the port is taken now: a second container cannot have it, and is left created
	r := d.berth("run", "-d", "--name", "second", "-p", fmt.Sprintf("%d:80", port), "busybox", "sleep", "100")
	if r.code != 125 || !strings.Contains(r.stderr, fmt.Sprintf("0.0.0.0:%d failed: port is already allocated", port)) {
		t.Fatalf("taken port: %s", r)
	}
	if st := must(t, d.berth("inspect", "-f", "{{.State.Status}}", "second")); st != "created" {
		t.Fatalf("state after a failed start: %s", st)
	}
	must(t, d.berth("rm", "second"))
	// a host range: the first free port of it, and all of it taken is refused
	lo := freePortPair(t)
	first := must(t, d.berth("run", "-d", "-p", fmt.Sprintf("%d:80", lo), "busybox", "sleep", "100"))
	ranged := must(t, d.docker("run", "-d", "-p", fmt.Sprintf("%d-%d:80", lo, lo+1), "busybox", "sleep", "100"))
	if out := must(t, d.docker("port", ranged, "80")); out != fmt.Sprintf("0.0.0.0:%d", lo+1) {
		t.Fatalf("port from a range whose first port is taken: %q", out)
	}
	r = d.berth("run", "-d", "-p", fmt.Sprintf("%d-%d:80", lo, lo+1), "busybox", "sleep", "100")
	if r.code != 125 || !strings.Contains(r.stderr, "all ports are allocated") {
		t.Fatalf("a taken range: %s", r)
	}
	must(t, d.berth("rm", "-f", ranged, first))
	d.berth("container", "prune", "-f")
	// UDP, on an ephemeral host port, bound to 127.0.0.1
	bin := udpecho(t)
	uid := must(t, d.berth("run", "-d", "-p", "127.0.0.1::5000/udp", "-v", bin+":/t:ro", "busybox", "/t/udpecho", ":5000"))
	hostPort := must(t, d.berth("port", uid, "5000/udp"))
	if !strings.HasPrefix(hostPort, "127.0.0.1:") {
		t.Fatalf("udp port: %q", hostPort)
	}
	conn, err := net.Dial("udp", hostPort)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got := ""
	waitFor(t, func() bool {
		_ = conn.SetDeadline(time.Now().Add(200 * time.Millisecond))
		_, _ = conn.Write([]byte("ping"))
		b := make([]byte, 64)
		n, err := conn.Read(b)
		got = string(b[:n])
		return err == nil
	})
	if got != "echo:ping" {
		t.Fatalf("udp: %q", got)
	}
	// -P publishes the image's EXPOSEd ports
	must(t, d.berth("import", "-c", "EXPOSE 80", filepath.Join(imagesDir(), "busybox.tar"), "exposing"))
	pid := must(t, d.berth("run", "-d", "-P", "-v", site+":/www", "exposing", "httpd", "-f", "-h", "/www", "-p", "80"))
	hp := must(t, d.berth("port", pid, "80"))
	_, p, _ := net.SplitHostPort(hp)
	waitFor(t, func() bool {
		b, err := httpGet("http://127.0.0.1:" + p + "/index.html")
		return err == nil && b == "v2"
	})
	// removing the containers removes their rules
	before := d.berthRules()
	if !strings.Contains(before, fmt.Sprintf("--dport %d", port)) {
		t.Fatalf("no DNAT rule for %d:\n%s", port, before)
	}
	must(t, d.berth("rm", "-f", id, uid, pid))
	after := d.berthRules()
	for _, p := range []string{fmt.Sprint(port), p} {
		if strings.Contains(after, "--dport "+p+" ") {
			t.Fatalf("rule for port %s left:\n%s", p, after)
		}
	}
	if _, err := httpGet(url); err == nil {
		t.Fatal("the port still answers after rm")
	}
}

// TestUserNetworks: names and aliases resolve on a user network, networks
// are isolated from each other, connect/disconnect at run time, and the
// bad inputs of the issue.
func TestUserNetworks(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.berth("network", "create", "--subnet", "10.231.0.0/24", "n1"))
	must(t, d.docker("network", "create", "n2"))
	db := must(t, d.berth("run", "-d", "--name", "db", "--network", "n1", "--network-alias", "database", "busybox", "sh", "-c", "echo dbdata > /i; httpd -f -h / -p 80"))
	dbIP := must(t, d.berth("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", db))
	if !strings.HasPrefix(dbIP, "10.231.0.") {
		t.Fatalf("db address %q", dbIP)
	}
	fetch := `for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://$0/i && exit 0; sleep 0.2; done; exit 1`
	for _, name := range []string{"db", "database", db[:12]} {
		if out := must(t, d.berth("run", "--rm", "--network", "n1", "busybox", "sh", "-c", fetch, name)); out != "dbdata" {
			t.Fatalf("by %s: %q", name, out)
		}
	}
	// another network: no name, no route
	r := d.berth("run", "--rm", "--network", "n2", "busybox", "sh", "-c", "nslookup db 127.0.0.11 >/dev/null 2>&1 && echo resolved; nc -w 2 "+dbIP+" 80 </dev/null && echo connected; true")
	if strings.Contains(r.stdout, "resolved") || strings.Contains(r.stdout, "connected") {
		t.Fatalf("networks are not isolated: %s", r)
	}
	// the default bridge has no name resolution (Docker's semantics)
	if r := d.berth("run", "--rm", "busybox", "wget", "-qO-", "http://db/i"); r.code == 0 {
		t.Fatalf("default bridge resolved db: %s", r)
	}
	// connect at run time, then disconnect
	cli := must(t, d.berth("run", "-d", "--network", "n2", "busybox", "sleep", "1000"))
	must(t, d.docker("network", "connect", "--alias", "client", "n1", cli))
	if out := must(t, d.berth("exec", cli, "sh", "-c", fetch, "db")); out != "dbdata" {
		t.Fatalf("after connect: %q", out)
	}
	if out := must(t, d.berth("exec", db, "nslookup", "client", "127.0.0.11")); !strings.Contains(out, "10.231.0.") {
		t.Fatalf("alias given at connect: %q", out)
	}
	must(t, d.berth("network", "disconnect", "n1", cli))
	if r := d.berth("exec", cli, "nc", "-w", "2", dbIP, "80"); r.code == 0 {
		t.Fatalf("still connected after disconnect: %s", r)
	}
	// --gateway, --ip-range and --mac-address
	must(t, d.berth("network", "create", "--subnet", "10.233.0.0/16", "--gateway", "10.233.0.254", "--ip-range", "10.233.5.0/24", "ranged"))
	out := must(t, d.berth("run", "--rm", "--network", "ranged", "--mac-address", "02:11:22:33:44:55", "busybox", "sh", "-c", "ip -4 -o addr show eth0; ip route; cat /sys/class/net/eth0/address"))
	for _, want := range []string{"10.233.5.", "default via 10.233.0.254", "02:11:22:33:44:55"} {
		if !strings.Contains(out, want) {
			t.Fatalf("ranged network: missing %q in\n%s", want, out)
		}
	}
	must(t, d.berth("network", "rm", "ranged"))
	// --ip on a user network, and the errors
	if out := must(t, d.berth("run", "--rm", "--network", "n1", "--ip", "10.231.0.77", "busybox", "ip", "-4", "-o", "addr", "show", "eth0")); !strings.Contains(out, "10.231.0.77/24") {
		t.Fatalf("--ip: %q", out)
	}
	if r := d.berth("run", "--rm", "--network", "n1", "--ip", "10.9.9.9", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "10.9.9.9") {
		t.Fatalf("--ip outside the subnet: %s", r)
	}
	if r := d.berth("run", "--rm", "--network", "n1", "--ip", dbIP, "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "Address already in use") {
		t.Fatalf("--ip in use: %s", r)
	}
	if r := d.berth("network", "create", "--subnet", "10.231.0.128/25", "n3"); r.code == 0 || !strings.Contains(r.stderr, "Pool overlaps") {
		t.Fatalf("overlapping subnet: %s", r)
	}
	if r := d.berth("network", "rm", "n1"); r.code == 0 || !strings.Contains(r.stderr, "has active endpoints") {
		t.Fatalf("rm of a network in use: %s", r)
	}
	if r := d.berth("network", "rm", "bridge"); r.code == 0 || !strings.Contains(r.stderr, "pre-defined network") {
		t.Fatalf("rm bridge: %s", r)
	}
	if r := d.berth("run", "--rm", "--network", "nonet", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "network nonet not found") {
		t.Fatalf("unknown network: %s", r)
	}
	if out := must(t, d.berth("network", "ls", "--format", "{{.Name}}", "--filter", "type=custom")); out != "n1\nn2" {
		t.Fatalf("ls custom: %q", out)
	}
	must(t, d.berth("rm", "-f", db, cli))
	if out := must(t, d.berth("network", "prune", "-f")); !strings.Contains(out, "n1") || !strings.Contains(out, "n2") {
		t.Fatalf("prune: %q", out)
	}
	if out := must(t, d.berth("network", "ls", "-q", "--filter", "type=custom")); out != "" {
		t.Fatalf("left after prune: %q", out)
	}
	if rules := d.berthRules(); strings.Contains(rules, "10.231.0.0/24") {
		t.Fatalf("rules of a removed network:\n%s", rules)
	}
	if out, _ := exec.Command("ip", "-br", "link", "show", "type", "bridge").Output(); strings.Contains(string(out), "br-") && strings.Contains(string(out), "10.231") {
		t.Fatalf("bridge left:\n%s", out)
	}
}

// outside makes a stand-in for the outside world: a namespace with a
// TCP server, reached from the host through a veth pair on 10.232.x.0/24.
func outside(t *testing.T) (addr string, peers chan string) {
	t.Helper()
	ns := filepath.Join(t.TempDir(), "outside")
	if err := netns.Create(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netns.Remove(ns) })
	host, in := "otest"+fmt.Sprint(os.Getpid()%10000), "oin"+fmt.Sprint(os.Getpid()%10000)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	run("link", "add", host, "type", "veth", "peer", "name", in)
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	run("addr", "add", "10.232.7.1/24", "dev", host)
	run("link", "set", host, "up")
	run("link", "set", in, "netns", ns)
	peers = make(chan string, 10)
	err := netns.Do(ns, func() error {
		for _, args := range [][]string{{"addr", "add", "10.232.7.2/24", "dev", in}, {"link", "set", in, "up"}, {"route", "add", "default", "via", "10.232.7.1"}} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				return fmt.Errorf("ip %v: %v: %s", args, err, out)
			}
		}
		ln, err := net.Listen("tcp4", "10.232.7.2:7777")
		if err != nil {
			return err
		}
		t.Cleanup(func() { ln.Close() })
		// and a DNS server out there that knows one name
		pc, err := net.ListenPacket("udp4", "10.232.7.2:53")
		if err != nil {
			return err
		}
		srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(r)
			switch {
			case len(r.Question) != 1 || r.Question[0].Name != "world.example.":
				m.Rcode = dns.RcodeNameError
			case r.Question[0].Qtype == dns.TypeA:
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: "world.example.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(10, 232, 7, 2)})
			default: // the name exists, without records of that type
			}
			_ = w.WriteMsg(m)
		})}
		go srv.ActivateAndServe()
		t.Cleanup(func() { srv.Shutdown() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				peers <- c.RemoteAddr().(*net.TCPAddr).IP.String()
				c.Write([]byte("outside says hi\n"))
				c.Close()
			}
		}()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return "10.232.7.2 7777", peers
}

// TestNATAndInternal: containers reach the outside through NAT (the
// server sees the host's address); an --internal network has no way out.
func TestNATAndInternal(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	addr, peers := outside(t)
	out := must(t, d.berth("run", "--rm", "busybox", "sh", "-c", "nc -w 5 "+addr+" </dev/null"))
	if out != "outside says hi" {
		t.Fatalf("from the default bridge: %q", out)
	}
	if p := <-peers; p != "10.232.7.1" {
		t.Fatalf("the outside saw %s, not the host's address (no masquerade)", p)
	}
	must(t, d.berth("network", "create", "usernet"))
	if out := must(t, d.berth("run", "--rm", "--network", "usernet", "busybox", "sh", "-c", "nc -w 5 "+addr+" </dev/null")); out != "outside says hi" {
		t.Fatalf("from a user network: %q", out)
	}
	<-peers
	// the embedded resolver forwards names it does not own to --dns (here the outside's server)
	out = must(t, d.berth("run", "--rm", "--network", "usernet", "--dns", "10.232.7.2", "busybox", "sh", "-c", "cat /etc/resolv.conf; nslookup world.example"))
	if !strings.Contains(out, "nameserver 127.0.0.11") || !strings.Contains(out, "Address: 10.232.7.2") {
		t.Fatalf("forwarding through the embedded resolver:\n%s", out)
	}
	must(t, d.berth("network", "create", "--internal", "closed"))
	if r := d.berth("run", "--rm", "--network", "closed", "busybox", "sh", "-c", "nc -w 2 "+addr+" </dev/null"); r.code == 0 {
		t.Fatalf("an internal network reached the outside: %s", r)
	}
	must(t, d.berth("network", "rm", "usernet", "closed"))
}

// TestNetworkReconcileAfterKill9: rules and ports come back exactly once
// after kill -9 and a restart; removing everything leaves nothing.
func TestNetworkReconcileAfterKill9(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("alive"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, port6 := freePort(t), freePort(t)
	// dual stack, so that the ip6tables rules and the [::] port go through it too
	must(t, d.docker("network", "create", "--ipv6", "keep"))
	id := must(t, d.berth("run", "-d", "--network", "keep", "--name", "srv", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "-p", fmt.Sprintf("%d:80", port6),
		"-v", dir+":/www", "busybox", "httpd", "-f", "-h", "/www", "-p", "80"))
	url := fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	url6 := fmt.Sprintf("http://[::1]:%d/index.html", port6)
	waitFor(t, func() bool { _, err := httpGet(url); return err == nil })
	rulesBefore := d.berthRules()
	if !strings.Contains(rulesBefore, "ip6 ") || !strings.Contains(rulesBefore, fmt.Sprintf("--dport %d -j DNAT --to-destination [", port6)) {
		t.Fatalf("no IPv6 rules for the dual-stack network:\n%s", rulesBefore)
	}
	d.stop(syscall.SIGKILL)
	d.start()
	for _, u := range []string{url, url6} {
		if b, err := httpGet(u); err != nil || b != "alive" {
			t.Fatalf("%s after kill -9 and restart: %q %v", u, b, err)
		}
	}
	if rules := d.berthRules(); rules != rulesBefore {
		t.Fatalf("rules changed over the restart:\nbefore:\n%s\nafter:\n%s", rulesBefore, rules)
	}
	// names still resolve (the resolver came back with the daemon)
	if out := must(t, d.berth("run", "--rm", "--network", "keep", "busybox", "wget", "-qO-", "http://srv/index.html")); out != "alive" {
		t.Fatalf("name after restart: %q", out)
	}
	// the address stays taken: a new container gets another one
	ip := must(t, d.berth("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id))
	if out := must(t, d.berth("run", "--rm", "--network", "keep", "busybox", "ip", "-4", "-o", "addr", "show", "eth0")); strings.Contains(out, " "+ip+"/") {
		t.Fatalf("address %s handed out twice", ip)
	}
	must(t, d.berth("rm", "-f", id))
	must(t, d.berth("network", "rm", "keep"))
	if rules := d.berthRules(); strings.Contains(rules, "DNAT") || strings.Contains(rules, "br-") {
		t.Fatalf("rules left:\n%s", rules)
	}
	out, _ := exec.Command("ip", "-br", "link").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "veth") && strings.Contains(l, d.bridge) {
			t.Fatalf("veth left on the bridge: %s", l)
		}
	}
}

// TestNetworkModesAndResolverOptions: host, none and container:<name>
// modes; --dns, --dns-search, --dns-option, --add-host, --link, --hostname.
func TestNetworkModesAndResolverOptions(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	hostIfs, _ := net.Interfaces()
	out := must(t, d.berth("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"))
	if len(strings.Fields(out)) != len(hostIfs) {
		t.Fatalf("--network host sees %q, the host has %d interfaces", out, len(hostIfs))
	}
	// --network none: only lo, and up, as dockerd's none network (a server
	// on 127.0.0.1 answers its own container)
	none := "httpd -p 127.0.0.1:80 -h /etc; for i in 1 2 3 4 5; do wget -qO- http://127.0.0.1/hostname && exit 0; sleep 0.1; done; exit 1"
	if out := must(t, d.berth("run", "--rm", "--network", "none", "--hostname", "alone", "busybox", "sh", "-c", none)); out != "alone" {
		t.Fatalf("--network none: localhost answered %q", out)
	}
	web := must(t, d.berth("run", "-d", "--name", "web", "busybox", "sh", "-c", "echo page > /i; httpd -f -h / -p 80"))
	webIP := must(t, d.berth("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", web))
	// container:<name> shares web's namespace: its localhost is web's
	fetch := `for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://$0/i && exit 0; sleep 0.2; done; exit 1`
	if out := must(t, d.berth("run", "--rm", "--network", "container:web", "busybox", "sh", "-c", fetch, "127.0.0.1")); out != "page" {
		t.Fatalf("container:web: %q", out)
	}
	if out := must(t, d.berth("run", "--rm", "--network", "container:web", "busybox", "ip", "-4", "-o", "addr", "show", "eth0")); !strings.Contains(out, webIP+"/") {
		t.Fatalf("container:web address: %q", out)
	}
	// --link on the default bridge puts the name in /etc/hosts
	if out := must(t, d.berth("run", "--rm", "--link", "web:site", "busybox", "sh", "-c", fetch, "site")); out != "page" {
		t.Fatalf("--link: %q", out)
	}
	out = must(t, d.berth("run", "--rm", "--hostname", "box", "--dns", "10.0.0.53", "--dns-search", "example.test", "--dns-option", "ndots:2",
		"--add-host", "db.local:10.1.2.3", "busybox", "cat", "/etc/resolv.conf", "/etc/hosts"))
	for _, want := range []string{"nameserver 10.0.0.53", "search example.test", "options ndots:2", "10.1.2.3\tdb.local", "\tbox"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "nameserver 127.") {
		t.Errorf("a loopback resolver leaked into the container:\n%s", out)
	}
	must(t, d.berth("rm", "-f", web))
}

// TestIsolationWithOtherDaemonsChains: isolation between networks holds
// while another daemon's chains accept everything from this daemon's
// default bridge (a daemon of another data root that used the same
// bridge), whichever daemon hooked its chains first; chains whose data
// root is gone are removed by the next daemon that starts.
func TestIsolationWithOtherDaemonsChains(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	subnet := must(t, d.berth("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "bridge"))
	other, err := firewall.New("it"+strconv.Itoa(os.Getpid()%10000), t.TempDir()) // its data root exists
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { _ = other.Teardown() })
	if err := other.Init(); err != nil {
		t.Fatal(err)
	}
	if err := other.AddNetwork(firewall.Network{Bridge: d.bridge, Subnet: netip.MustParsePrefix(subnet)}); err != nil {
		t.Fatal(err)
	}
	gone, _ := firewall.New("ig"+strconv.Itoa(os.Getpid()%10000), filepath.Join(t.TempDir(), "gone"))
	t.Cleanup(func() { _ = gone.Teardown() })
	if err := gone.Init(); err != nil {
		t.Fatal(err)
	}
	must(t, d.berth("network", "create", "n1"))
	srv := must(t, d.berth("run", "-d", "--network", "n1", "busybox", "httpd", "-f", "-h", "/etc", "-p", "80"))
	ip := must(t, d.berth("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", srv))
	probe := "for i in 1 2 3 4 5; do nc -w 1 " + ip + " 80 </dev/null && exit 0; sleep 0.2; done; exit 1"
	check := func(when string) {
		t.Helper()
		if r := d.berth("run", "--rm", "--network", "n1", "busybox", "sh", "-c", probe); r.code != 0 {
			t.Fatalf("%s: the server does not answer on its own network: %s", when, r)
		}
		if r := d.berth("run", "--rm", "busybox", "nc", "-w", "2", ip, "80"); r.code == 0 {
			t.Fatalf("%s: the default bridge reached %s on another network", when, ip)
		}
	}
	check("other daemon hooked after this one")
	// this daemon restarts: its hooks go to the top again, the other's stay
	d.stop(syscall.SIGTERM)
	d.start()
	check("after this daemon's restart")
	for _, f := range []struct {
		fw   *firewall.Firewall
		kept bool
	}{{other, true}, {gone, false}} {
		rules, _ := f.fw.Rules()
		if kept := len(rules) > 0; kept != f.kept {
			t.Errorf("chains kept: %v, want %v: %q", kept, f.kept, rules)
		}
	}
}
