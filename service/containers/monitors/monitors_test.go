package monitors

import (
	"bytes"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/runtime/monitor"
	"github.com/moby/term"
)

// monitorSide is a connection whose far end plays the monitor's part of
// the protocol: it writes the given frames, then closes.
func monitorSide(t *testing.T, frames func(w io.Writer)) net.Conn {
	t.Helper()
	ours, theirs := net.Pipe()
	go func() {
		frames(theirs)
		theirs.Close()
	}()
	return ours
}

type frame struct {
	typ byte
	p   string
}

func TestAwaitStart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		frames  func(w io.Writer)
		pid     int    // of the StartInfo, 0: none
		failure string // the Failure's message
		err     string // part of the error
		out     []frame
	}{
		{"started", func(w io.Writer) {
			_ = monitor.WriteFrame(w, monitor.Stdout, []byte("early"))
			_ = monitor.WriteFrame(w, monitor.Stderr, []byte("warn"))
			_ = monitor.WriteJSON(w, monitor.Started, monitor.StartInfo{Pid: 42})
		}, 42, "", "", []frame{{monitor.Stdout, "early"}, {monitor.Stderr, "warn"}}},
		{"failed", func(w io.Writer) {
			_ = monitor.WriteJSON(w, monitor.Failed, monitor.Failure{Message: "exec: \"nope\": executable file not found in $PATH"})
		}, 0, "exec: \"nope\": executable file not found in $PATH", "", nil},
		{"gone", func(w io.Writer) {}, 0, "", "monitor ended before the container started", nil},
		{"unexpected", func(w io.Writer) { _ = monitor.WriteFrame(w, monitor.Resize, nil) }, 0, "", "unexpected monitor frame 4", nil},
		{"bad started", func(w io.Writer) { _ = monitor.WriteFrame(w, monitor.Started, []byte("{")) }, 0, "", "bad Started frame", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out []frame
			info, failure, err := AwaitStart(monitorSide(t, tc.frames), "c1", func(typ byte, p []byte) { out = append(out, frame{typ, string(p)}) })
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "container c1") {
					t.Errorf("err = %v, want one with %q", err, tc.err)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			case tc.pid != 0 && (info == nil || info.Pid != tc.pid || failure != nil):
				t.Errorf("info, failure = %+v, %+v, want pid %d", info, failure, tc.pid)
			case tc.failure != "" && (failure == nil || failure.Message != tc.failure || info != nil):
				t.Errorf("info, failure = %+v, %+v, want failure %q", info, failure, tc.failure)
			}
			if len(out) != len(tc.out) {
				t.Fatalf("output %v, want %v", out, tc.out)
			}
			for i := range out {
				if out[i] != tc.out[i] {
					t.Errorf("output %d = %v, want %v", i, out[i], tc.out[i])
				}
			}
		})
	}
}

func TestPump(t *testing.T) {
	finished := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	exitFile := filepath.Join(t.TempDir(), "exit.json")
	for _, tc := range []struct {
		name     string
		frames   func(w io.Writer)
		exitFile func()
		want     monitor.Exit
		out      string
	}{
		{"exited", func(w io.Writer) {
			_ = monitor.WriteFrame(w, monitor.Stdout, []byte("hi\n"))
			_ = monitor.WriteJSON(w, monitor.Exited, monitor.Exit{ExitCode: 3, FinishedAt: finished})
		}, nil, monitor.Exit{ExitCode: 3, FinishedAt: finished}, "hi\n"},
		{"lost, exit file", func(w io.Writer) {}, func() {
			if err := monitor.WriteExitFile(exitFile, monitor.Exit{ExitCode: 137, OOMKilled: true, FinishedAt: finished}); err != nil {
				t.Fatal(err)
			}
		}, monitor.Exit{ExitCode: 137, OOMKilled: true, FinishedAt: finished}, ""},
		{"lost, no exit file", func(w io.Writer) {}, nil, monitor.Exit{ExitCode: 255, Error: "container monitor exited unexpectedly"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "exit.json")
			if tc.exitFile != nil {
				path = exitFile
				tc.exitFile()
			}
			var out bytes.Buffer
			var got monitor.Exit
			Pump(monitorSide(t, tc.frames), path, func(_ byte, p []byte) { out.Write(p) }, func(e monitor.Exit) { got = e })
			if tc.want.FinishedAt.IsZero() {
				if got.FinishedAt.IsZero() {
					t.Error("a lost exit has no FinishedAt")
				}
				got.FinishedAt = time.Time{}
			}
			if got != tc.want || out.String() != tc.out {
				t.Errorf("exit %+v, output %q; want %+v, %q", got, out.String(), tc.want, tc.out)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for the client's writer and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestClients(t *testing.T) {
	var out, errOut lockedBuffer
	both := NewClient(&out, &errOut)
	onlyErr := NewClient(nil, &errOut)
	broken := NewClient(failingWriter{}, &errOut)
	cs := Clients{both: {}, onlyErr: {}, broken: {}}
	held := make(chan struct{})
	go func() { cs.Write(monitor.Stdout, []byte("o")); close(held) }()
	select {
	case <-held:
		t.Fatal("output reached a held client")
	case <-time.After(20 * time.Millisecond):
	}
	for a := range cs {
		a.Release()
	}
	<-held
	cs.Write(monitor.Stderr, []byte("e"))
	if out.String() != "o" || errOut.String() != "ee" { // broken lost both streams at its first failed write
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	cs.Finish()
	cs.Finish()
	for a := range cs {
		select {
		case <-a.Done():
		default:
			t.Error("a client's attach did not end")
		}
	}
}

func TestForwardStdin(t *testing.T) {
	type sent struct {
		typ byte
		p   string
	}
	for _, tc := range []struct {
		name       string
		in         io.Reader
		closeAtEOF bool
		want       []sent
		detached   bool
	}{
		{"eof", strings.NewReader("abc"), false, []sent{{monitor.Stdin, "abc"}}, false},
		{"eof closes", strings.NewReader("abc"), true, []sent{{monitor.Stdin, "abc"}, {monitor.CloseStdin, ""}}, false},
		{"detach keys", term.NewEscapeProxy(strings.NewReader("ab\x10\x11cd"), []byte{16, 17}), true, []sent{{monitor.Stdin, "ab"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan struct{})
			close(started)
			a := NewClient(nil, nil)
			a.Release()
			var got []sent
			detached := false
			ForwardStdin(started, a, tc.in, tc.closeAtEOF, func(typ byte, p []byte) bool {
				got = append(got, sent{typ, string(p)})
				return true
			}, func() { detached = true })
			if len(got) != len(tc.want) {
				t.Fatalf("sent %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("frame %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
			if detached != tc.detached {
				t.Errorf("detached = %v, want %v", detached, tc.detached)
			}
			select {
			case <-a.Done():
				if !tc.detached {
					t.Error("the attach ended without the detach keys")
				}
			default:
				if tc.detached {
					t.Error("the detach keys did not end the attach")
				}
			}
		})
	}
}
