package ops

import (
	"context"
	"errors"
	"math"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/regrid"
	"github.com/computewps/computewps/internal/workflow"
)

// The reader processes of these tests are this test binary (package
// netcdf's init serves reads when a pool starts it).

func withReaderPool(t *testing.T, size int) *netcdf.ReaderPool {
	t.Helper()
	p, err := netcdf.NewReaderPool(size)
	if err != nil {
		t.Fatal(err)
	}
	UseReaderPool(p)
	t.Cleanup(func() {
		UseReaderPool(nil)
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

func sameOrBothNaN(a, b []float64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return i
		}
	}
	return -1
}

// writeGappy writes a deflated float tas(time, lat, lon) of odd sizes with
// its fill value and NaN scattered through it, and CF coordinates.
func writeGappy(t *testing.T, path string) {
	t.Helper()
	const nt, ny, nx = 9, 5, 7
	f, err := netcdf.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	td, _ := f.DefDim("time", 0)
	yd, _ := f.DefDim("lat", ny)
	xd, _ := f.DefDim("lon", nx)
	tv, _ := f.DefVar("time", netcdf.Double, []int{td})
	yv, _ := f.DefVar("lat", netcdf.Double, []int{yd})
	xv, _ := f.DefVar("lon", netcdf.Double, []int{xd})
	v, err := f.DefVar("tas", netcdf.Float, []int{td, yd, xd})
	must(err)
	must(f.PutAttr(tv, netcdf.Attr{Name: "units", Value: "days since 2000-01-01"}))
	must(f.PutAttr(yv, netcdf.Attr{Name: "units", Value: "degrees_north"}))
	must(f.PutAttr(xv, netcdf.Attr{Name: "units", Value: "degrees_east"}))
	must(f.PutAttr(v, netcdf.Attr{Name: "_FillValue", Value: []float32{1e20}}))
	must(f.PutAttr(v, netcdf.Attr{Name: "missing_value", Value: []float32{1e20}}))
	must(f.SetChunking(v, []int{1, ny, nx}))
	must(f.SetDeflate(v, true, 1))
	must(f.EndDef())
	must(f.Write(yv, []int{0}, []int{ny}, []float64{-60, -30, 0, 30, 60}))
	must(f.Write(xv, []int{0}, []int{nx}, []float64{0, 50, 100, 150, 200, 250, 300}))
	vals := make([]float64, nt*ny*nx)
	for i := range vals {
		vals[i] = float64(float32(250 + 10*math.Sin(float64(i))))
		switch {
		case i%11 == 3, i < 4:
			vals[i] = 1e20
		case i%13 == 5:
			vals[i] = math.NaN()
		}
	}
	for s := range nt {
		must(f.Write(tv, []int{s}, []int{1}, []float64{float64(s)}))
	}
	must(f.Write(v, []int{0, 0, 0}, []int{nt, ny, nx}, vals))
}

// TestFloatReadsAsDouble checks the float32 path of fileArray.Read (read
// as float32, widened in place, fill values marked in the same pass)
// against libnetcdf's own conversion, for slabs of every length modulo 4.
func TestFloatReadsAsDouble(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gappy.nc")
	writeGappy(t, path)
	a := open(t, path, "tas")
	f, err := netcdf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, _ := f.Var("tas")
	for _, c := range []struct{ start, count, stride []int }{
		{[]int{0, 0, 0}, []int{9, 5, 7}, nil},
		{[]int{0, 0, 0}, []int{1, 1, 1}, nil},
		{[]int{1, 2, 3}, []int{2, 1, 2}, nil},
		{[]int{0, 1, 0}, []int{3, 2, 3}, []int{3, 2, 3}},
		{[]int{2, 0, 1}, []int{5, 5, 6}, nil},
	} {
		n := product(c.count)
		want := make([]float64, n)
		if err := f.Read(v.ID, c.start, c.count, c.stride, want); err != nil {
			t.Fatal(err)
		}
		for i, x := range want {
			if x == float64(float32(1e20)) {
				want[i] = math.NaN()
			}
		}
		got := make([]float64, n)
		if err := a.Read(context.Background(), c.start, c.count, c.stride, got); err != nil {
			t.Fatal(err)
		}
		if i := sameOrBothNaN(got, want); i >= 0 {
			t.Errorf("%v: value %d is %v, libnetcdf reads %v", c, i, got[i], want[i])
		}
	}
}

// TestRawAccumulators checks that summing float32 rows as they are
// widened gives what summing the widened rows gives, to the bit.
func TestRawAccumulators(t *testing.T) {
	const m = float64(float32(1e20))
	for _, n := range []int{1, 3, 4, 7, 8, 33} {
		raw := make([]float32, n)
		for i := range raw {
			raw[i] = float32(200 + 7*math.Cos(float64(i*n)))
			switch {
			case i%5 == 2:
				raw[i] = float32(m)
			case i%7 == 6:
				raw[i] = float32(math.NaN())
			}
		}
		wide := make([]float64, n)
		widen(wide, raw, m)
		wv := make([]float64, n)
		for i := range wv {
			wv[i] = 1 + float64(i%3)
		}
		for _, weighted := range []bool{false, true} {
			var w []float64
			wsum := float64(n)
			if weighted {
				w, wsum = wv, weightedSum(wv, nil)
			}
			// Rows that land on as many cells, then rows reduced to one.
			a := newAccumulator(Mean, n, weighted, 3).(*sumAcc)
			b := newAccumulator(Mean, n, weighted, 3).(*sumAcc)
			c := newAccumulator(Mean, 2, weighted, 0).(*sumAcc)
			d := newAccumulator(Mean, 2, weighted, 0).(*sumAcc)
			for range 3 {
				a.kept(0, wide, w, 0.5)
				b.kept32(0, raw, w, 0.5, m)
				c.reduced(1, wide, w, wsum, 2)
				d.reduced32(1, raw, w, wsum, 2, m)
			}
			c.reduced(0, wide[:n-n/2], nil, float64(n-n/2), 1)
			d.reduced32(0, raw[:n-n/2], nil, float64(n-n/2), 1, m)
			for _, pair := range [][2]*sumAcc{{a, b}, {c, d}} {
				ra, rb := make([]float64, len(pair[0].sum)), make([]float64, len(pair[0].sum))
				pair[0].finish(ra)
				pair[1].finish(rb)
				if i := sameOrBothNaN(ra, rb); i >= 0 {
					t.Errorf("n=%d weighted=%v: cell %d is %v from float64 rows, %v from float32 rows", n, weighted, i, ra[i], rb[i])
				}
			}
		}
	}
	// widen in place: the float32 values in the first half of the buffer.
	buf := make([]float64, 11)
	src := unsafe.Slice((*float32)(unsafe.Pointer(&buf[0])), 11)
	for i := range src {
		src[i] = float32(i) + 0.5
	}
	src[6] = float32(m)
	widen(buf, src, m)
	for i, x := range buf {
		if want := float64(i) + 0.5; x != want && !(i == 6 && math.IsNaN(x)) {
			t.Errorf("widened in place: value %d is %v", i, x)
		}
	}
}

// TestMeanWithGaps checks reductions that take float32 rows against sums
// made here, with missing values in rows and columns.
func TestMeanWithGaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gappy.nc")
	writeGappy(t, path)
	vals := readAll(t, open(t, path, "tas"))
	const nt, ny, nx = 9, 5, 7
	mean := func(pick func(k int) bool) float64 {
		s, n := 0.0, 0
		for k, x := range vals {
			if pick(k) && !math.IsNaN(x) {
				s, n = s+x, n+1
			}
		}
		if n == 0 {
			return math.NaN()
		}
		return s / float64(n)
	}
	check := func(what string, got []float64, want func(i int) float64) {
		t.Helper()
		for i, g := range got {
			w := want(i)
			if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > 1e-12*math.Abs(w) {
				t.Errorf("%s: cell %d is %v, want %v", what, i, g, w)
			}
		}
	}
	for _, pooled := range []bool{false, true} {
		if pooled {
			withReaderPool(t, 2)
		}
		a := open(t, path, "tas")
		if got, want := readLanes(a), map[bool]int{false: 1, true: 2}[pooled]; got != want {
			t.Errorf("pooled=%v: %d read lanes, want %d", pooled, got, want)
		}
		r, err := Reduce(a, Mean, []string{"time"}, ReduceOptions{SlabBytes: 1 << 10})
		if err != nil {
			t.Fatal(err)
		}
		check("time mean", readAll(t, r), func(i int) float64 { return mean(func(k int) bool { return k%(ny*nx) == i }) })
		r, err = Reduce(a, Mean, []string{"lat", "lon"}, ReduceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		check("field mean", readAll(t, r), func(i int) float64 { return mean(func(k int) bool { return k/(ny*nx) == i }) })
		r, err = Reduce(a, Sum, []string{"lon"}, ReduceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sums := readAll(t, r)
		check("zonal sum", sums, func(i int) float64 {
			s, n := 0.0, 0
			for k := i * nx; k < (i+1)*nx; k++ {
				if !math.IsNaN(vals[k]) {
					s, n = s+vals[k], n+1
				}
			}
			if n == 0 {
				return math.NaN()
			}
			return s
		})
	}
}

// TestReaderPoolSameResults computes through reader processes what is
// computed in this process, and expects the same bits.
func TestReaderPoolSameResults(t *testing.T) {
	in := filepath.Join(sampleData(t), "tas_day_2000.nc")
	target, err := regrid.Global(5, 5)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]func(Array) (Array, error){
		"time mean": func(a Array) (Array, error) {
			return Reduce(a, Mean, []string{"time"}, ReduceOptions{SlabBytes: 1 << 18})
		},
		"field mean": func(a Array) (Array, error) { return Average(a, []string{"lat", "lon"}, true, ReduceOptions{}) },
		"time std":   func(a Array) (Array, error) { return Reduce(a, StdDev, []string{"time"}, ReduceOptions{}) },
		"subset max": func(a Array) (Array, error) {
			s, err := Subset(a, dims(num("lat", workflow.Values, -40, 40)), "", nil)
			if err != nil {
				return nil, err
			}
			return Reduce(s, Maximum, []string{"time"}, ReduceOptions{})
		},
		"regrid": func(a Array) (Array, error) {
			src, _, _, err := GridOf(a.Meta())
			if err != nil {
				return nil, err
			}
			plan, err := regrid.NewPlan(src, target, regrid.Bilinear)
			if err != nil {
				return nil, err
			}
			return Regrid(a, plan)
		},
	}
	compute := func() map[string][]float64 {
		out := map[string][]float64{}
		for name, build := range ops {
			r, err := build(open(t, in, "tas"))
			if err != nil {
				t.Fatal(err)
			}
			out[name] = readAll(t, r)
		}
		return out
	}
	direct := compute()
	p := withReaderPool(t, 2)
	pooled := compute()
	for name := range ops {
		if i := sameOrBothNaN(pooled[name], direct[name]); i >= 0 {
			t.Errorf("%s: value %d is %v through reader processes, %v in process", name, i, pooled[name][i], direct[name][i])
		}
	}
	if n := p.PeakRSS(); n == 0 {
		t.Error("no reader process ran")
	}
}

// TestReductionCancelledWithReaders cancels a reduction whose reads are in
// reader processes: it stops with the context's error, leaves no
// goroutine behind, and the pool serves the next one.
func TestReductionCancelledWithReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.nc")
	if err := writeBenchFile(path); err != nil { // a year of 1° float, undeflated
		t.Fatal(err)
	}
	d1 := filepath.Join(t.TempDir(), "big_d1.nc")
	copyDeflated(t, path, d1)
	p := withReaderPool(t, 2)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	ds, err := cf.Open(d1)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	a, err := FromDataset(ds, "tas")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Reduce(a, Mean, []string{"time"}, ReduceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	began := time.Now()
	err = r.Read(ctx, []int{0, 0}, []int{benchY, benchX}, nil, make([]float64, benchY*benchX))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled reduction: %v after %v", err, time.Since(began))
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("the cancelled reduction took %v", d)
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines before, %d after", before, n)
	}
	out := make([]float64, benchY*benchX)
	if err := r.Read(context.Background(), []int{0, 0}, []int{benchY, benchX}, nil, out); err != nil {
		t.Fatalf("the reduction after a cancelled one: %v", err)
	}
}

