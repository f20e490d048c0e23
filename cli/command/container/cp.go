package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/berth-project/berth/cli"
	"github.com/docker/go-units"
	"github.com/moby/go-archive"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// docker cp as the docker CLI 28 does it: the client decides, from a stat
// of both ends, which directory to extract into and how to rename the
// archive's first path element; the daemon only stats, tars and untars.
// Unless quiet (the default when stdout is no terminal) it ends with
// "Successfully copied <archive bytes> to <dest>" on stderr. Docker 28 also
// has a live progress line, but it never shows: it asks whether its
// wrapped stderr stream is a terminal, which never is; so none here.

type cpConfig struct {
	followLink bool
	copyUIDGID bool
	quiet      bool
	sourcePath string
	destPath   string
	container  string
}

func newCopyCommand(c *cli.Cli) *cobra.Command {
	var cfg cpConfig
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\t" + cli.ProgramName() + " cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Long: `Copy files/folders between a container and the local filesystem

Use '-' as the source to read a tar archive from stdin
and extract it to a directory destination in a container.
Use '-' as the destination to stream a tar archive of a
container source to stdout.`,
		Args:        cli.ExactArgs(2),
		Annotations: cli.Aliases("container cp", "cp"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "" {
				return errors.New("source can not be empty")
			}
			if args[1] == "" {
				return errors.New("destination can not be empty")
			}
			if !cmd.Flag("quiet").Changed {
				// no summary line unless stdout is a terminal
				_, tty := c.OutFd()
				cfg.quiet = !tty
			}
			return runCopy(cmd.Context(), c, cfg, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&cfg.followLink, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	fl.BoolVarP(&cfg.copyUIDGID, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	fl.BoolVarP(&cfg.quiet, "quiet", "q", false, "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached")
	return cmd
}

func runCopy(ctx context.Context, c *cli.Cli, cfg cpConfig, source, destination string) error {
	srcContainer, srcPath := splitCpArg(source)
	dstContainer, dstPath := splitCpArg(destination)
	cfg.sourcePath, cfg.destPath = srcPath, dstPath
	switch {
	case srcContainer != "" && dstContainer != "":
		return errors.New("copying between containers is not supported")
	case srcContainer != "":
		cfg.container = srcContainer
		return copyFromContainer(ctx, c, cfg)
	case dstContainer != "":
		cfg.container = dstContainer
		return copyToContainer(ctx, c, cfg)
	}
	return errors.New("must specify at least one container source")
}

func copyFromContainer(ctx context.Context, c *cli.Cli, cfg cpConfig) error {
	dstPath, srcPath := cfg.destPath, cfg.sourcePath
	if dstPath != "-" {
		var err error
		if dstPath, err = resolveLocalPath(dstPath); err != nil {
			return err
		}
	}
	if err := validateOutputPath(dstPath); err != nil {
		return err
	}
	api, err := c.Client()
	if err != nil {
		return err
	}
	// -L: copy what a symlink points to, under the link's name.
	var rebaseName string
	if cfg.followLink {
		res, err := api.ContainerStatPath(ctx, cfg.container, client.ContainerStatPathOptions{Path: srcPath})
		if err == nil && res.Stat.Mode&os.ModeSymlink != 0 {
			linkTarget := res.Stat.LinkTarget
			if !isAbs(linkTarget) {
				srcParent, _ := archive.SplitPathDirEntry(srcPath)
				linkTarget = filepath.Join(srcParent, linkTarget)
			}
			linkTarget, rebaseName = archive.GetRebaseName(srcPath, linkTarget)
			srcPath = linkTarget
		}
	}
	ctx, cancel := signal.NotifyContext(ctx, os.Interrupt)
	defer cancel()
	res, err := api.CopyFromContainer(ctx, cfg.container, client.CopyFromContainerOptions{SourcePath: srcPath})
	if err != nil {
		return err
	}
	content := res.Content
	defer content.Close()
	if dstPath == "-" {
		_, err = io.Copy(c.Out(), content)
		return err
	}
	srcInfo := archive.CopyInfo{Path: srcPath, Exists: true, IsDir: res.Stat.Mode.IsDir(), RebaseName: rebaseName}
	var copied int64
	if !cfg.quiet {
		content = &countingReader{ReadCloser: content, total: &copied}
	}
	preArchive := content
	if srcInfo.RebaseName != "" {
		_, srcBase := archive.SplitPathDirEntry(srcInfo.Path)
		preArchive = archive.RebaseArchiveEntries(content, srcBase, srcInfo.RebaseName)
	}
	err = archive.CopyTo(preArchive, srcInfo, dstPath)
	if !cfg.quiet {
		fmt.Fprintln(c.Err(), "Successfully copied", progressHumanSize(copied), "to", dstPath)
	}
	return err
}

func copyToContainer(ctx context.Context, c *cli.Cli, cfg cpConfig) error {
	srcPath, dstPath := cfg.sourcePath, cfg.destPath
	if srcPath != "-" {
		var err error
		if srcPath, err = resolveLocalPath(srcPath); err != nil {
			return err
		}
	}
	api, err := c.Client()
	if err != nil {
		return err
	}
	// Stat the destination (through a final symlink) to know whether to
	// extract into it or into its parent under a new name.
	dstInfo := archive.CopyInfo{Path: dstPath}
	st, err := api.ContainerStatPath(ctx, cfg.container, client.ContainerStatPathOptions{Path: dstPath})
	if err == nil && st.Stat.Mode&os.ModeSymlink != 0 {
		linkTarget := st.Stat.LinkTarget
		if !isAbs(linkTarget) {
			dstParent, _ := archive.SplitPathDirEntry(dstPath)
			linkTarget = filepath.Join(dstParent, linkTarget)
		}
		dstInfo.Path = linkTarget
		st, err = api.ContainerStatPath(ctx, cfg.container, client.ContainerStatPathOptions{Path: linkTarget})
	}
	if err := validateOutputPathFileMode(st.Stat.Mode); err != nil {
		return fmt.Errorf(`destination "%s:%s" must be a directory or a regular file: %w`, cfg.container, dstPath, err)
	}
	// A stat error is no failure: if the parent exists the copy creates
	// the destination, and the daemon reports any other problem.
	if err == nil {
		dstInfo.Exists, dstInfo.IsDir = true, st.Stat.Mode.IsDir()
	}

	var (
		content         io.ReadCloser
		resolvedDstPath string
		copied          int64
	)
	if srcPath == "-" {
		content = c.In()
		resolvedDstPath = dstInfo.Path
		if !dstInfo.IsDir {
			return fmt.Errorf(`destination "%s:%s" must be a directory`, cfg.container, dstPath)
		}
	} else {
		srcInfo, err := archive.CopyInfoSourcePath(srcPath, cfg.followLink)
		if err != nil {
			return err
		}
		srcArchive, err := archive.TarResource(srcInfo)
		if err != nil {
			return err
		}
		defer srcArchive.Close()
		dstDir, prepared, err := archive.PrepareArchiveCopy(srcArchive, srcInfo, dstInfo)
		if err != nil {
			return err
		}
		defer prepared.Close()
		resolvedDstPath, content = dstDir, prepared
		if !cfg.quiet {
			content = &countingReader{ReadCloser: content, total: &copied}
		}
	}
	opts := client.CopyToContainerOptions{DestinationPath: resolvedDstPath, Content: content, CopyUIDGID: cfg.copyUIDGID}
	if !cfg.quiet {
		ctx, cancel := signal.NotifyContext(ctx, os.Interrupt)
		defer cancel()
		_, err = api.CopyToContainer(ctx, cfg.container, opts)
		fmt.Fprintln(c.Err(), "Successfully copied", progressHumanSize(copied), "to", cfg.container+":"+dstInfo.Path)
		return err
	}
	_, err = api.CopyToContainer(ctx, cfg.container, opts)
	return err
}

// splitCpArg splits CONTAINER:PATH. A local path with a ":" must be made
// explicit with a "/" or "." prefix (./file:name), as with scp.
func splitCpArg(arg string) (container, path string) {
	if isAbs(arg) {
		return "", arg
	}
	ctr, p, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(ctr, ".") {
		return "", arg
	}
	return ctr, p
}

func isAbs(p string) bool {
	return filepath.IsAbs(p) || strings.HasPrefix(p, string(os.PathSeparator))
}

func resolveLocalPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return archive.PreserveTrailingDotOrSeparator(abs, p), nil
}

// validateOutputPath is the docker CLI's check of a local destination:
// its parent must exist, and it must be a directory or regular file.
func validateOutputPath(path string) error {
	dir := filepath.Dir(filepath.Clean(path))
	if dir != "" && dir != "." {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			return fmt.Errorf("invalid output path: directory %q does not exist", dir)
		}
	}
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().IsDir() || fi.Mode().IsRegular() {
		return nil
	}
	if err := validateOutputPathFileMode(fi.Mode()); err != nil {
		return fmt.Errorf("invalid output path: %q must be a directory or a regular file: %w", path, err)
	}
	return nil
}

func validateOutputPathFileMode(m os.FileMode) error {
	switch {
	case m&os.ModeDevice != 0:
		return errors.New("got a device")
	case m&os.ModeIrregular != 0:
		return errors.New("got an irregular file")
	}
	return nil
}

func progressHumanSize(n int64) string {
	return units.HumanSizeWithPrecision(float64(n), 3)
}

// countingReader counts the archive bytes for the summary line.
type countingReader struct {
	io.ReadCloser
	total *int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	atomic.AddInt64(r.total, int64(n))
	return n, err
}

// Copy copies between a container and the local filesystem as docker cp
// does (source and destination as its arguments), for commands beside it
// (compose cp).
func Copy(ctx context.Context, c *cli.Cli, source, destination string, followLink, archive, quiet bool) error {
	return runCopy(ctx, c, cpConfig{followLink: followLink, copyUIDGID: archive, quiet: quiet}, source, destination)
}
