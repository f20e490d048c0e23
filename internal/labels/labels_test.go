package labels

import "testing"

func TestMatch(t *testing.T) {
	have := map[string]string{"tier": "web", "x": ""}
	for _, tc := range []struct {
		filters []string
		want    bool
	}{
		{nil, true},
		{[]string{"tier"}, true},
		{[]string{"tier=web"}, true},
		{[]string{"tier=db"}, false},
		{[]string{"tier", "missing"}, false},
		{[]string{"x"}, true},
	} {
		if got := Match(have, Parse(tc.filters)); got != tc.want {
			t.Errorf("Match(%v) = %v", tc.filters, got)
		}
	}
}
