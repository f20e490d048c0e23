package dns

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

func TestAnswers(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("10.1.0.2"), netip.MustParseAddr("fd00:1::2"), netip.MustParseAddr("10.2.0.2")}
	for _, tc := range []struct {
		qtype uint16
		addrs []netip.Addr
		want  []string
	}{
		{dns.TypeA, addrs, []string{"10.1.0.2", "10.2.0.2"}},
		{dns.TypeAAAA, addrs, []string{"fd00:1::2"}},
		{dns.TypeAAAA, addrs[:1], nil}, // IPv4 only: NODATA
		{dns.TypeMX, addrs, nil},
	} {
		q := dns.Question{Name: "db.", Qtype: tc.qtype, Qclass: dns.ClassINET}
		got := answers(q, tc.addrs)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %v, want %v", dns.TypeToString[tc.qtype], got, tc.want)
		}
		for i, rr := range got {
			var ip string
			switch r := rr.(type) {
			case *dns.A:
				ip = r.A.String()
			case *dns.AAAA:
				ip = r.AAAA.String()
			}
			if ip != tc.want[i] || rr.Header().Rrtype != tc.qtype {
				t.Errorf("%s: answer %d is %v, want %s", dns.TypeToString[tc.qtype], i, rr, tc.want[i])
			}
		}
	}
}
