package netcdf

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The reader processes of these tests are this test binary: the package's
// init serves reads when started by a pool.

func newPool(t *testing.T, size int) *ReaderPool {
	t.Helper()
	p, err := NewReaderPool(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pids := p.pids()
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		checkGone(t, pids)
	})
	return p
}

// pids lists the reader processes running now.
func (p *ReaderPool) pids() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for r := range p.live {
		out = append(out, r.cmd.Process.Pid)
	}
	return out
}

// checkGone fails unless every process has exited and been reaped: no
// zombie is left.
func checkGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err == nil {
			t.Errorf("reader process %d is still there: %s", pid, b)
		}
	}
}

// cpuTicks is the CPU time a process has used, in clock ticks.
func cpuTicks(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return u + s
}

// whenBusy calls fn once the process has worked for two clock ticks more
// than it had when called: it is then in the middle of a read.
func whenBusy(pid int, fn func()) {
	base := cpuTicks(pid)
	go func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if n := cpuTicks(pid); n < 0 || n >= base+2 {
				break
			}
		}
		fn()
	}()
}

// writeSlowCube writes nt steps of a 180x360 float variable, deflated, of
// values that compress as poorly as real temperatures do, so that reading
// it takes a while (about a millisecond a step).
func writeSlowCube(t *testing.T, path string, nt int) {
	t.Helper()
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const ny, nx = 180, 360
	dt, _ := f.DefDim("time", 0)
	dy, _ := f.DefDim("lat", ny)
	dx, _ := f.DefDim("lon", nx)
	v, err := f.DefVar("tas", Float, []int{dt, dy, dx})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetChunking(v, []int{1, ny, nx}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetDeflate(v, false, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.EndDef(); err != nil {
		t.Fatal(err)
	}
	step := make([]float64, ny*nx)
	for s := range nt {
		for i := range step {
			step[i] = 250 + 30*math.Sin(float64(i)/977+float64(s)) + math.Sin(float64(i*i+s))
		}
		if err := f.Write(v, []int{s, 0, 0}, []int{1, ny, nx}, step); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReaderPoolReadsAsFile(t *testing.T) {
	dir := t.TempDir()
	rt := filepath.Join(dir, "rt.nc")
	writeRoundTrip(t, rt)
	cube := filepath.Join(dir, "cube.nc")
	writeCube(t, cube, 40, 180, 360, true)
	p := newPool(t, 2)
	if p.Size() != 2 {
		t.Errorf("Size = %d", p.Size())
	}
	type slab struct {
		path, name           string
		start, count, stride []int
	}
	slabs := []slab{
		{rt, "tas", []int{0, 0, 0}, []int{nTime, nLat, nLon}, nil},
		{rt, "tas", []int{0, 0, 1}, []int{3, 2, 2}, []int{2, 3, 2}},
		{rt, "quality", []int{1, 0}, []int{3, nLat}, nil},
		{rt, "height", nil, nil, nil},
		{rt, "tas", []int{0, 0, 0}, []int{0, nLat, nLon}, nil},
		// 20 MB as float64: more than the shared memory has at first.
		{cube, "tas", []int{0, 0, 0}, []int{40, 180, 360}, nil},
		{cube, "tas", []int{3, 10, 20}, []int{7, 50, 60}, nil},
	}
	direct := map[string]*File{}
	for _, path := range []string{rt, cube} {
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		direct[path] = f
	}
	check := func(s slab) error {
		n := 1
		for _, c := range s.count {
			n *= c
		}
		f := direct[s.path]
		v, err := f.Var(s.name)
		if err != nil {
			return err
		}
		want64, want32 := make([]float64, n), make([]float32, n)
		if err := f.Read(v.ID, s.start, s.count, s.stride, want64); err != nil {
			return err
		}
		if err := f.ReadFloat32(v.ID, s.start, s.count, s.stride, want32); err != nil {
			return err
		}
		pv := p.Var(s.path, s.name, 1<<20)
		got64, got32 := make([]float64, n), make([]float32, n)
		if err := pv.Read(context.Background(), s.start, s.count, s.stride, got64); err != nil {
			return err
		}
		if err := pv.ReadFloat32(context.Background(), s.start, s.count, s.stride, got32); err != nil {
			return err
		}
		for i := range want64 {
			if got64[i] != want64[i] || got32[i] != want32[i] {
				return errors.New(s.name + ": values differ at " + strconv.Itoa(i))
			}
		}
		return nil
	}
	for _, s := range slabs {
		if err := check(s); err != nil {
			t.Fatalf("%s %v: %v", s.name, s.count, err)
		}
	}
	// More goroutines than readers: they take turns.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				if err := check(slabs[(g+i)%len(slabs)]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(p.pids()); got != 2 {
		t.Errorf("%d reader processes, want 2", got)
	}
	if p.PeakRSS() <= 0 {
		t.Error("PeakRSS is not positive")
	}
}

func TestReaderPoolErrors(t *testing.T) {
	rt := filepath.Join(t.TempDir(), "rt.nc")
	writeRoundTrip(t, rt)
	p := newPool(t, 1)
	ctx := context.Background()
	err := p.Var(rt, "pr", -1).Read(ctx, []int{0}, []int{1}, nil, make([]float64, 1))
	if want := `netcdf: variable "pr" not found in ` + rt; err == nil || err.Error() != want || !IsNotFound(err) {
		t.Errorf("missing variable: %v, want %s", err, want)
	}
	tas := p.Var(rt, "tas", -1)
	err = tas.Read(ctx, []int{nTime, 0, 0}, []int{1, nLat, nLon}, nil, make([]float64, nLat*nLon))
	if want := `netcdf: read "tas" in ` + rt + `: NetCDF: Index exceeds dimension bound`; err == nil || err.Error() != want {
		t.Errorf("out of bounds: %v, want %s", err, want)
	}
	err = tas.ReadFloat32(ctx, []int{0, 0}, []int{1, nLat}, nil, make([]float32, nLat))
	if err == nil || !strings.Contains(err.Error(), "variable has 3 dimensions but start has 2") {
		t.Errorf("rank: %v", err)
	}
	err = tas.Read(ctx, []int{0, 0, 0}, []int{1, nLat, nLon}, nil, make([]float64, 3))
	if err == nil || !strings.Contains(err.Error(), "data has 3 elements but count selects 20") {
		t.Errorf("short dst: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing.nc")
	err = p.Var(missing, "tas", -1).Read(ctx, []int{0}, []int{1}, nil, make([]float64, 1))
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
	// None of these cost the reader its life.
	if err := tas.Read(ctx, []int{0, 0, 0}, []int{1, 1, 1}, nil, make([]float64, 1)); err != nil {
		t.Error(err)
	}
	if got := len(p.pids()); got != 1 {
		t.Errorf("%d reader processes, want 1", got)
	}
}

// TestReaderPoolCancel cancels a read in flight: it returns at once, its
// reader is killed and reaped, and the next read gets a new one.
func TestReaderPoolCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slow.nc")
	writeSlowCube(t, path, 300)
	p := newPool(t, 1)
	v := p.Var(path, "tas", -1)
	dst := make([]float32, 300*180*360)
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	before := p.pids()
	whenBusy(before[0], cancel)
	began := time.Now()
	err := v.ReadFloat32(ctx, []int{0, 0, 0}, []int{300, 180, 360}, nil, dst)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("read returned %v after %v, want context.Canceled", err, time.Since(began))
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("the cancelled read took %v", d)
	}
	checkGone(t, before)
	if err := v.ReadFloat32(context.Background(), []int{0, 0, 0}, []int{2, 180, 360}, nil, dst[:2*180*360]); err != nil {
		t.Fatalf("read after a cancelled one: %v", err)
	}
	if after := p.pids(); len(after) != 1 || after[0] == before[0] {
		t.Errorf("reader processes %v before, %v after", before, after)
	}
	// A context already done sends nothing.
	if err := v.ReadFloat32(ctx, []int{0, 0, 0}, []int{1, 1, 1}, nil, dst[:1]); !errors.Is(err, context.Canceled) {
		t.Errorf("read with a done context: %v", err)
	}
}

// TestReaderPoolCrash kills a reader in the middle of a read: the read
// fails, it does not hang, and the pool goes on with a new reader. A
// reader that dies while idle is replaced without an error.
func TestReaderPoolCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slow.nc")
	writeSlowCube(t, path, 300)
	p := newPool(t, 1)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	pid := p.pids()[0]
	whenBusy(pid, func() { syscall.Kill(pid, syscall.SIGKILL) })
	v := p.Var(path, "tas", -1)
	dst := make([]float32, 300*180*360)
	done := make(chan error, 1)
	go func() { done <- v.ReadFloat32(context.Background(), []int{0, 0, 0}, []int{300, 180, 360}, nil, dst) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "reader process") || !strings.Contains(err.Error(), "killed") {
			t.Errorf("read served by a killed reader: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the read hangs after its reader was killed")
	}
	checkGone(t, []int{pid})
	small := dst[:180*360]
	if err := v.ReadFloat32(context.Background(), []int{1, 0, 0}, []int{1, 180, 360}, nil, small); err != nil {
		t.Fatalf("read after a crash: %v", err)
	}
	idle := p.pids()
	if len(idle) != 1 || idle[0] == pid {
		t.Fatalf("reader processes %v after the crash of %d", idle, pid)
	}
	syscall.Kill(idle[0], syscall.SIGKILL)
	time.Sleep(50 * time.Millisecond)
	if err := v.ReadFloat32(context.Background(), []int{2, 0, 0}, []int{1, 180, 360}, nil, small); err != nil {
		t.Fatalf("read after an idle reader died: %v", err)
	}
	checkGone(t, idle)
}

func TestReaderPoolClose(t *testing.T) {
	rt := filepath.Join(t.TempDir(), "rt.nc")
	writeRoundTrip(t, rt)
	p, err := NewReaderPool(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	pids := p.pids()
	if len(pids) != 2 {
		t.Fatalf("Start ran %v", pids)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	checkGone(t, pids)
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	err = p.Var(rt, "tas", -1).Read(context.Background(), []int{0, 0, 0}, []int{1, 1, 1}, nil, make([]float64, 1))
	if !errors.Is(err, ErrReadersUnavailable) {
		t.Errorf("read after Close: %v", err)
	}
	if _, err := NewReaderPool(0); err == nil {
		t.Error("a pool of no process was made")
	}
}

// TestReaderLeavesParentFilesAlone starts readers while the parent has a
// file open for writing (libnetcdf opens files without close-on-exec): once
// the parent closes it, it can open it again, which HDF5's file lock would
// refuse if a reader had kept the descriptor.
func TestReaderLeavesParentFilesAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.nc")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f.DefDim("x", 3)
	v, err := f.DefVar("v", Double, []int{d})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.EndDef(); err != nil {
		t.Fatal(err)
	}
	p := newPool(t, 2)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(v, []int{0}, []int{3}, []float64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := Open(path)
	if err != nil {
		t.Fatalf("reopening a file written while readers started: %v", err)
	}
	g.Close()
	got := make([]float64, 3)
	if err := p.Var(path, "v", -1).Read(context.Background(), []int{0}, []int{3}, nil, got); err != nil || got[2] != 3 {
		t.Errorf("read through a reader: %v %v", got, err)
	}
}
