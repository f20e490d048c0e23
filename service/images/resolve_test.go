package images

import "testing"

func TestDisplayRef(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":          "busybox:latest",
		"busybox:1":        "busybox:1",
		"localhost:5000/x": "localhost:5000/x:latest",
		"Bad Ref":          "Bad Ref",
	} {
		if got := displayRef(in); got != want {
			t.Errorf("displayRef(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                          "docker.io/library/busybox:latest",
		"busybox:latest":                   "docker.io/library/busybox:latest",
		"docker.io/library/busybox:latest": "docker.io/library/busybox:latest",
		"me/app:1":                         "docker.io/me/app:1",
	} {
		n, err := Normalize(in)
		if err != nil || n.String() != want {
			t.Errorf("Normalize(%q) = %v, %v; want %s", in, n, err, want)
		}
	}
	if _, err := Normalize("UPPER"); err == nil {
		t.Error("Normalize accepted an upper-case name")
	}
}
