package httputil

import (
	"bytes"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
)

func TestStdWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	NewStdWriter(&buf, Stdout).Write([]byte("out\n"))
	NewStdWriter(&buf, Stderr).Write([]byte("err\n"))
	NewStdWriter(&buf, Stdout).Write(nil)
	var out, errb bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errb, &buf); err != nil {
		t.Fatal(err)
	}
	if out.String() != "out\n" || errb.String() != "err\n" {
		t.Fatalf("out=%q err=%q", out.String(), errb.String())
	}
}
