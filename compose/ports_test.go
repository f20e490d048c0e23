package compose

import "testing"

func TestPublishedRange(t *testing.T) {
	for _, tc := range []struct {
		in          string
		first, last int
		bad         bool
	}{
		{"", 0, 0, false},
		{"0", 0, 0, false},
		{"8080", 8080, 8080, false},
		{"8000-8010", 8000, 8010, false},
		{"8010-8000", 0, 0, true},
		{"70000", 0, 0, true},
		{"http", 0, 0, true},
	} {
		first, last, err := publishedRange(tc.in)
		if (err != nil) != tc.bad || first != tc.first || last != tc.last {
			t.Errorf("%q: %d-%d %v, want %d-%d bad=%v", tc.in, first, last, err, tc.first, tc.last, tc.bad)
		}
	}
}
