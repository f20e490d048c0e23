package container

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/berth-project/berth/cli"
	"github.com/moby/moby/client"
	"github.com/moby/term"
	"github.com/spf13/cobra"
)

func newCommitCommand(c *cli.Cli) *cobra.Command {
	var message, author string
	var changes cli.ListOpt
	pause := true
	cmd := &cobra.Command{
		Use:         "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
		Short:       "Create a new image from a container's changes",
		Args:        cli.RequiresRangeArgs(1, 2),
		Annotations: cli.Aliases("container commit", "commit"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			res, err := api.ContainerCommit(cmd.Context(), args[0], client.ContainerCommitOptions{
				Reference: ref, Comment: message, Author: author, Changes: changes.Values, NoPause: !pause})
			if err != nil {
				return err
			}
			fmt.Fprintln(c.Out(), res.ID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&message, "message", "m", "", "Commit message")
	fl.StringVarP(&author, "author", "a", "", `Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`)
	fl.VarP(&changes, "change", "c", "Apply Dockerfile instruction to the created image")
	fl.BoolVarP(&pause, "pause", "p", true, "Pause container during commit")
	return cmd
}

func newDiffCommand(c *cli.Cli) *cobra.Command {
	return &cobra.Command{
		Use:         "diff CONTAINER",
		Short:       "Inspect changes to files or directories on a container's filesystem",
		Args:        cli.ExactArgs(1),
		Annotations: cli.Aliases("container diff", "diff"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ContainerDiff(cmd.Context(), args[0], client.ContainerDiffOptions{})
			if err != nil {
				return err
			}
			for _, ch := range res.Changes {
				fmt.Fprintf(c.Out(), "%s %s\n", ch.Kind, ch.Path)
			}
			return nil
		},
	}
}

func newExportCommand(c *cli.Cli) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:         "export [OPTIONS] CONTAINER",
		Short:       "Export a container's filesystem as a tar archive",
		Args:        cli.ExactArgs(1),
		Annotations: cli.Aliases("container export", "export"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := c.Out()
			if f, ok := out.(*os.File); ok && output == "" && term.IsTerminal(f.Fd()) {
				return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			rc, err := api.ContainerExport(cmd.Context(), args[0], client.ContainerExportOptions{})
			if err != nil {
				return err
			}
			defer rc.Close()
			if output != "" {
				f, err := os.Create(output)
				if err != nil {
					return fmt.Errorf("failed to export container: %w", err)
				}
				defer f.Close()
				out = f
			}
			_, err = io.Copy(out, rc)
			return err
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}
