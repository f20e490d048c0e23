package commands

import (
	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/container"
	"github.com/berth-project/berth/cli/command/image"
	"github.com/berth-project/berth/cli/command/network"
	"github.com/berth-project/berth/cli/command/registry"
	"github.com/berth-project/berth/cli/command/system"
	"github.com/berth-project/berth/cli/command/volume"
	"github.com/spf13/cobra"
)

// Add registers the management groups and docker's top-level shortcuts.
func Add(root *cobra.Command, c *cli.Cli) {
	root.AddCommand(container.NewContainerCommand(c), image.NewImageCommand(c), system.NewSystemCommand(c), volume.NewVolumeCommand(c), network.NewNetworkCommand(c), image.NewBuilderCommand(c))
	root.AddCommand(container.TopLevelCommands(c)...)
	root.AddCommand(image.TopLevelCommands(c)...)
	root.AddCommand(system.TopLevelCommands(c)...)
	root.AddCommand(registry.TopLevelCommands(c)...)
}
