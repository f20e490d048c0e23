// Command berth is the Docker-compatible client for berthd.
package main

import (
	"os"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/commands"
	"github.com/berth-project/berth/internal/trace"
	"github.com/spf13/cobra"
)

// plugins are the commands carried out by binaries of their own
// (berth-<name>, plugin.go), with their short help.
var plugins = map[string]string{
	"registry": "Run an OCI Distribution registry",
	"compose":  "Docker Compose",
}

func main() {
	trace.Mark("main")
	c := cli.NewCli(os.Stdin, os.Stdout, os.Stderr)
	os.Exit(cli.Run(c, func(root *cobra.Command, c *cli.Cli, name string) {
		if _, ok := plugins[name]; !ok {
			commands.Add(root, c, name)
		}
		for name, short := range plugins {
			root.AddCommand(pluginCommand(name, short))
		}
	}, os.Args[1:]))
}
