package container

import (
	"errors"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/container/runopts"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

type updateOptions struct {
	blkioWeight               uint16
	cpuPeriod, cpuQuota       int64
	cpuRtPeriod, cpuRtRuntime int64
	cpuShares, pidsLimit      int64
	cpus                      runopts.NanoCPUs
	cpusetCpus, cpusetMems    string
	memory, memoryReservation runopts.MemBytes
	memorySwap                runopts.SwapBytes
	restart                   string
}

func newUpdateCommand(c *cli.Cli) *cobra.Command {
	var o updateOptions
	cmd := &cobra.Command{
		Use:         "update [OPTIONS] CONTAINER [CONTAINER...]",
		Short:       "Update configuration of one or more containers",
		Args:        cli.RequiresMinArgs(1),
		Annotations: cli.Aliases("container update", "update"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().NFlag() == 0 {
				return errors.New("you must provide one or more flags when using this command")
			}
			opts := client.ContainerUpdateOptions{Resources: &container.Resources{
				BlkioWeight: o.blkioWeight, CPUPeriod: o.cpuPeriod, CPUQuota: o.cpuQuota,
				CPURealtimePeriod: o.cpuRtPeriod, CPURealtimeRuntime: o.cpuRtRuntime, CPUShares: o.cpuShares,
				NanoCPUs: int64(o.cpus), CpusetCpus: o.cpusetCpus, CpusetMems: o.cpusetMems,
				Memory: int64(o.memory), MemoryReservation: int64(o.memoryReservation), MemorySwap: int64(o.memorySwap),
			}}
			if cmd.Flags().Changed("pids-limit") {
				opts.Resources.PidsLimit = &o.pidsLimit
			}
			if cmd.Flags().Changed("restart") {
				p, err := runopts.ParseRestart(o.restart)
				if err != nil {
					return err
				}
				opts.RestartPolicy = &p
			}
			return forEach(c, args, func(api *client.Client, n string) error {
				_, err := api.ContainerUpdate(cmd.Context(), n, opts)
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.Uint16Var(&o.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)")
	fl.Int64Var(&o.cpuPeriod, "cpu-period", 0, "Limit CPU CFS (Completely Fair Scheduler) period")
	fl.Int64Var(&o.cpuQuota, "cpu-quota", 0, "Limit CPU CFS (Completely Fair Scheduler) quota")
	fl.Int64Var(&o.cpuRtPeriod, "cpu-rt-period", 0, "Limit the CPU real-time period in microseconds")
	fl.Int64Var(&o.cpuRtRuntime, "cpu-rt-runtime", 0, "Limit the CPU real-time runtime in microseconds")
	fl.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	fl.Var(&o.cpus, "cpus", "Number of CPUs")
	fl.StringVar(&o.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	fl.StringVar(&o.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	fl.VarP(&o.memory, "memory", "m", "Memory limit")
	fl.Var(&o.memoryReservation, "memory-reservation", "Memory soft limit")
	fl.Var(&o.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
	fl.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	fl.StringVar(&o.restart, "restart", "", "Restart policy to apply when a container exits")
	return cmd
}
