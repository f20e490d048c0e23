package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
)

// pluginCommand is a top-level command carried out by a binary of its own,
// berth-<name>, found beside berth or in PATH, as Docker runs its CLI
// plugins: the binary gets berth's arguments as they were, global flags
// (-H, --context, --config, --log-level) included, and berth's argv[0],
// and replaces this process, so signals, exit codes and streams are its own.
func pluginCommand(name, short string) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		Short:              short,
		DisableFlagParsing: true,
		RunE: func(*cobra.Command, []string) error {
			return execPlugin(name, os.Args[1:])
		},
	}
}

func execPlugin(name string, args []string) error {
	bin, err := findPlugin("berth-" + name)
	if err != nil {
		return err
	}
	argv := append([]string{os.Args[0]}, args...)
	return fmt.Errorf("%s: %w", bin, syscall.Exec(bin, argv, os.Environ()))
}

func findPlugin(file string) (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), file)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(file)
	if errors.Is(err, exec.ErrNotFound) {
		return "", fmt.Errorf("%s is not installed: it is looked for beside %s and in PATH", file, filepath.Base(os.Args[0]))
	}
	return p, err
}
