package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/network/netns"
)

// rawAPI sends one request to the path as given (no version prefix) and
// returns status and body.
func (d *daemon) rawAPI(method, path, body string) (int, string) {
	d.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://berth"+path, rd)
	if err != nil {
		d.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.unixClient().Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// jsonField decodes body and follows keys (map keys or list indexes as
// strings) to a value.
func jsonField(t *testing.T, body string, keys ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := 0
			fmt.Sscan(k, &i)
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// TestNetworkAPIDetails: GET /networks/ lists as /networks does; a network
// whose only containers are stopped can be removed (they have no
// endpoints, as in dockerd), and network inspect lists only running
// containers; a renamed container answers to its new name on a user
// network.
func TestNetworkAPIDetails(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.docker("network", "create", "apinet"))
	for _, path := range []string{"/networks", "/networks/", "/v1.50/networks/"} {
		code, body := d.rawAPI("GET", path, "")
		if code != 200 || !strings.Contains(body, `"Name":"apinet"`) {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
	}
	// a stopped container does not keep its network
	must(t, d.docker("run", "--name", "gone", "--network", "apinet", "busybox", "true"))
	if out := must(t, d.docker("network", "inspect", "-f", "{{len .Containers}}", "apinet")); out != "0" {
		t.Fatalf("stopped container listed in network inspect: %s", out)
	}
	if out := must(t, d.docker("network", "ls", "-q", "--filter", "dangling=true")); !strings.Contains(out, must(t, d.docker("network", "inspect", "-f", "{{.ID}}", "apinet"))[:12]) {
		t.Fatalf("network of a stopped container is not dangling: %q", out)
	}
	netID := must(t, d.docker("network", "inspect", "-f", "{{.ID}}", "apinet"))
	must(t, d.docker("network", "rm", "apinet"))
	// dockerd looks a user network up by the ID the container recorded
	if r := d.docker("start", "gone"); r.code == 0 || !strings.Contains(r.stderr, "network "+netID+" not found") {
		t.Fatalf("start after its network went: %s", r)
	}
	must(t, d.docker("rm", "gone"))
	// a running one does, with dockerd's words
	must(t, d.docker("network", "create", "busy"))
	id := must(t, d.docker("run", "-d", "--name", "old", "--network", "busy", "busybox", "sleep", "1000"))
	if r := d.docker("network", "rm", "busy"); r.code == 0 || !strings.Contains(r.stderr, `network busy has active endpoints (name:"old" id:"`) {
		t.Fatalf("rm of a network in use: %s", r)
	}
	if out := must(t, d.docker("network", "inspect", "-f", "{{range .Containers}}{{.Name}}{{end}}", "busy")); out != "old" {
		t.Fatalf("network inspect containers: %q", out)
	}
	// rename: the new name resolves, the old one no longer does
	must(t, d.docker("rename", "old", "renamed"))
	lookup := "for i in 1 2 3 4 5; do nslookup $0 127.0.0.11 >/dev/null 2>&1 && echo found && exit 0; sleep 0.2; done; echo missing"
	if out := must(t, d.docker("run", "--rm", "--network", "busy", "busybox", "sh", "-c", lookup, "renamed")); out != "found" {
		t.Fatalf("new name after rename: %s", out)
	}
	if out := must(t, d.docker("run", "--rm", "--network", "busy", "busybox", "sh", "-c", "nslookup old 127.0.0.11 >/dev/null 2>&1 && echo found || echo missing")); out != "missing" {
		t.Fatalf("old name after rename: %s", out)
	}
	if out := must(t, d.docker("inspect", "-f", "{{(index .NetworkSettings.Networks \"busy\").DNSNames}}", id)); !strings.Contains(out, "renamed") || strings.Contains(out, "old") {
		t.Fatalf("DNSNames after rename: %s", out)
	}
	if out := must(t, d.docker("network", "inspect", "-f", "{{range .Containers}}{{.Name}}{{end}}", "busy")); out != "renamed" {
		t.Fatalf("network inspect after rename: %q", out)
	}
	must(t, d.docker("rm", "-f", id))
	must(t, d.docker("network", "rm", "busy"))
}

// outside6 makes a stand-in for another host on IPv6: a namespace joined
// to the host by a veth pair on fd00:250::/64. It returns the host's
// address on that link and the namespace.
func outside6(t *testing.T) (hostAddr, ns string) {
	t.Helper()
	ns = filepath.Join(t.TempDir(), "outside6")
	if err := netns.Create(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netns.Remove(ns) })
	host, in := "o6h"+fmt.Sprint(os.Getpid()%100000), "o6i"+fmt.Sprint(os.Getpid()%100000)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	run("link", "add", host, "type", "veth", "peer", "name", in)
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	run("addr", "add", "fd00:250::1/64", "dev", host, "nodad")
	run("link", "set", host, "up")
	run("link", "set", in, "netns", ns)
	err := netns.Do(ns, func() error {
		for _, args := range [][]string{{"addr", "add", "fd00:250::2/64", "dev", in, "nodad"}, {"link", "set", in, "up"}} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				return fmt.Errorf("ip %v: %v: %s", args, err, out)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return "fd00:250::1", ns
}

// fetchIn GETs path from addr from inside the namespace ns and returns
// the body.
func fetchIn(ns, addr, path string) (string, error) {
	var body string
	err := netns.Do(ns, func() error {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("GET " + path + " HTTP/1.0\r\n\r\n")); err != nil {
			return err
		}
		b, err := io.ReadAll(c)
		_, body, _ = strings.Cut(string(b), "\r\n\r\n")
		return err
	})
	return body, err
}

// TestDualStack: a network with an IPv4 and an IPv6 subnet; containers
// get addresses of both (round robin, --ip6 honoured), reach each other
// over IPv6 and resolve each other's AAAA records; another network stays
// isolated in IPv6 too; published ports answer on IPv6 (DNAT from another
// host, the loopback proxy for ::1); inspect shows dockerd's fields; bad
// input gets dockerd's errors; nothing is left in ip6tables after.
func TestDualStack(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	rules0 := d.berthRules()
	must(t, d.docker("network", "create", "--ipv6", "--subnet", "10.240.0.0/24", "--subnet", "fd00:240::/64", "--gateway", "fd00:240::1", "dual"))
	port := freePort(t)
	srv := must(t, d.docker("run", "-d", "--name", "srv", "--network", "dual", "-p", fmt.Sprintf("%d:80", port),
		"busybox", "sh", "-c", "echo v6page > /i; httpd -f -h / -p 80"))
	ip6 := func(id string) string {
		return must(t, d.docker("inspect", "-f", `{{(index .NetworkSettings.Networks "dual").GlobalIPv6Address}}`, id))
	}
	srv6 := ip6(srv)
	if srv6 != "fd00:240::2" {
		t.Fatalf("first IPv6 address %q", srv6)
	}
	out := must(t, d.docker("inspect", "-f", `{{with index .NetworkSettings.Networks "dual"}}{{.GlobalIPv6PrefixLen}} {{.IPv6Gateway}} {{.IPAddress}}{{end}}`, srv))
	if out != "64 fd00:240::1 10.240.0.2" {
		t.Fatalf("endpoint: %q", out)
	}
	// inside: the address, the default route, the bridge's gateway address
	out = must(t, d.docker("exec", srv, "sh", "-c", "ip -6 -o addr show eth0 scope global; ip -6 route show default"))
	for _, want := range []string{"fd00:240::2/64", "default via fd00:240::1"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in\n%s", want, out)
		}
	}
	br := "br-" + must(t, d.docker("network", "inspect", "-f", "{{.ID}}", "dual"))[:12]
	if b, _ := exec.Command("ip", "-6", "-o", "addr", "show", "dev", br).Output(); !strings.Contains(string(b), "fd00:240::1/64") {
		t.Fatalf("bridge %s lacks its IPv6 gateway: %s", br, b)
	}
	// another container: the next address, ping and HTTP over IPv6, AAAA by name
	cli := must(t, d.docker("run", "-d", "--name", "cli", "--network", "dual", "busybox", "sleep", "1000"))
	if got := ip6(cli); got != "fd00:240::3" {
		t.Fatalf("second IPv6 address %q", got)
	}
	must(t, d.docker("exec", cli, "ping", "-6", "-c", "1", "-W", "5", srv6))
	fetch := `for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- "http://$0/i" && exit 0; sleep 0.2; done; exit 1`
	if out := must(t, d.docker("exec", cli, "sh", "-c", fetch, "["+srv6+"]")); out != "v6page" {
		t.Fatalf("HTTP over IPv6: %q", out)
	}
	if out := must(t, d.docker("exec", cli, "nslookup", "-type=aaaa", "srv", "127.0.0.11")); !strings.Contains(out, srv6) {
		t.Fatalf("AAAA of srv:\n%s", out)
	}
	if out := must(t, d.docker("exec", cli, "nslookup", "-type=a", "srv", "127.0.0.11")); !strings.Contains(out, "10.240.0.2") || strings.Contains(out, srv6) {
		t.Fatalf("A of srv:\n%s", out)
	}
	// --ip6, and dockerd's errors for it
	out = must(t, d.docker("run", "--rm", "--network", "dual", "--ip6", "fd00:240::77", "busybox", "ip", "-6", "-o", "addr", "show", "eth0", "scope", "global"))
	if !strings.Contains(out, "fd00:240::77/64") {
		t.Fatalf("--ip6: %q", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--network", "dual", "--ip6", "fd00:999::1"}, "no configured subnet or ip-range contain the IP address fd00:999::1"},
		{[]string{"--network", "dual", "--ip6", srv6}, "Address already in use"},
		{[]string{"--ip6", "fd00:240::9"}, "user specified IP address is supported on user defined networks only"},
	} {
		r := d.docker(append(append([]string{"run", "--rm"}, tc.args...), "busybox", "true")...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("run %v: want %q: %s", tc.args, tc.want, r)
		}
	}
	// network inspect
	out = must(t, d.docker("network", "inspect", "-f", `{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}}/{{.Gateway}} {{end}}{{(index .Containers "`+srv+`").IPv6Address}}`, "dual"))
	if out != "true 10.240.0.0/24/ fd00:240::/64/fd00:240::1 fd00:240::2/64" {
		t.Fatalf("network inspect: %q", out)
	}
	// isolation holds in IPv6: a container of another dual-stack network
	// has a route out, and is dropped at the other bridge
	must(t, d.docker("network", "create", "--ipv6", "--subnet", "fd00:241::/64", "other"))
	r := d.docker("run", "--rm", "--network", "other", "busybox", "sh", "-c", "ip -6 route show default; nc -w 2 "+srv6+" 80 </dev/null && echo connected")
	if !strings.Contains(r.stdout, "default via fd00:241::1") || strings.Contains(r.stdout, "connected") {
		t.Fatalf("IPv6 isolation between networks: %s", r)
	}
	// the ULA subnet of a network created without one
	out = must(t, d.docker("network", "inspect", "-f", `{{range .IPAM.Config}}{{.Subnet}} {{end}}`, "other"))
	if !strings.Contains(out, "fd00:241::/64") {
		t.Fatalf("other: %q", out)
	}
	must(t, d.docker("network", "create", "--ipv6", "ula"))
	out = must(t, d.docker("network", "inspect", "-f", `{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{end}}`, "ula"))
	if f := strings.Fields(out); len(f) != 4 || !strings.HasPrefix(f[2], "fd") || !strings.HasSuffix(f[2], "::/64") || !strings.HasSuffix(f[3], "::1") {
		t.Fatalf("ula network: %q", out)
	}
	// published port: both families in inspect, from another host over
	// IPv6 (DNAT) and from the host's ::1 (proxied)
	if out := must(t, d.docker("port", srv, "80")); out != fmt.Sprintf("0.0.0.0:%d\n[::]:%d", port, port) {
		t.Fatalf("docker port: %q", out)
	}
	hostAddr, ns := outside6(t)
	var got string
	var err error
	for i := 0; i < 5; i++ {
		if got, err = fetchIn(ns, fmt.Sprintf("[%s]:%d", hostAddr, port), "/i"); err == nil {
			break
		}
	}
	if got != "v6page\n" {
		t.Fatalf("from another host over IPv6: %q %v", got, err)
	}
	if b, err := httpGet(fmt.Sprintf("http://[::1]:%d/i", port)); err != nil || b != "v6page\n" {
		t.Fatalf("via [::1]: %q %v", b, err)
	}
	if b, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/i", port)); err != nil || b != "v6page\n" {
		t.Fatalf("via 127.0.0.1: %q %v", b, err)
	}
	rules := d.berthRules()
	for _, want := range []string{"ip6 -A BERTH-POST-" + chainSuffix(d.dataRoot) + " -s fd00:240::/64 ! -o " + br + " -j MASQUERADE",
		fmt.Sprintf("--dport %d -j DNAT --to-destination [%s]:80", port, srv6)} {
		if !strings.Contains(rules, want) {
			t.Errorf("missing %q in\n%s", want, rules)
		}
	}
	// bad input
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ipv6", "--subnet", "fd00:242::1/64", "bad1"}, "invalid subnet fd00:242::1/64: it should be fd00:242::/64"},
		{[]string{"--ipv6", "--subnet", "fd00:243::/64", "--subnet", "fd00:244::/64", "bad2"}, "bridge driver doesn't support multiple subnets"},
		{[]string{"--subnet", "10.245.0.0/24", "--subnet", "10.246.0.0/24", "bad3"}, "bridge driver doesn't support multiple subnets"},
		{[]string{"--ipv6", "--subnet", "fd00:240::/80", "bad4"}, "Pool overlaps with other one on this address space"},
	} {
		r := d.docker(append([]string{"network", "create"}, tc.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("network create %v: want %q: %s", tc.args, tc.want, r)
		}
	}
	// what the CLI checks itself, through the API: every problem, in dockerd's words
	code, body := d.api(t, "POST", "/networks/create", map[string]any{"Name": "bad6", "EnableIPv6": true, "IPAM": map[string]any{"Config": []map[string]any{
		{"Subnet": "fd00:247::/64", "IPRange": "fd00:248::/80", "Gateway": "10.0.0.1"}}}})
	want := `{"message":"invalid network config:\n* invalid ip-range fd00:248::/80: parent subnet fd00:247::/64 doesn't contain ip-range\n* invalid gateway 10.0.0.1: parent subnet is an IPv6 block"}`
	if code != 400 || strings.TrimSpace(string(body)) != want {
		t.Errorf("bad IPAM config: %d %s", code, body)
	}
	// the default bridge stays IPv4-only
	if out := must(t, d.docker("run", "--rm", "busybox", "ip", "-6", "-o", "addr", "show", "scope", "global")); out != "" {
		t.Fatalf("IPv6 address on the default bridge: %q", out)
	}
	if out := must(t, d.docker("network", "inspect", "-f", "{{.EnableIPv6}}", "bridge")); out != "false" {
		t.Fatalf("default bridge EnableIPv6: %s", out)
	}
	must(t, d.docker("rm", "-f", srv, cli))
	must(t, d.docker("network", "rm", "dual", "other", "ula"))
	if rules := d.berthRules(); rules != rules0 {
		t.Fatalf("rules left:\nbefore:\n%s\nafter:\n%s", rules0, rules)
	}
}

// TestIPAMDetails: IPAM options and auxiliary addresses are kept and
// returned in dockerd's shapes (Options null when none were given, {}
// when the CLI sent an empty map; a configured subnet shown as given,
// without a gateway nobody asked for), across a restart; auxiliary
// addresses are never handed to containers.
func TestIPAMDetails(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	ipam := func(name string) string {
		code, body := d.api(t, "GET", "/networks/"+name, nil)
		if code != 200 {
			t.Fatalf("inspect %s: %d %s", name, code, body)
		}
		var n struct{ IPAM json.RawMessage }
		if err := json.Unmarshal(body, &n); err != nil {
			t.Fatal(err)
		}
		return string(n.IPAM)
	}
	d.apiJSON(t, "POST", "/networks/create", map[string]any{"Name": "plain"}, 201, nil)
	d.apiJSON(t, "POST", "/networks/create", map[string]any{"Name": "aux", "IPAM": map[string]any{
		"Driver": "default", "Options": map[string]string{"opt": "v"},
		"Config": []map[string]any{{"Subnet": "10.250.0.0/24", "IPRange": "10.250.0.0/28", "AuxiliaryAddresses": map[string]string{"router": "10.250.0.2", "far": "10.250.0.200"}}}}}, 201, nil)
	must(t, d.docker("network", "create", "--subnet", "10.251.0.0/24", "cli"))
	plainSubnet := must(t, d.docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "plain"))
	plainPrefix, err := netip.ParsePrefix(plainSubnet)
	if err != nil {
		t.Fatalf("plain's subnet %q: %v", plainSubnet, err)
	}
	want := map[string]string{
		"plain":  `{"Driver":"default","Options":null,"Config":[{"Subnet":"` + plainSubnet + `","Gateway":"` + plainPrefix.Addr().Next().String() + `"}]}`,
		"aux":    `{"Driver":"default","Options":{"opt":"v"},"Config":[{"Subnet":"10.250.0.0/24","IPRange":"10.250.0.0/28","AuxiliaryAddresses":{"far":"10.250.0.200","router":"10.250.0.2"}}]}`,
		"cli":    `{"Driver":"default","Options":{},"Config":[{"Subnet":"10.251.0.0/24"}]}`,
		"host":   `{"Driver":"default","Options":null,"Config":null}`,
		"bridge": ``,
	}
	check := func(when string) {
		t.Helper()
		for name, w := range want {
			got := ipam(name)
			if name == "bridge" {
				if !strings.HasPrefix(got, `{"Driver":"default","Options":null,"Config":[{"Subnet":`) {
					t.Errorf("%s: bridge IPAM %s", when, got)
				}
				continue
			}
			if got != w {
				t.Errorf("%s: %s IPAM\n got %s\nwant %s", when, name, got, w)
			}
		}
	}
	check("after create")
	// the gateway (.1) and the router (.2) are never handed out
	ip := must(t, d.docker("run", "--rm", "--network", "aux", "busybox", "sh", "-c", "ip -4 -o addr show eth0 | awk '{print $4}'"))
	if ip != "10.250.0.3/24" {
		t.Fatalf("first address on aux: %s", ip)
	}
	for _, a := range []string{"10.250.0.2", "10.250.0.200"} {
		if r := d.docker("run", "--rm", "--network", "aux", "--ip", a, "busybox", "true"); r.code == 0 || !strings.Contains(r.stderr, "Address already in use") {
			t.Errorf("--ip %s (auxiliary): %s", a, r)
		}
	}
	// an auxiliary address outside the subnet, through the API
	code, body := d.api(t, "POST", "/networks/create", map[string]any{"Name": "badaux", "IPAM": map[string]any{
		"Config": []map[string]any{{"Subnet": "10.252.0.0/24", "AuxiliaryAddresses": map[string]string{"x": "10.9.9.9"}}}}})
	if code != 400 || !strings.Contains(string(body), "invalid auxiliary address x: parent subnet 10.252.0.0/24 doesn't contain this address") {
		t.Errorf("aux outside the subnet: %d %s", code, body)
	}
	d.stop(syscall.SIGTERM)
	d.start()
	check("after a restart")
	must(t, d.docker("network", "rm", "plain", "aux", "cli"))
}

// TestEndpointSettings: what a create or connect asks of an endpoint
// (aliases, MAC, link-local IPs, links, driver options) is kept and shown
// by inspect, before the start too; link-local IPs are on the interface.
func TestEndpointSettings(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.docker("network", "create", "n1"))
	must(t, d.docker("network", "create", "n2"))
	must(t, d.docker("run", "-d", "--name", "other", "--network", "n2", "busybox", "sleep", "1000"))
	id := must(t, d.docker("create", "--name", "ep", "--network", "n1", "--network-alias", "a1", "--mac-address", "02:42:ac:11:00:99",
		"--link-local-ip", "169.254.8.8", "busybox", "sleep", "1000"))
	must(t, d.docker("network", "connect", "--link", "other:al", "--driver-opt", "com.docker.network.endpoint.sysctls=net.ipv4.conf.IFNAME.log_martians=1", "n2", "ep"))
	show := func() string {
		return must(t, d.docker("inspect", "-f", `{{with index .NetworkSettings.Networks "n1"}}{{.MacAddress}} {{.Aliases}} {{.IPAMConfig.LinkLocalIPs}}{{end}} {{with index .NetworkSettings.Networks "n2"}}{{.Links}} {{.DriverOpts}}{{end}}`, id))
	}
	wantCreated := "02:42:ac:11:00:99 [a1] [169.254.8.8] [other:al] map[com.docker.network.endpoint.sysctls:net.ipv4.conf.IFNAME.log_martians=1]"
	if out := show(); out != wantCreated {
		t.Fatalf("created:\n got %s\nwant %s", out, wantCreated)
	}
	must(t, d.docker("start", id))
	if out := show(); out != wantCreated {
		t.Fatalf("running:\n got %s\nwant %s", out, wantCreated)
	}
	out := must(t, d.docker("exec", id, "sh", "-c", "ip -o addr show eth0; cat /sys/class/net/eth0/address"))
	for _, w := range []string{"169.254.8.8/16", "02:42:ac:11:00:99"} {
		if !strings.Contains(out, w) {
			t.Fatalf("missing %q in\n%s", w, out)
		}
	}
	// a link-local IP that is not one, and an endpoint sysctl of the wrong form
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--network", "n1", "--link-local-ip", "10.1.1.1"}, "invalid link local IP address: 10.1.1.1"},
	} {
		r := d.docker(append(append([]string{"run", "--rm"}, tc.args...), "busybox", "true")...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("run %v: want %q: %s", tc.args, tc.want, r)
		}
	}
	r := d.docker("network", "connect", "--driver-opt", "com.docker.network.endpoint.sysctls=net.ipv4.ip_forward=1", "n1", "other")
	if r.code == 0 || !strings.Contains(r.stderr, "unrecognised network interface sysctl 'net.ipv4.ip_forward=1'") {
		t.Errorf("bad endpoint sysctl: %s", r)
	}
	must(t, d.docker("rm", "-f", id, "other"))
}

