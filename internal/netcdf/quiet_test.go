package netcdf

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestNoHDF5Diagnostics runs readers pinned to distinct OS threads in a child
// process and checks its stderr: HDF5 must not print an error stack for each
// attribute libnetcdf probes for on threads other than the first.
func TestNoHDF5Diagnostics(t *testing.T) {
	if path := os.Getenv("NETCDF_TEST_THREADS_FILE"); path != "" {
		readOnThreads(t, path)
		return
	}
	path := filepath.Join(t.TempDir(), "cube.nc")
	writeCube(t, path, 3, 4, 5, true)
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoHDF5Diagnostics$", "-test.count=1")
	cmd.Env = append(os.Environ(), "NETCDF_TEST_THREADS_FILE="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("child: %v\n%s%s", err, out, stderr.String())
	}
	if s := stderr.String(); s != "" {
		t.Errorf("libnetcdf wrote to stderr:\n%s", s)
	}
}

func readOnThreads(t *testing.T, path string) {
	var wg sync.WaitGroup
	hold := make(chan struct{})
	var ready sync.WaitGroup
	for range 4 {
		ready.Add(1)
		wg.Go(func() {
			// Each goroutine keeps its own thread until all are done.
			runtime.LockOSThread()
			ready.Done()
			<-hold
			if err := checkCube(path, 3, 4, 5); err != nil {
				t.Error(err)
			}
		})
	}
	ready.Wait()
	close(hold)
	wg.Wait()
}
