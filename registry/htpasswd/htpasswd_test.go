package htpasswd

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestParse(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users, err := Parse(strings.NewReader("# accounts\n\nalice:" + string(h) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, password string
		ok             bool
	}{
		{"alice", "s3cret", true},
		{"alice", "wrong", false},
	} {
		check, known := users[tc.user]
		if !known || check(tc.password) != tc.ok {
			t.Errorf("%s/%s: known %v, want ok %v", tc.user, tc.password, known, tc.ok)
		}
	}
	for _, bad := range []string{"nocolon\n", "bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", ":" + string(h) + "\n"} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
