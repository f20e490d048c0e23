package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/berth-project/berth/cli"
	"github.com/containerd/platforms"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
)

func newSaveCommand(c *cli.Cli) *cobra.Command {
	var output, platform string
	cmd := &cobra.Command{
		Use:         "save [OPTIONS] IMAGE [IMAGE...]",
		Short:       "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("image save", "save"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []client.ImageSaveOption
			if platform != "" {
				p, err := parsePlatform(platform)
				if err != nil {
					return err
				}
				opts = append(opts, client.ImageSaveWithPlatforms(p))
			}
			var out io.Writer
			if output == "" {
				if _, isTerm := c.OutFd(); isTerm {
					return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
				}
				out = c.Out()
			} else {
				f, err := newAtomicFile(output)
				if err != nil {
					return fmt.Errorf("failed to save image: %w", err)
				}
				defer f.Abort()
				out = f
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			rc, err := api.ImageSave(cmd.Context(), args, opts...)
			if err != nil {
				return err
			}
			defer rc.Close()
			if _, err := io.Copy(out, rc); err != nil {
				return err
			}
			if f, ok := out.(*atomicFile); ok {
				return f.Commit()
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	fl.StringVar(&platform, "platform", "", `Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")`)
	return cmd
}

// atomicFile is written beside its destination and renamed over it only
// when complete, so a failed save leaves no partial archive (docker uses
// moby/sys/atomicwriter the same way, mode 0600).
type atomicFile struct {
	*os.File
	dest string
	done bool
}

func newAtomicFile(dest string) (*atomicFile, error) {
	dir := filepath.Dir(dest)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("invalid output path: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("invalid output path: %w", &os.PathError{Op: "stat", Path: dir, Err: syscall.ENOTDIR})
	}
	if fi, err := os.Stat(dest); err == nil && !fi.Mode().IsRegular() {
		return nil, notRegular(fi.Mode())
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(dest))
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &atomicFile{File: f, dest: dest}, nil
}

// Commit syncs the file and moves it into place.
func (f *atomicFile) Commit() error {
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), f.dest); err != nil {
		return err
	}
	f.done = true
	return nil
}

// Abort removes the temporary file unless Commit moved it into place.
func (f *atomicFile) Abort() {
	if !f.done {
		f.Close()
		os.Remove(f.Name())
	}
}

// notRegular is docker's refusal to replace something that is not a file.
func notRegular(m os.FileMode) error {
	switch {
	case m.IsDir():
		return errors.New("cannot write to a directory")
	case m&os.ModeCharDevice != 0:
		return errors.New("cannot write to a character device file")
	case m&os.ModeDevice != 0:
		return errors.New("cannot write to a block device file")
	case m&os.ModeNamedPipe != 0:
		return errors.New("cannot write to a named pipe (FIFO)")
	case m&os.ModeSocket != 0:
		return errors.New("cannot write to a socket")
	}
	return errors.New("cannot write to a non-regular file")
}

// parsePlatform reads a --platform as the docker CLI does.
func parsePlatform(s string) (ocispec.Platform, error) {
	p, err := platforms.Parse(s)
	if err != nil {
		return p, fmt.Errorf("invalid platform: %w", err)
	}
	return p, nil
}
