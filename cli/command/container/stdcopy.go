package container

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Stream identifiers of the multiplexed attach/logs format.
const (
	stdinStream  = 0
	stdoutStream = 1
	stderrStream = 2
	systemErr    = 3
	headerLen    = 8
)

// demux copies a multiplexed stream (8-byte header: stream id, three zero
// bytes, big-endian payload length) to stdout and stderr. A nil writer
// discards that stream. A systemErr frame ends the copy with its text as error.
func demux(stdout, stderr io.Writer, src io.Reader) (int64, error) {
	var written int64
	hdr := make([]byte, headerLen)
	buf := make([]byte, 32*1024)
	for {
		if _, err := io.ReadFull(src, hdr); err != nil {
			if errors.Is(err, io.EOF) {
				return written, nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return written, fmt.Errorf("unexpected EOF reading stream header")
			}
			return written, err
		}
		size := int(binary.BigEndian.Uint32(hdr[4:]))
		var dst io.Writer
		switch hdr[0] {
		case stdinStream, stdoutStream:
			dst = stdout
		case stderrStream:
			dst = stderr
		case systemErr:
			if size > len(buf) {
				buf = make([]byte, size)
			}
			if _, err := io.ReadFull(src, buf[:size]); err != nil {
				return written, err
			}
			return written, fmt.Errorf("error from daemon in stream: %s", buf[:size])
		default:
			return written, fmt.Errorf("unrecognized input header: %d", hdr[0])
		}
		if dst == nil {
			dst = io.Discard
		}
		n, err := io.CopyN(dst, src, int64(size))
		written += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				return written, fmt.Errorf("unexpected EOF reading stream payload")
			}
			return written, err
		}
	}
}
