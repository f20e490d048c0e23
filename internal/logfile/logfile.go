// Package logfile reads container logs as berth-monitor writes them: the
// json-file format (one JSON object per line) or Docker's local format
// (length-framed logdriver.LogEntry protobufs), rotated into file.1,
// file.2 … (file.N.gz when compressed), and followed while they grow.
package logfile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// Entry is one log record.
type Entry struct {
	Stream string // "stdout" or "stderr"
	Time   time.Time
	// Line is the message as the logs API returns it: with its newline,
	// unless the process wrote a partial line.
	Line []byte
}

// Parser splits buf into complete entries and reports how many bytes
// they used; a trailing incomplete record is left for later.
type Parser func(buf []byte) (entries []Entry, used int, err error)

// ForFormat returns the parser of a log driver's files.
func ForFormat(driver string) (Parser, error) {
	switch driver {
	case "json-file", "":
		return ParseJSON, nil
	case "local":
		return ParseLocal, nil
	}
	return nil, fmt.Errorf("logfile: no reader for log driver %q", driver)
}

type jsonLine struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// ParseJSON parses json-file lines; lines that are not JSON are skipped.
func ParseJSON(buf []byte) ([]Entry, int, error) {
	var out []Entry
	used := 0
	for {
		i := bytes.IndexByte(buf[used:], '\n')
		if i < 0 {
			return out, used, nil
		}
		var l jsonLine
		if json.Unmarshal(buf[used:used+i], &l) == nil {
			out = append(out, Entry{Stream: l.Stream, Time: l.Time, Line: []byte(l.Log)})
		}
		used += i + 1
	}
}

// maxFrame bounds a local-format record, as moby's decoder does (1 MiB).
const maxFrame = 1 << 20

// ParseLocal parses Docker's local format: a big-endian uint32 length, a
// logdriver.LogEntry protobuf, the length again.
func ParseLocal(buf []byte) ([]Entry, int, error) {
	var out []Entry
	used := 0
	for len(buf)-used >= 4 {
		n := int(binary.BigEndian.Uint32(buf[used:]))
		if n > maxFrame {
			return out, used, fmt.Errorf("logfile: record of %d bytes is larger than the %d limit", n, maxFrame)
		}
		if len(buf)-used < 4+n+4 {
			break
		}
		e, err := decodeEntry(buf[used+4 : used+4+n])
		if err != nil {
			return out, used, err
		}
		out = append(out, e)
		used += 4 + n + 4
	}
	return out, used, nil
}

// decodeEntry decodes the LogEntry fields berth writes: source (1),
// time_nano (2), line (3), partial (4); others are skipped.
func decodeEntry(p []byte) (Entry, error) {
	var e Entry
	partial := false
	for len(p) > 0 {
		key, n := binary.Uvarint(p)
		if n <= 0 {
			return e, errors.New("logfile: bad protobuf key")
		}
		p = p[n:]
		field, wire := key>>3, key&7
		switch wire {
		case 0:
			v, n := binary.Uvarint(p)
			if n <= 0 {
				return e, errors.New("logfile: bad protobuf varint")
			}
			p = p[n:]
			switch field {
			case 2:
				e.Time = time.Unix(0, int64(v)).UTC()
			case 4:
				partial = v != 0
			}
		case 2:
			l, n := binary.Uvarint(p)
			if n <= 0 || uint64(len(p)-n) < l {
				return e, errors.New("logfile: bad protobuf length")
			}
			v := p[n : n+int(l)]
			p = p[n+int(l):]
			switch field {
			case 1:
				e.Stream = string(v)
			case 3:
				e.Line = append([]byte{}, v...)
			}
		case 1:
			if len(p) < 8 {
				return e, errors.New("logfile: short fixed64")
			}
			p = p[8:]
		case 5:
			if len(p) < 4 {
				return e, errors.New("logfile: short fixed32")
			}
			p = p[4:]
		default:
			return e, fmt.Errorf("logfile: protobuf wire type %d", wire)
		}
	}
	if !partial {
		e.Line = append(e.Line, '\n')
	}
	return e, nil
}

// Rotated lists the rotated files of path, oldest first: path.N … path.1,
// each as itself or, once compressed, path.i.gz.
func Rotated(path string) []string {
	var out []string
	for i := 1; ; i++ {
		p := fmt.Sprintf("%s.%d", path, i)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
			continue
		}
		if _, err := os.Stat(p + ".gz"); err == nil {
			out = append(out, p+".gz")
			continue
		}
		break
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Reader reads a log's rotated files, then its live file, and follows it
// through rotations and truncations.
type Reader struct {
	path  string
	parse Parser
	f     *os.File
	ino   uint64
	off   int64
	buf   []byte
}

// NewReader reads the log at path in the given format.
func NewReader(path string, parse Parser) *Reader {
	return &Reader{path: path, parse: parse}
}

// Close releases the live file.
func (r *Reader) Close() error {
	if r.f != nil {
		return r.f.Close()
	}
	return nil
}

// ReadAll passes every entry of the rotated files and the live file to fn,
// and keeps the live file open for Poll.
func (r *Reader) ReadAll(fn func(Entry) error) error {
	for _, p := range Rotated(r.path) {
		if err := readFile(p, r.parse, fn); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return r.Poll(fn)
}

func readFile(p string, parse Parser, fn func(Entry) error) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var src io.Reader = f
	if bytes.HasSuffix([]byte(p), []byte(".gz")) {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil // being written by gzip: its source is still there next time
		}
		defer zr.Close()
		src = zr
	}
	b, err := io.ReadAll(src)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	entries, _, err := parse(b)
	for _, e := range entries {
		if ferr := fn(e); ferr != nil {
			return ferr
		}
	}
	return err
}

// Poll passes the entries written since the last call to fn. A rotated
// live file is drained before the new one is opened; a truncated one is
// read again from its start.
func (r *Reader) Poll(fn func(Entry) error) error {
	for {
		if r.f == nil {
			f, err := os.Open(r.path)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil
				}
				return err
			}
			r.f, r.ino, r.off, r.buf = f, inode(f), 0, r.buf[:0]
		}
		if err := r.drain(fn); err != nil {
			return err
		}
		st, err := os.Stat(r.path)
		switch {
		case err == nil && statIno(st) != r.ino:
			// rotated: what we hold is complete; go on with the new file
			if err := r.drain(fn); err != nil {
				return err
			}
			r.f.Close()
			r.f = nil
			continue
		case err == nil && st.Size() < r.off:
			// truncated (max-file 1)
			r.off, r.buf = 0, r.buf[:0]
			if _, err := r.f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			continue
		}
		return nil
	}
}

func (r *Reader) drain(fn func(Entry) error) error {
	chunk := make([]byte, 64*1024)
	for {
		n, err := r.f.Read(chunk)
		if n > 0 {
			r.off += int64(n)
			r.buf = append(r.buf, chunk[:n]...)
			entries, used, perr := r.parse(r.buf)
			r.buf = append(r.buf[:0], r.buf[used:]...)
			for _, e := range entries {
				if ferr := fn(e); ferr != nil {
					return ferr
				}
			}
			if perr != nil {
				return perr
			}
		}
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func inode(f *os.File) uint64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	return statIno(st)
}

func statIno(st os.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Ino
	}
	return 0
}
