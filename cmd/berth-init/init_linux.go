package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// supervise starts path as a child in its own process group (in the
// foreground of the terminal, if stdin is one), forwards every signal it
// receives to the child, reaps all children (it is PID 1, or a subreaper when
// not) and returns the child's exit code, 128+signal if a signal killed it.
func supervise(path string, argv []string) (int, error) {
	if os.Getpid() != 1 {
		// Orphans reparent to us as they would to PID 1.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return 1, fmt.Errorf("become child subreaper: %w", err)
		}
	}
	sigs := make(chan os.Signal, 128)
	signal.Notify(sigs) // all catchable signals; nothing is ignored across exec
	defer signal.Stop(sigs)

	attr := &syscall.SysProcAttr{Setpgid: true}
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		attr.Foreground, attr.Ctty = true, 0
	}
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   attr,
	})
	if err != nil {
		code := 1
		switch {
		case errors.Is(err, syscall.ENOENT):
			code = 127
		case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.ENOEXEC):
			code = 126
		}
		return code, fmt.Errorf("exec %s failed: %w", argv[0], err)
	}

	for {
		if code, done, err := reap(pid); err != nil || done {
			return code, err
		}
		switch sig := (<-sigs).(syscall.Signal); sig {
		case unix.SIGCHLD:
			// Reaped at the top of the loop.
		case unix.SIGURG, unix.SIGTTIN, unix.SIGTTOU:
			// SIGURG is the Go runtime's preemption signal; the terminal
			// stop signals only concern the foreground group (the child).
		default:
			if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
				fmt.Fprintf(os.Stderr, "[WARN berth-init] forward %v to %d: %v\n", sig, pid, err)
			}
		}
	}
}

// reap collects every exited child without blocking and reports whether the
// main child is among them, with its exit code.
func reap(child int) (code int, done bool, err error) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			if done {
				return code, true, nil
			}
			return 1, false, fmt.Errorf("child %d vanished", child)
		case err != nil:
			return 1, done, fmt.Errorf("wait for children: %w", err)
		case pid == 0:
			return code, done, nil
		case pid == child:
			done = true
			if ws.Signaled() {
				code = 128 + int(ws.Signal())
			} else {
				code = ws.ExitStatus()
			}
		}
	}
}