// TestRegridBatchedReads reads a regridded array in slabs along time, in
// order and out of it, and strided (fields read several at a time, or
// one by one), and compares with one whole read.
func TestRegridBatchedReads(t *testing.T) {
	a := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	src, _, _, err := GridOf(a.Meta())
	if err != nil {
		t.Fatal(err)
	}
	target, _ := regrid.Global(4, 4)
	plan, err := regrid.NewPlan(src, target, regrid.Bilinear)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Regrid(a, plan)
	if err != nil {
		t.Fatal(err)
	}
	whole := readAll(t, r)
	shape := r.Meta().Shape()
	field := shape[1] * shape[2]
	ctx := context.Background()
	read := func(t0, n int) []float64 {
		t.Helper()
		out := make([]float64, n*field)
		if err := r.Read(ctx, []int{t0, 0, 0}, []int{n, shape[1], shape[2]}, nil, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	check := func(what string, t0 int, got []float64) {
		t.Helper()
		if i := sameOrBothNaN(got, whole[t0*field:t0*field+len(got)]); i >= 0 {
			t.Fatalf("%s: value %d differs", what, i)
		}
	}
	for t0 := 0; t0 < shape[0]; t0 += 50 {
		check("in sequence", t0, read(t0, min(50, shape[0]-t0)))
	}
	check("elsewhere", 7, read(7, 3))
	check("one field", 300, read(300, 1))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.Read(cctx, []int{50, 0, 0}, []int{50, shape[1], shape[2]}, nil, make([]float64, 50*field)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: %v", err)
	}
	check("after a cancelled read", 50, read(50, 50))
	out := make([]float64, 10*field)
	if err := r.Read(ctx, []int{0, 0, 0}, []int{10, shape[1], shape[2]}, []int{3, 1, 1}, out); err != nil {
		t.Fatal(err)
	}
	for k := range 10 {
		check("strided", 3*k, out[k*field:(k+1)*field])
	}
}

// copyDeflated makes a deflate-1 copy of a file, one time step a chunk.
func copyDeflated(t *testing.T, in, out string) {
	t.Helper()
	if b, err := exec.Command("nccopy", "-d", "1", "-c", "time/1", in, out).CombinedOutput(); err != nil {
		t.Fatalf("nccopy: %v: %s", err, b)
	}
}

func TestChunkCacheBytes(t *testing.T) {
	v := netcdf.Var{Type: netcdf.Float, Dims: []netcdf.Dim{{Len: 3650}, {Len: 180}, {Len: 360}}}
	for _, c := range []struct {
		chunks []int
		want   int
	}{
		{[]int{1, 180, 360}, 2 * 180 * 360 * 4},
		{[]int{100, 18, 36}, (100 + 1) * 100 * 18 * 36 * 4}, // a row of 100 chunks, and one
		{[]int{3650, 180, 360}, 64 << 20},
	} {
		if got := chunkCacheBytes(v, c.chunks); got != c.want {
			t.Errorf("chunks %v: %d bytes, want %d", c.chunks, got, c.want)
		}
	}
	if !slices.Equal(v.Shape(), []int{3650, 180, 360}) {
		t.Fatal("shape")
	}
}
