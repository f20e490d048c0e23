// Command berth is the Docker-compatible client for berthd.
package main

import (
	"os"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/commands"
	"github.com/berth-project/berth/internal/trace"
	"github.com/spf13/cobra"
)

func main() {
	trace.Mark("main")
	c := cli.NewCli(os.Stdin, os.Stdout, os.Stderr)
	os.Exit(cli.Run(c, func(root *cobra.Command, c *cli.Cli, name string) {
		commands.Add(root, c, name)
		root.AddCommand(pluginCommand("registry", "Run an OCI Distribution registry"))
	}, os.Args[1:]))
}
