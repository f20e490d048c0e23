// Package trace puts the steps of berth's processes on one timeline, for
// bench/timeline.sh. When the environment names a file in BERTH_TRACE,
// each Mark appends one line to it:
//
//	<wall clock, ns> <the process's CPU time, ns> <pid> <process> <step>
//
// in a single O_APPEND write, so the CLI, berthd and the monitors (which
// write the same lines from C) can share the file. Without BERTH_TRACE a
// Mark costs an atomic load.
package trace

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Env names the trace file in the environment.
const Env = "BERTH_TRACE"

var (
	once sync.Once
	out  *os.File
	proc string
)

func open() {
	path := os.Getenv(Env)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	out, proc = f, filepath.Base(os.Args[0])
}

// Enabled reports whether marks are written.
func Enabled() bool {
	once.Do(open)
	return out != nil
}

// Mark records that this process reached step now.
func Mark(step string) {
	if !Enabled() {
		return
	}
	var cpu unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &cpu)
	b := make([]byte, 0, 96)
	b = strconv.AppendInt(b, time.Now().UnixNano(), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, cpu.Nano(), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(os.Getpid()), 10)
	b = append(b, ' ')
	b = append(b, proc...)
	b = append(b, ' ')
	b = append(b, step...)
	b = append(b, '\n')
	_, _ = out.Write(b)
}
