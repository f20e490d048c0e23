package integration

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestMacvlanNetwork: a macvlan network on a host interface (one end of a
// veth pair: this kernel may have no dummy links) made and driven with
// the docker CLI: containers get their own links on it, reach each other
// by name, have the network's gateway as their default route, survive a
// kill -9 of the daemon, and leave no link behind. One without a parent
// gets a parent of its own, isolated, removed with it. Bad options and a
// second network on the same parent are refused in Docker's words.
func TestMacvlanNetwork(t *testing.T) {
	d := startDaemon(t)
	d.loadBusybox()
	if out, err := exec.Command("ip", "link", "add", "bmvp0", "type", "veth", "peer", "name", "bmvp1").CombinedOutput(); err != nil {
		t.Fatalf("veth parent: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", "bmvp0").Run() })
	if out, err := exec.Command("ip", "link", "set", "bmvp1", "up").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	mvnet := must(t, d.docker("network", "create", "-d", "macvlan", "--subnet", "10.236.0.0/24", "--gateway", "10.236.0.1", "-o", "parent=bmvp0", "mvnet"))
	if got := must(t, d.docker("network", "inspect", "-f", "{{.Driver}} {{.Options.parent}} {{(index .IPAM.Config 0).Subnet}}", "mvnet")); got != "macvlan bmvp0 10.236.0.0/24" {
		t.Fatalf("inspect: %q", got)
	}
	if r := d.docker("network", "create", "-d", "macvlan", "--subnet", "10.237.0.0/24", "-o", "parent=bmvp0", "again"); r.code == 0 || !strings.Contains(r.stderr, "network dm-"+mvnet[:12]+" is already using parent interface bmvp0") {
		t.Fatalf("a second network on the parent: %s", r)
	}
	if r := d.docker("network", "create", "-d", "macvlan", "-o", "macvlan_mode=l9", "badmode"); r.code == 0 || !strings.Contains(r.stderr, "requested macvlan mode 'l9' is not valid") {
		t.Fatalf("a bad mode: %s", r)
	}
	for parent, want := range map[string]string{
		"nosuchif9":    "invalid subinterface vlan name nosuchif9, example formatting is eth0.10",
		"nosuchif9.10": "-o parent interface does was not found on the host: nosuchif9",
		"lo":           "loopback interface is not a valid macvlan parent link",
	} {
		if r := d.docker("network", "create", "-d", "macvlan", "-o", "parent="+parent, "badparent"); r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Fatalf("parent %s: %s", parent, r)
		}
	}
	web := d.versioned(t, "run", "mvweb", "mvnet", "mv1")
	client := must(t, d.docker("run", "-d", "--name", "mvclient", "--network", "mvnet", "busybox", "sleep", "1000"))
	pid := must(t, d.docker("inspect", "-f", "{{.State.Pid}}", client))
	if out, err := exec.Command("nsenter", "--net=/proc/"+pid+"/ns/net", "ip", "-d", "link", "show", "eth0").CombinedOutput(); err != nil || !strings.Contains(string(out), "macvlan mode bridge") {
		t.Fatalf("the client's eth0: %v %s", err, out)
	}
	if got := must(t, d.docker("exec", client, "ip", "route")); !strings.Contains(got, "default via 10.236.0.1 dev eth0") {
		t.Fatalf("the client's routes: %q", got)
	}
	ip := must(t, d.docker("inspect", "-f", "{{.NetworkSettings.Networks.mvnet.IPAddress}}", web))
	if !strings.HasPrefix(ip, "10.236.0.") {
		t.Fatalf("web's address: %q", ip)
	}
	get := func() string {
		r := d.docker("exec", client, "timeout", "5", "wget", "-qO-", "http://mvweb/")
		return strings.TrimSpace(r.stdout)
	}
	waitFor(t, func() bool { return get() == "mv1" })
	// a kill -9: the links stay with their containers, the network serves on
	d.stop(syscall.SIGKILL)
	d.start()
	if got := get(); got != "mv1" {
		t.Fatalf("after a kill -9: %q", got)
	}
	// disconnected while running: its link goes
	must(t, d.docker("network", "disconnect", "mvnet", client))
	waitFor(t, func() bool { return !strings.Contains(must(t, d.docker("exec", client, "ip", "-o", "link")), "eth0") })

	// no parent: one is made for the network (isolated: no default route)
	id := must(t, d.docker("network", "create", "-d", "macvlan", "--subnet", "10.238.0.0/24", "mvint"))
	dm := "dm-" + id[:12]
	if out, err := exec.Command("ip", "link", "show", dm).CombinedOutput(); err != nil {
		t.Fatalf("the parent made for mvint: %v %s", err, out)
	}
	// gone while the daemon is down (a reboot): made again at its start
	d.stop(syscall.SIGTERM)
	if out, err := exec.Command("ip", "link", "del", dm).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	d.start()
	if out, err := exec.Command("ip", "link", "show", dm).CombinedOutput(); err != nil {
		t.Fatalf("the parent made for mvint after a restart: %v %s", err, out)
	}
	iso := must(t, d.docker("run", "-d", "--network", "mvint", "busybox", "sleep", "1000"))
	if got := must(t, d.docker("exec", iso, "ip", "route")); strings.Contains(got, "default") {
		t.Fatalf("a default route on an isolated macvlan network: %q", got)
	}
	must(t, d.docker("network", "connect", "mvint", web))
	if got := strings.TrimSpace(d.docker("exec", iso, "timeout", "5", "wget", "-qO-", "http://mvweb/").stdout); got != "mv1" {
		t.Fatalf("over the made parent: %q", got)
	}

	// ipvlan: this kernel may not have it
	if r := d.docker("network", "create", "-d", "ipvlan", "-o", "parent=bmvp0", "ipv"); r.code == 0 || (!strings.Contains(r.stderr, "CONFIG_IPVLAN") && !strings.Contains(r.stderr, "not implemented")) {
		t.Fatalf("ipvlan: %s", r)
	}

	must(t, d.docker("rm", "-f", web, client, iso))
	must(t, d.docker("network", "rm", "mvnet", "mvint"))
	if out, err := exec.Command("ip", "-o", "link").CombinedOutput(); err != nil || strings.Contains(string(out), dm) {
		t.Fatalf("the parent made for mvint is left: %v\n%s", err, out)
	}
}
