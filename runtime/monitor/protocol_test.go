package monitor

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	for _, tc := range []struct {
		typ     byte
		payload string
	}{{Stdout, "hello\n"}, {Stderr, ""}, {Resize, `{"h":24,"w":80}`}} {
		if err := WriteFrame(&buf, tc.typ, []byte(tc.payload)); err != nil {
			t.Fatal(err)
		}
		typ, p, err := ReadFrame(&buf)
		if err != nil || typ != tc.typ || string(p) != tc.payload {
			t.Fatalf("got %d %q %v", typ, p, err)
		}
	}
	if err := WriteFrame(&buf, Stdout, make([]byte, MaxFrame+1)); err == nil {
		t.Fatal("oversized frame accepted")
	}
}

func TestExitFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "exit.json")
	want := Exit{Pid: 7, ExitCode: 137, OOMKilled: true, FinishedAt: time.Unix(5, 0).UTC()}
	if err := WriteExitFile(p, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadExitFile(p)
	if err != nil || got.ExitCode != 137 || !got.OOMKilled || !got.FinishedAt.Equal(want.FinishedAt) {
		t.Fatalf("got %+v, %v", got, err)
	}
}
