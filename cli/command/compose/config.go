package compose

import (
	"fmt"
	"sort"

	"github.com/berth-project/berth/cli"
	"github.com/spf13/cobra"
)

func newConfigCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var services, volumes, networks, quiet, images bool
	var fmtName, output string
	cmd := &cobra.Command{
		Use:     "config [OPTIONS] [SERVICE...]",
		Aliases: []string{"convert"},
		Short:   "Parse, resolve and render compose file in canonical format",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := po.load(cmd.Context())
			if err != nil {
				return err
			}
			if len(args) > 0 {
				if p, err = p.WithSelectedServices(args); err != nil {
					return err
				}
			}
			if quiet {
				return nil
			}
			list := func(names []string) error {
				sort.Strings(names)
				for _, n := range names {
					fmt.Fprintln(c.Out(), n)
				}
				return nil
			}
			switch {
			case services:
				return list(p.ServiceNames())
			case volumes:
				return list(p.VolumeNames())
			case networks:
				return list(p.NetworkNames())
			case images:
				var imgs []string
				for _, s := range p.Services {
					if s.Image != "" {
						imgs = append(imgs, s.Image)
					} else {
						imgs = append(imgs, p.Name+"-"+s.Name)
					}
				}
				return list(imgs)
			}
			var b []byte
			switch fmtName {
			case "json":
				b, err = p.MarshalJSON()
			case "yaml", "":
				b, err = p.MarshalYAML()
			default:
				return fmt.Errorf("unsupported format %q", fmtName)
			}
			if err != nil {
				return err
			}
			_, err = c.Out().Write(b)
			return err
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&services, "services", false, "Print the service names, one per line.")
	fl.BoolVar(&volumes, "volumes", false, "Print the volume names, one per line.")
	fl.BoolVar(&networks, "networks", false, "Print the network names, one per line.")
	fl.BoolVar(&images, "images", false, "Print the image names, one per line.")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only validate the configuration, don't print anything")
	fl.StringVar(&fmtName, "format", "yaml", "Format the output. Values: [yaml | json]")
	fl.StringVarP(&output, "output", "o", "", "Save to file (default to stdout)")
	return cmd
}
