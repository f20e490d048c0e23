package container

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func frame(stream byte, payload string) []byte {
	h := make([]byte, 8)
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(payload)))
	return append(h, payload...)
}

func TestDemux(t *testing.T) {
	tests := []struct {
		name           string
		input          []byte
		stdout, stderr string
		errContains    string
	}{
		{"empty", nil, "", "", ""},
		{"interleaved", bytes.Join([][]byte{frame(1, "out1\n"), frame(2, "err\n"), frame(1, "out2\n")}, nil), "out1\nout2\n", "err\n", ""},
		{"zero length", frame(1, ""), "", "", ""},
		{"system error", append(frame(1, "a"), frame(3, "boom")...), "a", "", "boom"},
		{"truncated header", []byte{1, 0, 0}, "", "", "unexpected EOF"},
		{"truncated payload", frame(1, "hello")[:10], "he", "", "unexpected EOF"},
		{"bad stream", frame(7, "x"), "", "", "unrecognized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			_, err := demux(&out, &errb, bytes.NewReader(tt.input))
			if tt.errContains == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.errContains != "" && (err == nil || !strings.Contains(err.Error(), tt.errContains)) {
				t.Fatalf("error %v, want %q", err, tt.errContains)
			}
			if out.String() != tt.stdout || errb.String() != tt.stderr {
				t.Errorf("stdout %q stderr %q", out.String(), errb.String())
			}
		})
	}
}
