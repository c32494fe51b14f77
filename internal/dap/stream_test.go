package dap_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/netcdf"
)

// The big file: float32 tas(time, lat, lon), 104 MB of data.
const (
	bigTime = 400
	bigLat  = 180
	bigLon  = 360
	bigData = 4 * bigTime * bigLat * bigLon
)

var big struct {
	once sync.Once
	dir  string
	err  error
}

// bigFile writes the big file once per test binary, one time step per
// Write, and returns the directory that holds it as big.nc.
func bigFile(tb testing.TB) string {
	tb.Helper()
	big.once.Do(func() {
		big.dir, big.err = os.MkdirTemp("", "dap-big-")
		if big.err == nil {
			big.err = writeBig(filepath.Join(big.dir, "big.nc"))
		}
	})
	if big.err != nil {
		tb.Fatal(big.err)
	}
	return big.dir
}

func removeBigFile() {
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
}

func writeBig(path string) error {
	f, err := netcdf.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dt, err1 := f.DefDim("time", 0)
	dy, err2 := f.DefDim("lat", bigLat)
	dx, err3 := f.DefDim("lon", bigLon)
	v, err4 := f.DefVar("tas", netcdf.Float, []int{dt, dy, dx})
	for _, err := range []error{err1, err2, err3, err4, f.SetChunking(v, []int{1, bigLat, bigLon}), f.EndDef()} {
		if err != nil {
			return err
		}
	}
	step := make([]float64, bigLat*bigLon)
	for t := range bigTime {
		for i := range step {
			step[i] = float64(t) + float64(i%4096)/8
		}
		if err := f.Write(v, []int{t, 0, 0}, []int{1, bigLat, bigLon}, step); err != nil {
			return err
		}
	}
	return f.Close()
}

// bigDDS is the DDS that precedes the data of big.nc.dods?tas.
const bigDDS = "Dataset {\n    Float32 tas[time = 400][lat = 180][lon = 360];\n} big.nc;\nData:\n"

// A whole 104 MB variable streams to the client while the server holds a
// few MiB: it reads and encodes a slab at a time.
func TestStreamingMemory(t *testing.T) {
	dir := bigFile(t)
	srv := local(t, dir, 0)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	resp, err := http.Get(srv.URL + "/dap/big.nc.dods?tas")
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, len(bigDDS)+8)
	_, err = io.ReadFull(resp.Body, head)
	n, err2 := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	close(stop)
	wg.Wait()
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != "" {
		t.Errorf("status %d, Content-Length %q", resp.StatusCode, resp.Header.Get("Content-Length"))
	}
	if !strings.HasPrefix(string(head), bigDDS) || n != bigData {
		t.Errorf("response starts %q and has %d data bytes, want %d", head, n, bigData)
	}
	extra := int64(peak.Load()) - int64(base)
	t.Logf("peak heap in use %.1f MiB above the %.1f MiB before the request", float64(extra)/(1<<20), float64(base)/(1<<20))
	if extra > 32<<20 {
		t.Errorf("serving %d MB took %.1f MiB of heap; want under 32 MiB", bigData/1000000, float64(extra)/(1<<20))
	}
}

func TestMaxBytes(t *testing.T) {
	dir := bigFile(t)
	srv := local(t, dir, 50<<20)
	for _, ext := range []string{"dods", "ascii"} {
		resp, body := get(t, srv.URL+"/dap/big.nc."+ext+"?tas")
		checkError(t, resp, body, 413, fmt.Sprintf("about %d bytes (98.9 MiB)", bigData+8), "more than the 52428800 bytes (50.0 MiB)")
	}
	// Everything is too much as well.
	resp, body := get(t, srv.URL+"/dap/big.nc.dods")
	checkError(t, resp, body, 413, "request a smaller hyperslab")
	// A hyperslab under the limit goes through; its DDS can always be had.
	resp, body = get(t, srv.URL+"/dap/big.nc.dods?tas[0:99][0:179][0:359]")
	if resp.StatusCode != 200 || len(body) != len(strings.Replace(bigDDS, "time = 400", "time = 100", 1))+8+bigData/4 {
		t.Errorf("status %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := get(t, srv.URL+"/dap/big.nc.dds"); resp.StatusCode != 200 {
		t.Errorf("DDS status %d", resp.StatusCode)
	}
	// HEAD answers as GET would, without reading the data.
	for ce, status := range map[string]int{"tas": 413, "tas[0:99][0:179][0:359]": 200} {
		resp, err := http.Head(srv.URL + "/dap/big.nc.dods?" + ce)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Errorf("HEAD %s: status %d, want %d", ce, resp.StatusCode, status)
		}
	}
}

// BenchmarkDODS serves the whole 104 MB variable over loopback to a client
// that discards it; compare with BenchmarkDirectRead.
func BenchmarkDODS(b *testing.B) {
	srv := local(b, bigFile(b), 0)
	b.SetBytes(bigData)
	for b.Loop() {
		resp, err := http.Get(srv.URL + "/dap/big.nc.dods?tas")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != int64(len(bigDDS))+8+bigData {
			b.Fatalf("%d bytes, %v", n, err)
		}
	}
}

// BenchmarkDirectRead reads the same variable with File.Read in slabs of
// the size the handler reads.
func BenchmarkDirectRead(b *testing.B) {
	f, err := netcdf.Open(filepath.Join(bigFile(b), "big.nc"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	const steps = (1 << 19) / (bigLat * bigLon)
	buf := make([]float64, steps*bigLat*bigLon)
	b.SetBytes(bigData)
	for b.Loop() {
		for t := 0; t < bigTime; t += steps {
			n := min(steps, bigTime-t)
			if err := f.Read(0, []int{t, 0, 0}, []int{n, bigLat, bigLon}, nil, buf[:n*bigLat*bigLon]); err != nil {
				b.Fatal(err)
			}
		}
	}
}
