package container

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// statsRow is one line of `stats`, with docker's fields and formulas.
type statsRow struct {
	id, name                    string
	cpu, mem, limit, memPercent float64
	netRx, netTx, blkR, blkW    float64
	pids                        uint64
}

func (r statsRow) Container() string { return r.id[:12] }
func (r statsRow) ID() string        { return r.id }
func (r statsRow) Name() string      { return strings.TrimPrefix(r.name, "/") }
func (r statsRow) CPUPerc() string   { return fmt.Sprintf("%.2f%%", r.cpu) }
func (r statsRow) MemUsage() string {
	return units.BytesSize(r.mem) + " / " + units.BytesSize(r.limit)
}
func (r statsRow) MemPerc() string { return fmt.Sprintf("%.2f%%", r.memPercent) }
func (r statsRow) NetIO() string {
	return units.HumanSizeWithPrecision(r.netRx, 3) + " / " + units.HumanSizeWithPrecision(r.netTx, 3)
}
func (r statsRow) BlockIO() string {
	return units.HumanSizeWithPrecision(r.blkR, 3) + " / " + units.HumanSizeWithPrecision(r.blkW, 3)
}
func (r statsRow) PIDs() string { return fmt.Sprint(r.pids) }

var statsHeader = map[string]string{"Container": "CONTAINER ID", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
	"MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"}

func toRow(st container.StatsResponse) statsRow {
	r := statsRow{id: st.ID, name: st.Name, limit: float64(st.MemoryStats.Limit), pids: st.PidsStats.Current}
	cpuDelta := float64(st.CPUStats.CPUUsage.TotalUsage) - float64(st.PreCPUStats.CPUUsage.TotalUsage)
	sysDelta := float64(st.CPUStats.SystemUsage) - float64(st.PreCPUStats.SystemUsage)
	if sysDelta > 0 && cpuDelta > 0 {
		r.cpu = cpuDelta / sysDelta * float64(st.CPUStats.OnlineCPUs) * 100
	}
	r.mem = float64(st.MemoryStats.Usage)
	for _, k := range []string{"total_inactive_file", "inactive_file"} { // v1, v2
		if v, ok := st.MemoryStats.Stats[k]; ok && float64(v) < r.mem {
			r.mem -= float64(v)
			break
		}
	}
	if r.limit > 0 {
		r.memPercent = r.mem / r.limit * 100
	}
	for _, n := range st.Networks {
		r.netRx += float64(n.RxBytes)
		r.netTx += float64(n.TxBytes)
	}
	for _, b := range st.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(b.Op) {
		case "read":
			r.blkR += float64(b.Value)
		case "write":
			r.blkW += float64(b.Value)
		}
	}
	return r
}

func newStatsCommand(c *cli.Cli) *cobra.Command {
	var noStream, all bool
	var tmpl string
	cmd := &cobra.Command{
		Use:         "stats [OPTIONS] [CONTAINER...]",
		Short:       "Display a live stream of container(s) resource usage statistics",
		Annotations: cli.Aliases("container stats", "stats"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			names := args
			if len(names) == 0 {
				list, err := api.ContainerList(cmd.Context(), client.ContainerListOptions{All: all})
				if err != nil {
					return err
				}
				for _, s := range list.Items {
					names = append(names, s.ID)
				}
			}
			w := format.Writer{Out: c.Out(), Format: format.Format(tmpl),
				DefaultTable: "table {{.Container}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}", Header: statsHeader}
			var mu sync.Mutex
			latest := map[string]statsRow{}
			var wg sync.WaitGroup
			var firstErr error
			for _, n := range names {
				wg.Add(1)
				go func(n string) {
					defer wg.Done()
					res, err := api.ContainerStats(cmd.Context(), n, client.ContainerStatsOptions{Stream: !noStream})
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						return
					}
					defer res.Body.Close()
					dec := json.NewDecoder(res.Body)
					for {
						var st container.StatsResponse
						if dec.Decode(&st) != nil {
							return
						}
						mu.Lock()
						latest[n] = toRow(st)
						if !noStream {
							rows := make([]format.Row, 0, len(names))
							for _, m := range names {
								if r, ok := latest[m]; ok {
									rows = append(rows, r)
								}
							}
							fmt.Fprint(c.Out(), "\033[2J\033[H")
							_ = w.Write(rows)
						}
						mu.Unlock()
					}
				}(n)
			}
			wg.Wait()
			if firstErr != nil {
				return firstErr
			}
			if noStream {
				rows := make([]format.Row, 0, len(names))
				for _, m := range names {
					if r, ok := latest[m]; ok && r.id != "" {
						rows = append(rows, r)
					}
				}
				return w.Write(rows)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	fl.BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	fl.StringVar(&tmpl, "format", "", cli.FormatHelp)
	return cmd
}
