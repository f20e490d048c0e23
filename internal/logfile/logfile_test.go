package logfile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// localRecord encodes an entry the way berth-monitor does.
func localRecord(stream string, t time.Time, line string, partial bool) []byte {
	var pb []byte
	pb = append(pb, 0x0a, byte(len(stream)))
	pb = append(pb, stream...)
	pb = append(pb, 0x10)
	pb = binary.AppendUvarint(pb, uint64(t.UnixNano()))
	pb = append(pb, 0x1a)
	pb = binary.AppendUvarint(pb, uint64(len(line)))
	pb = append(pb, line...)
	if partial {
		pb = append(pb, 0x20, 1)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(len(pb)))
	out = append(out, pb...)
	return binary.BigEndian.AppendUint32(out, uint32(len(pb)))
}

func TestParse(t *testing.T) {
	ts := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	local := append(localRecord("stdout", ts, "hello", false), localRecord("stderr", ts, strings.Repeat("x", 300), true)...)
	json := []byte(`{"log":"hello\n","stream":"stdout","time":"2026-11-23T10:00:00.123456789Z"}` + "\n" +
		`not json` + "\n" + `{"log":"part","stream":"stderr","time":"2026-11-23T10:00:00.123456789Z"}` + "\n")
	for _, tc := range []struct {
		name  string
		parse Parser
		buf   []byte
		want  []Entry
	}{
		{"local", ParseLocal, local, []Entry{{"stdout", ts, []byte("hello\n")}, {"stderr", ts, []byte(strings.Repeat("x", 300))}}},
		{"json", ParseJSON, json, []Entry{{"stdout", ts, []byte("hello\n")}, {"stderr", ts, []byte("part")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// every cut of the buffer parses its complete records and
			// leaves the rest
			for cut := 0; cut <= len(tc.buf); cut++ {
				got, used, err := tc.parse(tc.buf[:cut])
				if err != nil {
					t.Fatalf("cut %d: %v", cut, err)
				}
				rest, _, err := tc.parse(tc.buf[used:])
				if err != nil {
					t.Fatal(err)
				}
				all := append(got, rest...)
				if len(all) != len(tc.want) {
					t.Fatalf("cut %d: %d entries, want %d", cut, len(all), len(tc.want))
				}
				for i, e := range all {
					w := tc.want[i]
					if e.Stream != w.Stream || !e.Time.Equal(w.Time) || !bytes.Equal(e.Line, w.Line) {
						t.Fatalf("cut %d entry %d: %+v, want %+v", cut, i, e, w)
					}
				}
			}
		})
	}
	if _, _, err := ParseLocal([]byte{0xff, 0xff, 0xff, 0xff}); err == nil {
		t.Fatal("a 4 GiB frame length must be refused")
	}
}

func jline(s string) string {
	return `{"log":"` + s + `\n","stream":"stdout","time":"2026-11-23T10:00:00Z"}` + "\n"
}

func collect(t *testing.T, fn func(func(Entry) error) error) string {
	t.Helper()
	var b strings.Builder
	if err := fn(func(e Entry) error { b.Write(e.Line); return nil }); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReaderRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c-json.log")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(jline("one")))
	zw.Close()
	write(path+".3.gz", gz.String())
	write(path+".2", jline("two"))
	write(path+".1", jline("three"))
	write(path+".1.gz", "partial gzip being written") // .1 wins while it exists
	write(path, jline("four")+`{"log":"fi`)
	r := NewReader(path, ParseJSON)
	defer r.Close()
	if got := collect(t, r.ReadAll); got != "one\ntwo\nthree\nfour\n" {
		t.Fatalf("ReadAll: %q", got)
	}
	// the partial record completes
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`ve\n","stream":"stdout","time":"2026-11-23T10:00:00Z"}` + "\n" + jline("six"))
	f.Close()
	if got := collect(t, r.Poll); got != "five\nsix\n" {
		t.Fatalf("Poll after append: %q", got)
	}
	// rotation: the live file moves to .1 with a last line, a new one starts
	f, _ = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(jline("seven"))
	f.Close()
	os.Rename(path, path+".1")
	write(path, jline("eight"))
	if got := collect(t, r.Poll); got != "seven\neight\n" {
		t.Fatalf("Poll across rotation: %q", got)
	}
	// truncation (max-file 1)
	write(path, jline("9"))
	if got := collect(t, r.Poll); got != "9\n" {
		t.Fatalf("Poll after truncation: %q", got)
	}
	if got := collect(t, r.Poll); got != "" {
		t.Fatalf("Poll with nothing new: %q", got)
	}
}
