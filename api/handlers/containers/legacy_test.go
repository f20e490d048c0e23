package containers

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func TestDecodeCreateMacAddress(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		endpoint   string // network whose endpoint gets the address
		mac        string
		warned     bool
		err        error
	}{
		{"none given", `{"Image":"busybox"}`, "", "", false, nil},
		{"default network", `{"Image":"busybox","MacAddress":"92:d0:c6:0a:29:33"}`, "bridge", "92:d0:c6:0a:29:33", true, nil},
		{"user network", `{"Image":"busybox","MacAddress":"92:d0:c6:0a:29:33","HostConfig":{"NetworkMode":"n1"}}`, "n1", "92:d0:c6:0a:29:33", true, nil},
		{"matching endpoint", `{"MacAddress":"92:d0:c6:0a:29:33","NetworkingConfig":{"EndpointsConfig":{"bridge":{"MacAddress":"92:d0:c6:0a:29:33"}}}}`, "bridge", "92:d0:c6:0a:29:33", true, nil},
		{"other endpoint", `{"MacAddress":"92:d0:c6:0a:29:33","NetworkingConfig":{"EndpointsConfig":{"bridge":{"MacAddress":"92:d0:c6:0a:29:34"}}}}`, "", "", false, errdefs.ErrInvalidArgument},
		{"host network", `{"MacAddress":"92:d0:c6:0a:29:33","HostConfig":{"NetworkMode":"host"}}`, "", "", true, nil},
		{"bad address", `{"MacAddress":"nope"}`, "", "", false, errdefs.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, warnings, err := decodeCreate(httptest.NewRequest("POST", "/containers/create", strings.NewReader(tc.body)))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (len(warnings) > 0) != tc.warned {
				t.Fatalf("warnings %q", warnings)
			}
			if tc.endpoint != "" {
				ep := req.NetworkingConfig.EndpointsConfig[tc.endpoint]
				if ep == nil || ep.MacAddress.String() != tc.mac {
					t.Fatalf("endpoint %s: %+v", tc.endpoint, ep)
				}
			}
		})
	}
}

func TestDecodeCreateRuntime(t *testing.T) {
	for body, want := range map[string]string{
		`{"Image":"busybox","Runtime":"runc"}`:                                   "runc",
		`{"Image":"busybox","Runtime":"runc","HostConfig":{"Runtime":"native"}}`: "native",
		`{"Image":"busybox"}`:                                                    "",
	} {
		req, _, err := decodeCreate(httptest.NewRequest("POST", "/containers/create", strings.NewReader(body)))
		got := ""
		if req.HostConfig != nil {
			got = req.HostConfig.Runtime
		}
		if err != nil || got != want {
			t.Errorf("%s: runtime %q, %v; want %q", body, got, err, want)
		}
	}
}

func TestLegacyInspectNetworkSettings(t *testing.T) {
	mac := network.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0, 2}
	resp := &container.InspectResponse{ID: "abc", NetworkSettings: &container.NetworkSettings{SandboxID: "sb",
		Networks: map[string]*network.EndpointSettings{
			"bridge": {EndpointID: "ep", Gateway: netip.MustParseAddr("172.17.0.1"), IPAddress: netip.MustParseAddr("172.17.0.2"), IPPrefixLen: 16, MacAddress: mac},
			"n1":     {EndpointID: "ep1", IPAddress: netip.MustParseAddr("10.0.0.2")},
		}}}
	b, err := json.Marshal(legacyInspect(resp))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID              string
		NetworkSettings map[string]any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	ns := got.NetworkSettings
	for k, want := range map[string]any{"IPAddress": "172.17.0.2", "Gateway": "172.17.0.1", "IPPrefixLen": 16.0, "MacAddress": "02:42:ac:11:00:02",
		"EndpointID": "ep", "Bridge": "", "IPv6Gateway": "", "GlobalIPv6Address": "", "SecondaryIPAddresses": nil, "SandboxID": "sb"} {
		if v, ok := ns[k]; !ok || v != want {
			t.Errorf("NetworkSettings.%s = %#v, want %#v", k, v, want)
		}
	}
	if got.ID != "abc" || len(ns["Networks"].(map[string]any)) != 2 {
		t.Errorf("the rest of the answer: %s", b)
	}
	// no bridge endpoint: the legacy fields are empty
	resp.NetworkSettings.Networks = map[string]*network.EndpointSettings{"n1": {IPAddress: netip.MustParseAddr("10.0.0.2")}}
	if l := legacyInspect(resp); l.NetworkSettings.IPAddress != "" || l.NetworkSettings.MacAddress != "" {
		t.Errorf("legacy fields from a user network: %+v", l.NetworkSettings)
	}
}
