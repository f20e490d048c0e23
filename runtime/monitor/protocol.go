package monitor

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Frame types. Monitor → daemon: Stdout, Stderr, Started, Exited, Failed.
// Daemon → monitor: Stdin, CloseStdin, Resize.
const (
	Stdin      byte = 0
	Stdout     byte = 1
	Stderr     byte = 2
	CloseStdin byte = 3
	Resize     byte = 4
	Started    byte = 5
	Exited     byte = 6
	Failed     byte = 7
)

// MaxFrame bounds a frame's payload.
const MaxFrame = 1 << 20

// WriteFrame writes one frame: type, 4-byte big-endian length, payload.
func WriteFrame(w io.Writer, typ byte, payload []byte) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("monitor frame of %d bytes is too large", len(payload))
	}
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := w.Write(append(hdr[:], payload...)); err != nil {
		return err
	}
	return nil
}

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrame {
		return 0, nil, fmt.Errorf("monitor frame of %d bytes is too large", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return hdr[0], buf, nil
}

// StartInfo is the payload of a Started frame.
type StartInfo struct {
	Pid int `json:"pid"`
}

// Exit is the payload of an Exited frame and the content of exit.json.
type Exit struct {
	Pid        int       `json:"pid"`
	ExitCode   int       `json:"exitCode"`
	OOMKilled  bool      `json:"oomKilled"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	Error      string    `json:"error,omitempty"`
}

// Failure is the payload of a Failed frame: the container could not start.
type Failure struct {
	Message string `json:"message"`
}

// WindowSize is the payload of a Resize frame.
type WindowSize struct {
	Height uint16 `json:"h"`
	Width  uint16 `json:"w"`
}

// WriteJSON writes a frame with a JSON payload.
func WriteJSON(w io.Writer, typ byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return WriteFrame(w, typ, b)
}

// WriteExitFile records e at path atomically (temp file, fsync, rename).
func WriteExitFile(path string, e Exit) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".exit-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadExitFile reads an exit record; os.ErrNotExist if the container has not exited.
func ReadExitFile(path string) (Exit, error) {
	var e Exit
	b, err := os.ReadFile(path)
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, errors.Join(fmt.Errorf("exit record %s", path), err)
	}
	return e, nil
}
