package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
)

const usage = "usage: docker-init [--] COMMAND [ARG...]"

func main() {
	os.Exit(run(os.Args[1:]))
}

// run starts the command in args (after an optional "--") and returns the
// exit code berth-init should exit with.
func run(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(os.Stderr, usage)
		return 1
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "[FATAL berth-init] exec %s failed: %v\n", args[0], err)
		return execFailureCode(err)
	}
	code, err := supervise(path, args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "[FATAL berth-init] %v\n", err)
	}
	return code
}

// execFailureCode maps exec errors to the shell's codes, as tini does:
// 127 for a missing command, 126 for one that cannot be executed.
func execFailureCode(err error) int {
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return 127
	case errors.Is(err, fs.ErrPermission), errors.Is(err, exec.ErrDot):
		return 126
	}
	return 1
}
