package system

import (
	"fmt"
	"io"
	"sort"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newInfoCommand(c *cli.Cli) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "info [OPTIONS]",
		Short: "Display system-wide information",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.Info(cmd.Context(), client.InfoOptions{})
			if tmpl != "" {
				if err != nil {
					return err
				}
				text := tmpl
				if text == "json" {
					text = "{{json .}}"
				}
				t, perr := format.Parse(text)
				if perr != nil {
					return cli.StatusError{Status: "template parsing error: " + perr.Error(), StatusCode: 64}
				}
				if err := t.Execute(c.Out(), res.Info); err != nil {
					return err
				}
				fmt.Fprintln(c.Out())
				return nil
			}
			fmt.Fprintln(c.Out(), "Client:")
			fmt.Fprintf(c.Out(), " Version:    %s\n", cli.Version)
			fmt.Fprintf(c.Out(), " Context:    default\n")
			fmt.Fprintf(c.Out(), " Debug Mode: false\n\n")
			fmt.Fprintln(c.Out(), "Server:")
			if err != nil {
				fmt.Fprintf(c.Out(), "ERROR: %v\n", err)
				return cli.StatusError{StatusCode: 1}
			}
			printServerInfo(c.Out(), res.Info)
			return nil
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", cli.InspectFormatHelp)
	return cmd
}

func printServerInfo(out io.Writer, i system.Info) {
	p := func(k string, v any) { fmt.Fprintf(out, " %s: %v\n", k, v) }
	p("Containers", i.Containers)
	fmt.Fprintf(out, "  Running: %d\n  Paused: %d\n  Stopped: %d\n", i.ContainersRunning, i.ContainersPaused, i.ContainersStopped)
	p("Images", i.Images)
	p("Server Version", i.ServerVersion)
	p("Storage Driver", i.Driver)
	for _, kv := range i.DriverStatus {
		fmt.Fprintf(out, "  %s: %s\n", kv[0], kv[1])
	}
	p("Logging Driver", i.LoggingDriver)
	p("Cgroup Driver", i.CgroupDriver)
	p("Cgroup Version", i.CgroupVersion)
	fmt.Fprintf(out, " Runtimes:")
	for name := range i.Runtimes {
		fmt.Fprintf(out, " %s", name)
	}
	fmt.Fprintln(out)
	p("Default Runtime", i.DefaultRuntime)
	p("Init Binary", i.InitBinary)
	p("Kernel Version", i.KernelVersion)
	p("Operating System", i.OperatingSystem)
	p("OSType", i.OSType)
	p("Architecture", i.Architecture)
	p("CPUs", i.NCPU)
	p("Total Memory", format.HumanSize(i.MemTotal))
	p("Name", i.Name)
	p("ID", i.ID)
	p("Docker Root Dir", i.DockerRootDir)
	p("Debug Mode", i.Debug)
	p("Experimental", i.ExperimentalBuild)
	if len(i.Labels) > 0 {
		fmt.Fprintln(out, " Labels:")
		for _, l := range i.Labels {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	if rc := i.RegistryConfig; rc != nil {
		var insecure []string
		for name, ic := range rc.IndexConfigs {
			if !ic.Secure {
				insecure = append(insecure, name)
			}
		}
		sort.Strings(insecure)
		for _, c := range rc.InsecureRegistryCIDRs {
			insecure = append(insecure, c.String())
		}
		if len(insecure) > 0 {
			fmt.Fprintln(out, " Insecure Registries:")
			for _, r := range insecure {
				fmt.Fprintf(out, "  %s\n", r)
			}
		}
		if len(rc.Mirrors) > 0 {
			fmt.Fprintln(out, " Registry Mirrors:")
			for _, m := range rc.Mirrors {
				fmt.Fprintf(out, "  %s\n", m)
			}
		}
	}
	p("Live Restore Enabled", i.LiveRestoreEnabled)
	for _, w := range i.Warnings {
		fmt.Fprintln(out, w)
	}
}
