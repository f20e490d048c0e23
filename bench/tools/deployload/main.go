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
// The report is JSON on stdout; the version changes are also lines
// "switch UNIXNANO FROM TO" on stderr, at the end. A change is the first
// answer of a new version (by when its request started) that the next
// answers confirm, so that a slow request begun before a switch does not
// count as a change back; its time is when that answer came.
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
	mu     sync.Mutex
	r      report
	oks    []int64
	sample []sample // the new-connection workers' answers
}

type sample struct {
	began, at int64
	version   string
}

func (s *state) record(began, at time.Time, version string, err error, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r.Requests++
	if err != nil {
		s.r.Failed++
		s.r.FailedBy[kind(err)]++
		if len(s.r.Examples) < 10 {
			kind := "new connection"
			if !fresh {
				kind = "kept alive"
			}
			s.r.Examples = append(s.r.Examples, fmt.Sprintf("%d (%s, began %d): %v", at.UnixNano(), kind, began.UnixNano(), err))
		}
		return
	}
	s.r.OK++
	s.r.Versions[version]++
	s.oks = append(s.oks, at.UnixNano())
	if fresh {
		s.sample = append(s.sample, sample{began.UnixNano(), at.UnixNano(), version})
	}
}

// changes finds the version changes in the samples (see the package doc).
func (s *state) changes() {
	const confirm = 5
	sort.Slice(s.sample, func(i, j int) bool { return s.sample[i].began < s.sample[j].began })
	cur := ""
	for i, x := range s.sample {
		if x.version == cur {
			continue
		}
		ok := true
		for j := i + 1; j < len(s.sample) && j <= i+confirm; j++ {
			ok = ok && s.sample[j].version == x.version
		}
		if !ok {
			continue
		}
		if cur != "" {
			c := change{At: x.at, From: cur, To: x.version, Pair: cur + "->" + x.version}
			s.r.Changes = append(s.r.Changes, c)
			fmt.Fprintf(os.Stderr, "switch %d %s %s\n", c.At, c.From, c.To)
		}
		cur = x.version
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
			began := time.Now()
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
			s.record(began, time.Now(), version, err, fresh)
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
	s.changes()
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
