package httputil

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

type versionKey struct{}

// WithVersion records the API version a request asked for.
func WithVersion(ctx context.Context, v string) context.Context {
	return context.WithValue(ctx, versionKey{}, v)
}

// Version returns the request's API version.
func Version(ctx context.Context) string {
	v, _ := ctx.Value(versionKey{}).(string)
	return v
}

// WriteJSON writes v with a status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// DecodeJSON reads a JSON body; an empty body leaves v untouched.
func DecodeJSON(r *http.Request, v any) error {
	if r.Body == nil {
		return nil
	}
	err := json.NewDecoder(r.Body).Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	return fmt.Errorf("invalid JSON: %s: %w", err, errdefs.ErrInvalidArgument)
}

// Bool reads a boolean query parameter as Docker does: "", "0", "no",
// "false", "none" are false; anything else present is true.
func Bool(r *http.Request, key string) bool {
	v := strings.ToLower(strings.TrimSpace(r.URL.Query().Get(key)))
	return !(v == "" || v == "0" || v == "no" || v == "false" || v == "none")
}

// Int reads an integer query parameter, def if absent.
func Int(r *http.Request, key string, def int) (int, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("invalid value for %s: %q: %w", key, v, errdefs.ErrInvalidArgument)
	}
	return n, nil
}

// Filters decodes the `filters` query parameter (JSON map of key → list or
// key → {value: true}) into key → values.
func Filters(r *http.Request) (map[string][]string, error) {
	raw := r.URL.Query().Get("filters")
	out := map[string][]string{}
	if raw == "" {
		return out, nil
	}
	var asMap map[string]map[string]bool
	if err := json.Unmarshal([]byte(raw), &asMap); err == nil {
		for k, vs := range asMap {
			for v, ok := range vs {
				if ok {
					out[k] = append(out[k], v)
				}
			}
		}
		return out, nil
	}
	var asList map[string][]string
	if err := json.Unmarshal([]byte(raw), &asList); err != nil {
		return nil, fmt.Errorf("invalid filter: %s: %w", raw, errdefs.ErrInvalidArgument)
	}
	return asList, nil
}

// Hijack takes over the connection for a raw stream. Call the returned
// function to send the response head: 101 when the client asked to
// upgrade, 200 otherwise, as dockerd does.
func Hijack(w http.ResponseWriter, r *http.Request, contentType string) (net.Conn, *bufio.ReadWriter, func() error, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, nil, errors.New("connection cannot be hijacked")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, nil, err
	}
	upgrade := r.Header.Get("Upgrade") != ""
	head := func() error {
		if upgrade {
			fmt.Fprintf(rw, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", contentType)
		} else {
			fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", contentType)
		}
		if err := rw.Flush(); err != nil {
			return err
		}
		awaitRead(conn)
		return nil
	}
	return conn, rw, head, nil
}

// awaitRead waits (a little) until the peer has read what was sent on a
// unix socket. Clients read the response head through a buffered reader
// and then take the raw socket for the stream (docker-py does), so
// stream bytes that arrive with the head are lost to them: dockerd gets
// away with it by being slow, berth by letting the head arrive alone.
func awaitRead(conn net.Conn) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	for deadline := time.Now().Add(200 * time.Millisecond); time.Now().Before(deadline); time.Sleep(50 * time.Microsecond) {
		var queued int
		_ = raw.Control(func(fd uintptr) { queued, err = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) })
		if err != nil || queued == 0 {
			return
		}
	}
}

// FlushWriter flushes after every write, for streamed responses.
type FlushWriter struct {
	W io.Writer
	F http.Flusher
}

func (f FlushWriter) Write(p []byte) (int, error) {
	n, err := f.W.Write(p)
	if f.F != nil {
		f.F.Flush()
	}
	return n, err
}

// NewFlushWriter wraps w.
func NewFlushWriter(w http.ResponseWriter) FlushWriter {
	fl, _ := w.(http.Flusher)
	return FlushWriter{W: w, F: fl}
}

// JSONStream writes one JSON message per chunk (progress streams).
type JSONStream struct {
	enc *json.Encoder
}

// NewJSONStream starts a 200 application/json stream.
func NewJSONStream(w http.ResponseWriter) *JSONStream {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	// send the headers now: clients (the docker CLI's stats) wait for them
	// before going on, and a stream may stay quiet for a long time
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return &JSONStream{enc: json.NewEncoder(NewFlushWriter(w))}
}

// Send writes one message.
func (s *JSONStream) Send(v any) error { return s.enc.Encode(v) }

// WriteJSONBody writes v after the headers were already sent.
func WriteJSONBody(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// ParseTime reads Docker's since/until values: Unix seconds with an
// optional fraction, or RFC 3339.
func ParseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	sec, frac, _ := strings.Cut(v, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, nil
		}
		return time.Time{}, errdefs.ErrInvalidArgument.WithMessage("invalid time value: " + v)
	}
	var ns int64
	if frac != "" {
		ns, _ = strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	}
	return time.Unix(s, ns), nil
}

// TerminalSize reads the h and w of a resize request as dockerd does: both
// must be unsigned decimal numbers ("invalid resize height \"x\": invalid
// syntax", 400 otherwise).
func TerminalSize(r *http.Request) (height, width uint16, err error) {
	var size [2]uint16
	for i, f := range [...]struct{ key, name string }{{"h", "height"}, {"w", "width"}} {
		v := r.URL.Query().Get(f.key)
		digits, negative := strings.CutPrefix(v, "-")
		n, perr := uint64(0), error(strconv.ErrSyntax)
		if digits != "" && digits[0] != '+' {
			if n, perr = strconv.ParseUint(digits, 10, 32); perr != nil {
				perr = errors.Unwrap(perr)
			} else if negative {
				perr = strconv.ErrRange
			}
		}
		if perr != nil {
			return 0, 0, fmt.Errorf("invalid resize %s %q: %v: %w", f.name, v, perr, errdefs.ErrInvalidArgument)
		}
		size[i] = uint16(min(n, 65535))
	}
	return size[0], size[1], nil
}
