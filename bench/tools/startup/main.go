// Command startup times a daemon's start-up as its clients see it: it
// launches the daemon command given after "--", dials its unix socket in a
// tight loop and records when the first `GET /_ping` is answered, then
// when `GET /containers/json` first lists every running container it
// expects (restore done), then stops the daemon with SIGTERM and waits for
// it. It repeats that N times and prints the median and p90 of each. A
// measurement for bench/startup.sh, not a test.
//
//	startup -sock /tmp/x/berth.sock -n 10 -running 500 -- berthd --data-root …
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"time"
)

func main() {
	sock := flag.String("sock", "", "the daemon's unix socket")
	n := flag.Int("n", 10, "start-ups to time")
	running := flag.Int("running", -1, "running containers to wait for in /containers/json (-1: do not wait)")
	flag.Parse()
	args := flag.Args()
	if *sock == "" || len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: startup -sock PATH [-n N] [-running K] -- DAEMON ARGS…")
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", *sock)
		},
		DisableKeepAlives: true,
	}, Timeout: 2 * time.Second}
	var pings, restores []time.Duration
	for i := 0; i < *n; i++ {
		ping, restore, err := startOnce(client, args, *running)
		if err != nil {
			fmt.Fprintln(os.Stderr, "startup:", err)
			os.Exit(1)
		}
		pings = append(pings, ping)
		if *running >= 0 {
			restores = append(restores, restore)
		}
	}
	fmt.Printf("first /_ping answered: %s\n", summary(pings))
	if *running >= 0 {
		fmt.Printf("all %d running listed: %s\n", *running, summary(restores))
	}
}

// startOnce launches the daemon and times its first answers.
func startOnce(client *http.Client, args []string, running int) (ping, restore time.Duration, err error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	deadline := t0.Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			return 0, 0, fmt.Errorf("daemon exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("no /_ping answer in 30s")
		}
		if resp, err := client.Get("http://d/_ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ping = time.Since(t0)
				break
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	if running < 0 {
		return ping, 0, nil
	}
	for time.Now().Before(deadline) {
		if n, err := countRunning(client); err == nil && n >= running {
			return ping, time.Since(t0), nil
		}
		time.Sleep(time.Millisecond)
	}
	return 0, 0, fmt.Errorf("fewer than %d running containers listed after 30s", running)
}

func countRunning(client *http.Client) (int, error) {
	resp, err := client.Get("http://d/containers/json")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var list []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return 0, err
	}
	return len(list), nil
}

// summary formats the median and p90 of ds in milliseconds.
func summary(ds []time.Duration) string {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	p90 := ds[(len(ds)*9+9)/10-1]
	return fmt.Sprintf("median %.1f ms, p90 %.1f ms (n=%d)", ms(ds[len(ds)/2]), ms(p90), len(ds))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
