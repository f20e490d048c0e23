// Command pullstorm loads a registry as many clients pulling one image at
// once would: each client fetches the manifest and every blob it names,
// again and again, for a fixed time. It prints the bytes per second served
// and the median and p99 time of one whole pull. A measurement for
// bench/registry.sh, not a test.
//
//	pullstorm -registry http://127.0.0.1:5000 -image bench/big:1 -c 50 -d 20s
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

type manifest struct {
	Config struct{ Digest string }   `json:"config"`
	Layers []struct{ Digest string } `json:"layers"`
}

func main() {
	reg := flag.String("registry", "http://127.0.0.1:5000", "registry base URL")
	image := flag.String("image", "", "repository:tag")
	clients := flag.Int("c", 50, "concurrent clients")
	dur := flag.Duration("d", 20*time.Second, "how long to run")
	flag.Parse()
	repo, tag := *image, "latest"
	for i := len(repo) - 1; i >= 0 && repo[i] != '/'; i-- {
		if repo[i] == ':' {
			repo, tag = repo[:i], repo[i+1:]
			break
		}
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: 0}
	hc := &http.Client{Transport: tr}
	accept := "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
	get := func(path string, w io.Writer) (int64, error) {
		req, _ := http.NewRequest("GET", *reg+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return io.Copy(w, resp.Body)
	}
	var bytes atomic.Int64
	var mu sync.Mutex
	var pulls []time.Duration
	var failed atomic.Int64
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				var b bytesWriter
				if _, err := get("/v2/"+repo+"/manifests/"+tag, &b); err != nil {
					failed.Add(1)
					continue
				}
				var m manifest
				if err := json.Unmarshal(b.b, &m); err != nil {
					failed.Add(1)
					continue
				}
				ok := true
				for _, d := range append([]string{m.Config.Digest}, digests(m)...) {
					n, err := get("/v2/"+repo+"/blobs/"+d, io.Discard)
					bytes.Add(n)
					if err != nil {
						ok = false
						break
					}
				}
				if !ok {
					failed.Add(1)
					continue
				}
				mu.Lock()
				pulls = append(pulls, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(pulls, func(i, j int) bool { return pulls[i] < pulls[j] })
	if len(pulls) == 0 {
		fmt.Fprintln(os.Stderr, "no pull completed")
		os.Exit(1)
	}
	p := func(q float64) time.Duration { return pulls[min(len(pulls)-1, int(q*float64(len(pulls))))] }
	fmt.Printf("pulls %d failed %d MiB/s %.0f median_ms %.0f p99_ms %.0f\n", len(pulls), failed.Load(),
		float64(bytes.Load())/elapsed.Seconds()/(1<<20), p(0.5).Seconds()*1000, p(0.99).Seconds()*1000)
}

func digests(m manifest) []string {
	out := make([]string, 0, len(m.Layers))
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
