package processes

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/sample"
)

// TestPlainHTTPInputs reads inputs that are NetCDF files on a plain web
// server (not OPeNDAP): they are downloaded, with retries on transient
// errors and clear messages on permanent ones.
func TestPlainHTTPInputs(t *testing.T) {
	data, env := setup(t)
	var failures atomic.Int32
	failures.Store(1)
	var mu sync.Mutex
	var requests []string
	files := http.FileServer(http.Dir(data))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/flaky/tas_day_2000.nc":
			if failures.Add(-1) >= 0 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			r.URL.Path = "/tas_day_2000.nc"
		case "/page.nc":
			fmt.Fprint(w, "<html><body>Please log in</body></html>")
			return
		case "/private.nc":
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	env.Access.Hosts = []string{strings.TrimPrefix(srv.URL, "http://")}
	env.TempDir = t.TempDir()
	op := `[{"name": "CDAT.subset", "result": "s", "input": ["v"], "domain": "d"}]`
	dom := `[{"id": "d", "time": {"start": 3, "end": 5, "crs": "indices"}}]`
	run := func(uri string) ([]Result, error) {
		v := fmt.Sprintf(`[{"uri": %q, "id": "tas|v"}]`, uri)
		return Default().Run(context.Background(), parse(t, "CDAT.subset", v, dom, op), env)
	}
	for _, uri := range []string{srv.URL + "/tas_day_2000.nc", srv.URL + "/flaky/tas_day_2000.nc", srv.URL + "/tas_day_2000.nc#mode=bytes"} {
		res, err := run(uri)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		f, err := netcdf.Open(res[0].Path)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := f.Var("tas")
		got := make([]float64, 1)
		f.Read(v.ID, []int{1, 2, 3}, []int{1, 1, 1}, nil, got)
		f.Close()
		if got[0] != sample.Tas(4, 2, 3) {
			t.Errorf("%s: value %v, want %v", uri, got[0], sample.Tas(4, 2, 3))
		}
	}
	mu.Lock()
	dds := 0
	for _, r := range requests {
		if r == "/tas_day_2000.nc.dds" {
			dds++
		}
	}
	mu.Unlock()
	if dds != 1 {
		t.Errorf("OPeNDAP was tried %d times on /tas_day_2000.nc, want once (not for #mode=bytes): %v", dds, requests)
	}
	if left, _ := os.ReadDir(env.TempDir); len(left) != 0 {
		t.Errorf("downloaded copies left behind: %v", left)
	}
	for _, c := range []struct{ path, want string }{
		{"/nope.nc", "was not found (HTTP 404)"},
		{"/page.nc", "is neither an OPeNDAP dataset nor a NetCDF file (it starts with \"<html><b\")"},
		{"/private.nc", "refused access (HTTP 401)"},
	} {
		_, err := run(srv.URL + c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: %v, want %q", c.path, err, c.want)
		}
	}
	env.MaxReadBytes = 1 << 20
	if _, err := run(srv.URL + "/tas_day_2000.nc#mode=bytes"); err == nil || !strings.Contains(err.Error(), "more than this server's limit of 1.0 MiB") {
		t.Errorf("over the limit: %v", err)
	}
}
