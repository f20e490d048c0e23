package sandbox

import (
	"strings"
	"testing"

	"github.com/moby/moby/api/types/network"
)

func TestParseLink(t *testing.T) {
	for _, tc := range []struct {
		in, name, alias string
		bad             bool
	}{
		{in: "web", name: "web", alias: "web"},
		{in: "web:site", name: "web", alias: "site"},
		{in: "/web:/linker/site", name: "web", alias: "site"},
		{in: "", bad: true},
		{in: "a:b:c", bad: true},
	} {
		name, alias, err := ParseLink(tc.in)
		if (err != nil) != tc.bad || name != tc.name || alias != tc.alias {
			t.Errorf("ParseLink(%q) = %q, %q, %v", tc.in, name, alias, err)
		}
	}
}

func TestLinkEnvVars(t *testing.T) {
	port := func(s string) network.Port { p, _ := network.ParsePort(s); return p }
	for _, tc := range []struct {
		name  string
		full  string
		env   []string
		ports []network.Port
		want  []string
	}{
		{"no ports", "/app/my-db", []string{"PATH=/bin", "HOME=/root", "PW=x=y"}, nil,
			[]string{"MY_DB_NAME=/app/my-db", "MY_DB_ENV_PW=x=y"}},
		{"tcp first, a range", "/app/db", nil, []network.Port{port("53/udp"), port("81/tcp"), port("80/tcp")}, []string{
			"DB_PORT=tcp://10.0.0.2:80",
			"DB_PORT_80_TCP=tcp://10.0.0.2:80", "DB_PORT_80_TCP_ADDR=10.0.0.2", "DB_PORT_80_TCP_PORT=80", "DB_PORT_80_TCP_PROTO=tcp",
			"DB_PORT_81_TCP=tcp://10.0.0.2:81", "DB_PORT_81_TCP_ADDR=10.0.0.2", "DB_PORT_81_TCP_PORT=81", "DB_PORT_81_TCP_PROTO=tcp",
			// the range is told when it ends, after the next port's variables (dockerd's order)
			"DB_PORT_53_UDP=udp://10.0.0.2:53", "DB_PORT_53_UDP_ADDR=10.0.0.2", "DB_PORT_53_UDP_PORT=53", "DB_PORT_53_UDP_PROTO=udp",
			"DB_PORT_80_TCP_START=tcp://10.0.0.2:80", "DB_PORT_80_TCP_PORT_START=80", "DB_PORT_80_TCP_END=tcp://10.0.0.2:81", "DB_PORT_80_TCP_PORT_END=81",
			"DB_NAME=/app/db",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := LinkEnv(tc.full, "10.0.0.2", tc.env, tc.ports)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
