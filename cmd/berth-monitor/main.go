// Command berth-monitor owns one container: it starts it through the OCI
// runtime, holds its stdio, writes its log, serves attach connections, and
// records its exit. berthd can die and restart without disturbing it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

type options struct {
	id, bundle, runtime, runtimeRoot string
	logPath, exitPath, socket        string
	cgroupPath                       string
	tty, stdin                       bool
}

func main() {
	var o options
	flag.StringVar(&o.id, "id", "", "container ID")
	flag.StringVar(&o.bundle, "bundle", "", "OCI bundle directory")
	flag.StringVar(&o.runtime, "runtime", "runc", "OCI runtime binary")
	flag.StringVar(&o.runtimeRoot, "runtime-root", "", "OCI runtime state root")
	flag.StringVar(&o.logPath, "log", "", "json-file log path (empty: no log)")
	flag.StringVar(&o.exitPath, "exit-file", "", "where the exit record is written")
	flag.StringVar(&o.socket, "socket", "", "attach socket path")
	flag.StringVar(&o.cgroupPath, "cgroup", "", "container cgroup path, for OOM accounting")
	flag.BoolVar(&o.tty, "tty", false, "allocate a terminal")
	flag.BoolVar(&o.stdin, "stdin", false, "keep stdin open")
	flag.Parse()
	if o.id == "" || o.bundle == "" || o.exitPath == "" || o.socket == "" {
		fmt.Fprintln(os.Stderr, "berth-monitor: --id, --bundle, --exit-file and --socket are required")
		os.Exit(2)
	}
	// Signals aimed at the monitor's session must not kill it.
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "berth-monitor: subreaper:", err)
		os.Exit(1)
	}
	m, err := newMonitor(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "berth-monitor:", err)
		os.Exit(1)
	}
	os.Exit(m.run())
}