// TestLegacyLinks: --link on the default bridge gives dockerd's
// environment variables and /etc/hosts entry, inspect shows
// "/child:/parent/alias" (renames followed), rm --link removes a link,
// and the errors are dockerd's.
func TestLegacyLinks(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	web := must(t, d.docker("run", "-d", "--name", "web", "--hostname", "webhost", "--expose", "80", "--expose", "81", "--expose", "53/udp",
		"-e", "SECRET=s1", "busybox", "sleep", "1000"))
	ip := must(t, d.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", web))
	must(t, d.docker("run", "--name", "linker", "--link", "web:site", "-e", "SITE_ENV_SECRET=mine", "busybox", "true"))
	must(t, d.docker("rm", "linker"))
	out := must(t, d.docker("run", "--name", "linker", "--link", "web:site", "busybox", "sh", "-c", "env | sort; cat /etc/hosts"))
	for _, want := range []string{
		"SITE_NAME=/linker/site",
		"SITE_PORT=tcp://" + ip + ":80",
		"SITE_PORT_80_TCP=tcp://" + ip + ":80",
		"SITE_PORT_80_TCP_ADDR=" + ip,
		"SITE_PORT_80_TCP_PORT=80",
		"SITE_PORT_80_TCP_PROTO=tcp",
		"SITE_PORT_81_TCP=tcp://" + ip + ":81",
		"SITE_PORT_80_TCP_START=tcp://" + ip + ":80",
		"SITE_PORT_80_TCP_PORT_START=80",
		"SITE_PORT_80_TCP_END=tcp://" + ip + ":81",
		"SITE_PORT_80_TCP_PORT_END=81",
		"SITE_PORT_53_UDP=udp://" + ip + ":53",
		"SITE_PORT_53_UDP_PROTO=udp",
		"SITE_ENV_SECRET=s1",
		ip + "\tsite webhost web\n",
	} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "SITE_ENV_PATH") || strings.Contains(out, "SITE_ENV_HOME") {
		t.Errorf("PATH or HOME of the linked container passed on:\n%s", out)
	}
	links := func(c string) string {
		return must(t, d.docker("inspect", "-f", "{{json .HostConfig.Links}}", c))
	}
	if got := links("linker"); got != `["/web:/linker/site"]` {
		t.Fatalf("HostConfig.Links %s", got)
	}
	must(t, d.docker("rename", "web", "web2"))
	if got := links("linker"); got != `["/web2:/linker/site"]` {
		t.Fatalf("HostConfig.Links after rename %s", got)
	}
	// the container's own variable wins over the link's
	if out := must(t, d.docker("run", "--rm", "--link", "web2:site", "-e", "SITE_NAME=own", "busybox", "sh", "-c", "echo $SITE_NAME")); out != "own" {
		t.Fatalf("own variable: %q", out)
	}
	// a link to a container that does not run stops the start
	must(t, d.docker("create", "--name", "late", "--link", "web2:site", "busybox", "true"))
	must(t, d.docker("stop", "-t", "0", "web2"))
	if r := d.docker("start", "late"); r.code == 0 || !strings.Contains(r.stderr, "Cannot link to a non running container: /web2 AS /late/site") {
		t.Errorf("start with a stopped link: %s", r)
	}
	// rm --link
	must(t, d.docker("rm", "--link", "/linker/site"))
	if got := links("linker"); got != "null" {
		t.Fatalf("HostConfig.Links after rm --link: %s", got)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rm", "--link", "linker/site"}, "No such container: linker/site"},
		{[]string{"rm", "--link", "linker"}, "Conflict, cannot remove the default link name of the container"},
		{[]string{"run", "--rm", "--link", "nope:x", "busybox", "true"}, "could not get container for nope: No such container: nope"},
	} {
		if r := d.docker(tc.args...); r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want %q: %s", tc.args, tc.want, r)
		}
	}
	code, _ := d.api(t, "DELETE", "/containers/linker/site", nil)
	if code != 404 {
		t.Errorf("DELETE /containers/linker/site without link=1: %d", code)
	}
	must(t, d.docker("rm", "-f", "linker", "late", "web2"))
}

// TestUserNetworkLinkAliases: a link given on a user network's endpoint
// makes its alias resolve, for the linking container only, to the linked
// container once it runs (docker-py's create/connect with links).
func TestUserNetworkLinkAliases(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	must(t, d.docker("network", "create", "linknet"))
	linker := must(t, d.docker("run", "-d", "--network", "linknet", "--link", "upstream:bar", "busybox", "sleep", "1000"))
	other := must(t, d.docker("run", "-d", "--network", "linknet", "busybox", "sleep", "1000"))
	up := must(t, d.docker("run", "-d", "--network", "linknet", "--name", "upstream", "busybox", "sleep", "1000"))
	ip := must(t, d.docker("inspect", "-f", "{{(index .NetworkSettings.Networks \"linknet\").IPAddress}}", up))
	if out := must(t, d.docker("exec", linker, "nslookup", "bar")); !strings.Contains(out, ip) {
		t.Fatalf("the link alias does not resolve to %s:\n%s", ip, out)
	}
	if r := d.docker("exec", other, "nslookup", "bar"); r.code == 0 {
		t.Fatalf("another container resolves the alias: %s", r)
	}
}
