// Command berth is the Docker-compatible client for berthd.
package main

import (
	"os"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/commands"
)

func main() {
	c := cli.NewCli(os.Stdin, os.Stdout, os.Stderr)
	os.Exit(cli.Run(c, commands.Add, os.Args[1:]))
}
