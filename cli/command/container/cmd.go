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

// TopLevelCommands returns the shortcuts docker keeps at the top level.
func TopLevelCommands(c *cli.Cli) []*cobra.Command {
	ps := newListCommand(c)
	ps.Use = "ps [OPTIONS]"
	ps.Aliases = nil
	return []*cobra.Command{
		newCreateCommand(c),
		newRunCommand(c),
		newPortCommand(c),
		newCommitCommand(c),
		newDiffCommand(c),
		newExportCommand(c),
		newCopyCommand(c),
		newStatsCommand(c),
		newPauseCommand(c, false),
		newPauseCommand(c, true),
		newStartCommand(c),
		newStopCommand(c),
		newKillCommand(c),
		newRestartCommand(c),
		newRmCommand(c),
		newRenameCommand(c),
		newWaitCommand(c),
		ps,
		newLogsCommand(c),
		newExecCommand(c),
		newTopCommand(c),
		newAttachCommand(c),
		newUpdateCommand(c),
	}
}
