package system

import (
	"fmt"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/container"
	"github.com/berth-project/berth/cli/command/image"
	"github.com/berth-project/berth/cli/format"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/spf13/cobra"
)

func newInspectCommand(c *cli.Cli) *cobra.Command {
	var tmpl, typ string
	var size bool
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Return low-level information on Docker objects",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			getCtr := container.InspectFunc(cmd, api, size)
			getImg := image.InspectFunc(cmd, api)
			var get format.InspectFunc
			switch typ {
			case "container":
				get = getCtr
			case "image":
				get = getImg
			case "":
				get = func(ref string) (any, []byte, error) {
					v, raw, err := getCtr(ref)
					if err == nil || !cerrdefs.IsNotFound(err) {
						return v, raw, err
					}
					v, raw, err = getImg(ref)
					if err != nil && cerrdefs.IsNotFound(err) {
						return nil, nil, fmt.Errorf("Error: No such object: %s", ref)
					}
					return v, raw, err
				}
			default:
				return fmt.Errorf("%q is not a valid value for --type", typ)
			}
			return cli.InspectStatus(format.Inspect(c.Out(), args, tmpl, get))
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&tmpl, "format", "f", "", cli.InspectFormatHelp)
	fl.BoolVarP(&size, "size", "s", false, "Display total file sizes if the type is container")
	fl.StringVar(&typ, "type", "", "Only inspect objects of the given type")
	return cmd
}

// TopLevel maps version, info, events and inspect to their constructors.
func TopLevel() map[string]cli.Constructor {
	return map[string]cli.Constructor{"version": newVersionCommand, "info": newInfoCommand, "events": newEventsCommand, "inspect": newInspectCommand}
}

// NewSystemCommand returns the "system" management command.
func NewSystemCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{Use: "system", Short: "Manage Docker", Args: cli.NoArgs}
	cmd.AddCommand(newInfoCommand(c), newEventsCommand(c), newDfCommand(c), newPruneCommand(c))
	return cmd
}
