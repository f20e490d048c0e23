// Command berth-registry is `berth registry`: the OCI Distribution server
// and its garbage collector. It is a binary of its own, as Docker's CLI
// plugins are, so that the server (its storage, auth, TLS and proxy code)
// is not loaded at every start of the client: berth execs it with the
// arguments "registry …" and argv[0] "berth".
package main

import (
	"os"

	"github.com/berth-project/berth/cli"
	"github.com/spf13/cobra"
)

func main() {
	c := cli.NewCli(os.Stdin, os.Stdout, os.Stderr)
	os.Exit(cli.Run(c, func(root *cobra.Command, c *cli.Cli, _ string) {
		root.AddCommand(newRegistryCommand(c))
	}, os.Args[1:]))
}
