// deployload is bench/deploy.sh's load generator: it sends a steady
// stream of GETs to a URL until its stdin closes, from workers that open a
// new connection per request and from workers that keep theirs alive, and
// reports what failed (refused, reset, timed out, 5xx, an empty answer),
// the longest gap between two successful responses, and when the answers
// changed version (the first response of each new version, from the
// new-connection workers).
//
//	deployload -url http://127.0.0.1:8080/ [-new 4] [-keepalive 2] [-every 2ms]
//
// The report is JSON on stdout; the version changes are lines
// "switch UNIXNANO FROM TO" on stderr as they happen.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

type report struct {
	Requests     int            `json:"requests"`
	OK           int            `json:"ok"`
	Failed       int            `json:"failed"`
	FailedBy     map[string]int `json:"failed_by"`
	LongestGapMs float64        `json:"longest_gap_ms"`
	Versions     map[string]int `json:"versions"`
	Changes      []change       `json:"changes"`
	Examples     []string       `json:"examples,omitempty"`
}

type change struct {
	At       int64  `json:"at_unix_nano"`
	From, To string `json:"-"`
	Pair     string `json:"change"`
}

type state struct {
	mu       sync.Mutex
	r        report
	oks      []int64
	last     string // the version the new-connection workers last saw
	lastSeen int64
}

func (s *state) record(at time.Time, version string, err error, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r.Requests++
	if err != nil {
		s.r.Failed++
		s.r.FailedBy[kind(err)]++
		if len(s.r.Examples) < 10 {
			s.r.Examples = append(s.r.Examples, err.Error())
		}
		return
	}
	s.r.OK++
	s.r.Versions[version]++
	s.oks = append(s.oks, at.UnixNano())
	// a new version: once the first request that started after the
	// last one of the old version answers with it
	if fresh && version != s.last && at.UnixNano() > s.lastSeen {
		if s.last != "" {
			c := change{At: at.UnixNano(), From: s.last, To: version, Pair: s.last + "->" + version}
			s.r.Changes = append(s.r.Changes, c)
			fmt.Fprintf(os.Stderr, "switch %d %s %s\n", c.At, c.From, c.To)
		}
		s.last = version
	}
	if fresh && version == s.last {
		s.lastSeen = at.UnixNano()
	}
}

func kind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), strings.Contains(err.Error(), "connection reset"):
		return "reset"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.HasPrefix(err.Error(), "status "):
		return "status"
	}
	return "other"
}

func main() {
	url := flag.String("url", "", "URL to GET")
	fresh := flag.Int("new", 4, "workers that open a new connection per request")
	keep := flag.Int("keepalive", 2, "workers that keep their connection alive")
	every := flag.Duration("every", 2*time.Millisecond, "pause between a worker's requests")
	flag.Parse()
	if *url == "" {
		flag.Usage()
		os.Exit(2)
	}
	s := &state{r: report{FailedBy: map[string]int{}, Versions: map[string]int{}}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	worker := func(c *http.Client, fresh bool) {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := c.Get(*url)
			version := ""
			if err == nil {
				b, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				version, err = strings.TrimSpace(string(b)), rerr
				if err == nil && (resp.StatusCode >= 500 || version == "") {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			s.record(time.Now(), version, err, fresh)
			time.Sleep(*every)
		}
	}
	for i := 0; i < *fresh; i++ {
		wg.Add(1)
		go worker(&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}, true)
	}
	for i := 0; i < *keep; i++ {
		wg.Add(1)
		go worker(&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}, false)
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until the bench closes it
	close(stop)
	wg.Wait()
	sort.Slice(s.oks, func(i, j int) bool { return s.oks[i] < s.oks[j] })
	for i := 1; i < len(s.oks); i++ {
		if g := float64(s.oks[i]-s.oks[i-1]) / 1e6; g > s.r.LongestGapMs {
			s.r.LongestGapMs = g
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(s.r)
}
