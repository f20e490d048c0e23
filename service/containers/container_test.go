package containers

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/berth-project/berth/service/networks"
	"github.com/berth-project/berth/service/networks/sandbox"
)

// The networks and ports stay top-level keys of a record (records from
// before networking.Attachments load and save the same).
func TestRecordJSON(t *testing.T) {
	in := []byte(`{"id":"abc","name":"/web","networks":{"bridge":{"networkID":"n1","ip":"172.17.0.9"}},"ports":[{"proto":"tcp","hostPort":8080,"ctrPort":80}]}`)
	var r Record
	if err := json.Unmarshal(in, &r); err != nil {
		t.Fatal(err)
	}
	if m := r.Networks["bridge"]; m == nil || m.NetworkID != "n1" || m.IP != netip.MustParseAddr("172.17.0.9") || len(r.Ports) != 1 || r.Ports[0].HostPort != 8080 {
		t.Fatalf("record = %+v", r)
	}
	r = Record{ID: "abc"}
	r.Networks = map[string]*sandbox.Membership{"bridge": {NetworkID: "n1"}}
	r.Ports = []networks.Port{{}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"networks", "ports", "id", "state"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("no %q key in %s", k, b)
		}
	}
	if _, ok := keys["Attachments"]; ok {
		t.Errorf("the attachments are nested: %s", b)
	}
}
