package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
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
