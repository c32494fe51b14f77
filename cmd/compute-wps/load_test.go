package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLoad: 100 concurrent clients on loopback for 30 s (LOAD_SECONDS),
// each submitting a small job now and then and polling status documents,
// as cwt clients do. Every request must succeed; the latency percentiles
// are logged for the record (go test -v -run TestLoad ./cmd/compute-wps).
func TestLoad(t *testing.T) {
	seconds := 30
	if s, err := strconv.Atoi(os.Getenv("LOAD_SECONDS")); err == nil && s > 0 {
		seconds = s
	}
	// All clients are the one anonymous user: lift the per-user queue limit.
	s := startServer(t, "WPS_LOG_LEVEL=warn", "WPS_USER_MAX_QUEUED=0")
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	v := fmt.Sprintf(`[{"uri":"%s","id":"pr|p"}]`, filepath.Join(s.samples, "pr_mon_360day.nc"))
	submit := s.base + "/wps?" + url.Values{"service": {"WPS"}, "request": {"Execute"}, "version": {"1.0.0"}, "identifier": {"CDAT.subset"},
		"DataInputs": {"variable=" + v + `;domain=[{"id":"d","time":{"start":0,"end":1,"crs":"indices"},"lat":{"start":0,"end":10,"crs":"values"}}];operation=[{"name":"CDAT.subset","result":"s","domain":"d","input":["p"]}]`}}.Encode()
	location := regexp.MustCompile(`statusLocation="([^"]+)"`)

	var mu sync.Mutex
	var submits, polls []time.Duration
	var errs []string
	record := func(kind string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err.Error())
			return
		}
		if kind == "submit" {
			submits = append(submits, d)
		} else {
			polls = append(polls, d)
		}
	}
	get := func(u string) (string, time.Duration, error) {
		began := time.Now()
		resp, err := client.Get(u)
		if err != nil {
			return "", 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return "", 0, err
		}
		if resp.StatusCode != 200 || strings.Contains(string(b), "ExceptionReport") {
			return "", 0, fmt.Errorf("GET %s: %d %.200s", u, resp.StatusCode, b)
		}
		return string(b), time.Since(began), nil
	}
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	for c := 0; c < 100; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var mine []string
			for i := 0; time.Now().Before(deadline); i++ {
				// One in ten requests submits a job; the others poll.
				if i%10 == 0 || len(mine) == 0 {
					body, d, err := get(submit)
					if err == nil {
						m := location.FindStringSubmatch(body)
						if m == nil {
							err = fmt.Errorf("no statusLocation in %.200s", body)
						} else {
							mine = append(mine, m[1])
						}
					}
					record("submit", d, err)
					continue
				}
				_, d, err := get(mine[i%len(mine)])
				record("poll", d, err)
				time.Sleep(20 * time.Millisecond)
			}
		}(c)
	}
	wg.Wait()
	pct := func(ds []time.Duration, p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[int(p*float64(len(ds)-1))]
	}
	t.Logf("load: 100 clients, %d s: %d submits (p50 %v, p99 %v), %d polls (p50 %v, p99 %v), %d errors",
		seconds, len(submits), pct(submits, .5), pct(submits, .99), len(polls), pct(polls, .5), pct(polls, .99), len(errs))
	if len(errs) > 0 {
		t.Errorf("%d requests failed; first: %s", len(errs), errs[0])
	}
	if len(submits) < 100 || len(polls) < 1000 {
		t.Errorf("too little load: %d submits, %d polls", len(submits), len(polls))
	}
}
