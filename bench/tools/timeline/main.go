// Command timeline merges the marks that berth's processes write when
// BERTH_TRACE names a file (internal/trace; the monitor writes the same
// lines from C) into one table: each step of a traced command, in order,
// with its median time since the command was exec'd, the wall time since
// the step before, and the CPU its process used since that process's own
// previous mark. Runs are split at the "exec" marks bench/timeline.sh
// writes before each command; medians are over the runs. A measurement
// for bench/timeline.sh, not a test.
//
//	timeline -trace FILE
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type mark struct {
	wall, cpu int64
	pid       string
	proc      string
	step      string
}

type row struct {
	key      string // process + step + occurrence: the same step in every run
	proc     string
	step     string
	at, wall []float64 // ms
	cpu      []float64 // ms; NaN-free: only where the process marked before
	order    float64
}

func main() {
	path := flag.String("trace", "", "the trace file")
	flag.Parse()
	runs, err := readRuns(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeline:", err)
		os.Exit(1)
	}
	if len(runs) == 0 {
		fmt.Fprintln(os.Stderr, "timeline: no runs in", *path)
		os.Exit(1)
	}
	rows := map[string]*row{}
	var totals, cliCPU, daemonCPU, monitorCPU []float64
	for _, run := range runs {
		sort.SliceStable(run, func(i, j int) bool { return run[i].wall < run[j].wall })
		t0 := run[0].wall
		prevCPU := map[string]int64{} // pid → its CPU at its previous mark in this run
		seen := map[string]int{}
		var procCPU = map[string]float64{}
		for i, m := range run {
			k := m.proc + "\x00" + m.step
			seen[k]++
			key := fmt.Sprintf("%s#%d", k, seen[k])
			r := rows[key]
			if r == nil {
				r = &row{key: key, proc: m.proc, step: m.step}
				rows[key] = r
			}
			r.at = append(r.at, ms(m.wall-t0))
			if i > 0 {
				r.wall = append(r.wall, ms(m.wall-run[i-1].wall))
			}
			if c, ok := prevCPU[m.pid]; ok {
				r.cpu = append(r.cpu, ms(m.cpu-c))
				procCPU[m.proc] += ms(m.cpu - c)
			} else if m.proc != "berthd" { // a new process: all it used so far
				r.cpu = append(r.cpu, ms(m.cpu))
				procCPU[m.proc] += ms(m.cpu)
			}
			prevCPU[m.pid] = m.cpu
		}
		totals = append(totals, ms(run[len(run)-1].wall-t0))
		cliCPU = append(cliCPU, procCPU["berth"])
		daemonCPU = append(daemonCPU, procCPU["berthd"])
		monitorCPU = append(monitorCPU, procCPU["berth-monitor"]+procCPU["container"])
	}
	var list []*row
	for _, r := range rows {
		r.order = median(r.at)
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].order < list[j].order })
	fmt.Printf("%d runs; medians in ms. at: since the shell exec'd the command; wall: since the step above; cpu: the process's own CPU since its previous mark\n", len(runs))
	fmt.Printf("%8s %8s %8s  %-14s %s\n", "at", "wall", "cpu", "process", "step")
	for _, r := range list {
		if len(r.at) < len(runs)/2 { // a step only some runs had (a retry, a late mark)
			continue
		}
		fmt.Printf("%8.2f %8s %8s  %-14s %s\n", r.order, fmtMed(r.wall), fmtMed(r.cpu), r.proc, r.step)
	}
	fmt.Printf("\ntotal %.2f ms (p90 %.2f); CPU: berth %.2f, berthd %.2f, monitor and container init %.2f ms\n",
		median(totals), p90(totals), median(cliCPU), median(daemonCPU), median(monitorCPU))
}

func readRuns(path string) ([][]mark, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var all []mark
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.SplitN(sc.Text(), " ", 5)
		if len(fs) != 5 {
			continue
		}
		wall, err1 := strconv.ParseInt(fs[0], 10, 64)
		cpu, err2 := strconv.ParseInt(fs[1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		step := longID.ReplaceAllString(fs[4], "{id}") // the same step in every run
		all = append(all, mark{wall: wall, cpu: cpu, pid: fs[3] + "/" + fs[2], proc: fs[3], step: step})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].wall < all[j].wall })
	var runs [][]mark
	for _, m := range all {
		if m.proc == "sh" && m.step == "exec" {
			runs = append(runs, nil)
		}
		if len(runs) > 0 {
			runs[len(runs)-1] = append(runs[len(runs)-1], m)
		}
	}
	return runs, nil
}

var longID = regexp.MustCompile(`[0-9a-f]{64}`)

func ms(ns int64) float64 { return float64(ns) / 1e6 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func p90(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	k := (9*len(s) + 9) / 10
	if k < 1 {
		k = 1
	}
	return s[k-1]
}

func fmtMed(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	return strconv.FormatFloat(median(v), 'f', 2, 64)
}
