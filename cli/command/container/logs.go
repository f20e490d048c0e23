package container

import (
	"io"

	"github.com/berth-project/berth/cli"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newLogsCommand(c *cli.Cli) *cobra.Command {
	var o client.ContainerLogsOptions
	cmd := &cobra.Command{
		Use:         "logs [OPTIONS] CONTAINER",
		Short:       "Fetch the logs of a container",
		Args:        cli.ExactArgs(1),
		Annotations: cli.Aliases("container logs", "logs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			info, err := api.ContainerInspect(cmd.Context(), args[0], client.ContainerInspectOptions{})
			if err != nil {
				return err
			}
			o.ShowStdout, o.ShowStderr = true, true
			rc, err := api.ContainerLogs(cmd.Context(), info.Container.ID, o)
			if err != nil {
				return err
			}
			defer rc.Close()
			if info.Container.Config != nil && info.Container.Config.Tty {
				_, err = io.Copy(c.Out(), rc)
			} else {
				_, err = demux(c.Out(), c.Err(), rc)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.Details, "details", false, "Show extra details provided to logs")
	fl.BoolVarP(&o.Follow, "follow", "f", false, "Follow log output")
	fl.StringVar(&o.Since, "since", "", `Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)`)
	fl.StringVarP(&o.Tail, "tail", "n", "all", "Number of lines to show from the end of the logs")
	fl.BoolVarP(&o.Timestamps, "timestamps", "t", false, "Show timestamps")
	fl.StringVar(&o.Until, "until", "", `Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)`)
	return cmd
}
