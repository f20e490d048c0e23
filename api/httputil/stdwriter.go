package httputil

import (
	"encoding/binary"
	"io"
)

// Stream ids of Docker's multiplexed stream.
const (
	Stdin  byte = 0
	Stdout byte = 1
	Stderr byte = 2
	System byte = 3
)

type stdWriter struct {
	w      io.Writer
	stream byte
}

// NewStdWriter frames writes for Docker's multiplexed stream: an 8-byte
// header (stream id, three zero bytes, big-endian length) then the payload,
// in one Write so concurrent writers never interleave a frame.
func NewStdWriter(w io.Writer, stream byte) io.Writer {
	return &stdWriter{w: w, stream: stream}
}

func (s *stdWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	buf := make([]byte, 8+len(p))
	buf[0] = s.stream
	binary.BigEndian.PutUint32(buf[4:8], uint32(len(p)))
	copy(buf[8:], p)
	if _, err := s.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}
