package container

import (
	"github.com/berth-project/berth/cli"
	"github.com/spf13/cobra"
)

// NewContainerCommand returns the "container" management command.
func NewContainerCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "container",
		Short: "Manage containers",
		Args:  cli.NoArgs,
	}
	cmd.AddCommand(
		newCreateCommand(c),
		newRunCommand(c),
		newPortCommand(c),
		newPauseCommand(c, false),
		newPauseCommand(c, true),
		newStartCommand(c),
		newStopCommand(c),
		newKillCommand(c),
		newRestartCommand(c),
		newRmCommand(c),
		newRenameCommand(c),
		newWaitCommand(c),
		newListCommand(c),
		newLogsCommand(c),
		newExecCommand(c),
		newInspectCommand(c),
		newPruneCommand(c),
		newTopCommand(c),
		newCommitCommand(c),
		newDiffCommand(c),
		newExportCommand(c),
		newCopyCommand(c),
		newStatsCommand(c),
		newAttachCommand(c),
		newUpdateCommand(c),
	)
	return cmd
}

// TopLevel maps the shortcuts docker keeps at the top level to their
// constructors, by command name.
func TopLevel() map[string]cli.Constructor {
	return map[string]cli.Constructor{
		"create":  newCreateCommand,
		"run":     newRunCommand,
		"port":    newPortCommand,
		"commit":  newCommitCommand,
		"diff":    newDiffCommand,
		"export":  newExportCommand,
		"cp":      newCopyCommand,
		"stats":   newStatsCommand,
		"pause":   func(c *cli.Cli) *cobra.Command { return newPauseCommand(c, false) },
		"unpause": func(c *cli.Cli) *cobra.Command { return newPauseCommand(c, true) },
		"start":   newStartCommand,
		"stop":    newStopCommand,
		"kill":    newKillCommand,
		"restart": newRestartCommand,
		"rm":      newRmCommand,
		"rename":  newRenameCommand,
		"wait":    newWaitCommand,
		"ps": func(c *cli.Cli) *cobra.Command {
			ps := newListCommand(c)
			ps.Use = "ps [OPTIONS]"
			ps.Aliases = nil
			return ps
		},
		"logs":   newLogsCommand,
		"exec":   newExecCommand,
		"top":    newTopCommand,
		"attach": newAttachCommand,
		"update": newUpdateCommand,
	}
}
