// Command berth-compose is `berth compose`. It is a binary of its own, as
// Docker ships Compose as a CLI plugin, so that compose-go (its JSON
// schema compiled at init took 3.3 ms of every start of the client) is
// loaded only for compose: berth execs it with its own arguments, global
// flags and all, and argv[0] "berth".
package main

import (
	"os"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/compose"
	"github.com/spf13/cobra"
)

func main() {
	c := cli.NewCli(os.Stdin, os.Stdout, os.Stderr)
	os.Exit(cli.Run(c, func(root *cobra.Command, c *cli.Cli, _ string) {
		root.AddCommand(compose.NewComposeCommand(c))
	}, os.Args[1:]))
}
