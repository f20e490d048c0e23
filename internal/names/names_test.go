package names

import (
	"regexp"
	"testing"
)

var nameRE = regexp.MustCompile(`^[a-z]+_[a-z]+[0-9]?$`)

func TestGenerateFormat(t *testing.T) {
	for _, retry := range []int{0, 1, 5} {
		for range 2000 {
			name := Generate(retry)
			if !nameRE.MatchString(name) {
				t.Fatalf("Generate(%d) = %q, does not match %s", retry, name, nameRE)
			}
			last := name[len(name)-1]
			if hasDigit := last >= '0' && last <= '9'; hasDigit != (retry > 0) {
				t.Fatalf("Generate(%d) = %q: digit suffix %v, want %v", retry, name, hasDigit, retry > 0)
			}
			if name == "boring_wozniak" {
				t.Fatal("Generate returned boring_wozniak: Steve Wozniak is not boring")
			}
		}
	}
}

func TestWordLists(t *testing.T) {
	word := regexp.MustCompile(`^[a-z]+$`)
	for list, words := range map[string][]string{"adjectives": adjectives, "surnames": surnames} {
		seen := map[string]bool{}
		for _, w := range words {
			if !word.MatchString(w) {
				t.Errorf("%s: %q is not lowercase a-z", list, w)
			}
			if seen[w] {
				t.Errorf("%s: %q appears twice", list, w)
			}
			seen[w] = true
		}
	}
	if len(adjectives) < 100 || len(surnames) < 200 {
		t.Errorf("have %d adjectives and %d surnames, want at least 100 and 200", len(adjectives), len(surnames))
	}
}
