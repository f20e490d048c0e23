package image

import (
	"github.com/berth-project/berth/cli"
	"github.com/spf13/cobra"
)

// NewImageCommand returns the "image" management command.
func NewImageCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  cli.NoArgs,
	}
	ls := newListCommand(c)
	ls.Use = "ls [OPTIONS] [REPOSITORY[:TAG]]"
	ls.Aliases = []string{"list"}
	rm := newRemoveCommand(c)
	rm.Use = "rm [OPTIONS] IMAGE [IMAGE...]"
	rm.Aliases = []string{"remove", "rmi"}
	cmd.AddCommand(ls, rm, newInspectCommand(c), newHistoryCommand(c), newTagCommand(c),
		newPruneCommand(c), newImportCommand(c), newPullCommand(c), newPushCommand(c), newBuildCommand(c),
		newSaveCommand(c), newLoadCommand(c))
	return cmd
}

// TopLevel maps the shortcuts docker keeps at the top level to their
// constructors, by command name.
func TopLevel() map[string]cli.Constructor {
	return map[string]cli.Constructor{
		"images": newListCommand, "rmi": newRemoveCommand, "history": newHistoryCommand,
		"tag": newTagCommand, "import": newImportCommand, "pull": newPullCommand, "push": newPushCommand,
		"build": newBuildCommand, "save": newSaveCommand, "load": newLoadCommand,
	}
}
