package procs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
)

// Top runs ps on the host and keeps the rows of the container's processes,
// as dockerd does.
func (s *Service) Top(ref, psArgs string) (*container.TopResponse, error) {
	p, err := s.containers.Process(ref)
	if err != nil {
		return nil, err
	}
	if !p.Running {
		return nil, fmt.Errorf("container %s is not running: %w", p.ID, errdefs.ErrConflict)
	}
	cg := p.Cgroup
	pids := map[int]bool{}
	for _, f := range []string{
		filepath.Join("/sys/fs/cgroup/pids", cg, "cgroup.procs"),
		filepath.Join("/sys/fs/cgroup", cg, "cgroup.procs"),
	} {
		if b, err := os.ReadFile(f); err == nil {
			for _, l := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(l); err == nil {
					pids[n] = true
				}
			}
			break
		}
	}
	if psArgs == "" {
		psArgs = "-ef"
	}
	out, err := exec.Command("ps", strings.Fields(psArgs)...).Output()
	if err != nil {
		return nil, fmt.Errorf("error running ps: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	resp, err := parsePS(string(out), pids)
	if err == nil {
		_ = s.containers.PublishEvent(p.ID, events.ActionTop)
	}
	return resp, err
}

func parsePS(out string, pids map[int]bool) (*container.TopResponse, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	titles := strings.Fields(lines[0])
	col := -1
	for i, t := range titles {
		if t == "PID" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("Couldn't find PID field in ps output: %w", errdefs.ErrInvalidArgument)
	}
	resp := &container.TopResponse{Titles: titles, Processes: [][]string{}}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			continue
		}
		pid, err := strconv.Atoi(f[col])
		if err != nil || !pids[pid] {
			continue
		}
		n := len(titles)
		if len(f) > n {
			f = append(f[:n-1], strings.Join(f[n-1:], " "))
		}
		resp.Processes = append(resp.Processes, f)
	}
	return resp, nil
}
