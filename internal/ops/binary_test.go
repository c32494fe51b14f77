package ops

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/sample"
	"github.com/computewps/computewps/internal/workflow"
)

func TestWithConstMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	for _, in := range []struct{ path, name string }{{filepath.Join(dir, "tas_day_2000.nc"), "tas"}, {filepath.Join(dir, "pr_mon_360day.nc"), "pr"}} {
		for _, c := range []struct {
			op    BinaryOp
			k     float64
			cdoOp string
		}{{Add, 10, "addc,10"}, {Subtract, 273.15, "subc,273.15"}, {Multiply, 2, "mulc,2"}, {Divide, 4, "divc,4"}} {
			t.Run(in.name+" "+c.cdoOp, func(t *testing.T) {
				ours := writeResult(t, WithConst(open(t, in.path, in.name), c.op, c.k))
				ref := filepath.Join(t.TempDir(), "ref.nc")
				cdo(t, c.cdoOp, in.path, ref)
				got, _ := readFile(t, ours, in.name)
				want, _ := readFile(t, ref, in.name)
				sameWithin(t, c.cdoOp, got, want, 1e-5)
			})
		}
	}
}

// TestBinaryMatchesCDO combines two variables on the same grid, and a
// variable with a climatology without time, as CDO's sub and div do.
func TestBinaryMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	tmp := t.TempDir()
	tas, pr := filepath.Join(dir, "tas_day_2000.nc"), filepath.Join(dir, "pr_mon_360day.nc")
	tas2, pr2, clim := filepath.Join(tmp, "tas2.nc"), filepath.Join(tmp, "pr2.nc"), filepath.Join(tmp, "clim.nc")
	cdo(t, "-subc,250", tas, tas2)
	cdo(t, "-mulc,0.5", "-addc,1e-5", pr, pr2)
	cdo(t, "--reduce_dim", "timmean", tas, clim) // clim(lat,lon)
	for _, c := range []struct {
		name, a, b, variable, cdoOp string
		op                          BinaryOp
	}{
		{"tas - (tas-250)", tas, tas2, "tas", "sub", Subtract},
		{"tas / (tas-250)", tas, tas2, "tas", "div", Divide},
		{"tas + (tas-250)", tas, tas2, "tas", "add", Add},
		{"pr * pr2 with missing values", pr, pr2, "pr", "mul", Multiply},
		{"tas - clim(lat,lon)", tas, clim, "tas", "sub", Subtract},
		{"tas / clim(lat,lon)", tas, clim, "tas", "div", Divide},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Binary(open(t, c.a, c.variable), open(t, c.b, c.variable), c.op)
			if err != nil {
				t.Fatal(err)
			}
			checkShape(t, r, open(t, c.a, c.variable).Meta().Shape()...)
			ours := writeResult(t, r)
			ref := filepath.Join(t.TempDir(), "ref.nc")
			cdo(t, c.cdoOp, c.a, c.b, ref)
			got, _ := readFile(t, ours, c.variable)
			want, _ := readFile(t, ref, c.variable)
			sameWithin(t, c.name, got, want, 1e-5)
			if c.variable == "pr" && got[0] != float64(float32(1e20)) {
				t.Errorf("a missing value was written as %v, want the _FillValue 1e20", got[0])
			}
		})
	}
}

// TestBroadcastByName broadcasts in every arrangement: the second input
// with fewer dimensions, in another order, and the first input with fewer.
func TestBroadcastByName(t *testing.T) {
	const nt, ny, nx = 3, 4, 5
	x := make([]float64, nt*ny*nx)
	for i := range x {
		x[i] = float64(i)
	}
	txy := newMem("tas", x, "time", nt, "lat", ny, "lon", nx)
	xy := make([]float64, nx*ny) // stored (lon, lat)
	for i := 0; i < nx; i++ {
		for j := 0; j < ny; j++ {
			xy[i*ny+j] = 1000 * float64(1+j+10*i)
		}
	}
	lonLat := newMem("clim", xy, "lon", nx, "lat", ny)
	lat := newMem("w", []float64{1, 2, 3, 4}, "lat", ny)
	at := func(t, j, i int) float64 { return x[(t*ny+j)*nx+i] }

	sum, err := Binary(txy, lonLat, Add)
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, sum, nt, ny, nx)
	got := readAll(t, sum)
	for tt := 0; tt < nt; tt++ {
		for j := 0; j < ny; j++ {
			for i := 0; i < nx; i++ {
				if v, w := got[(tt*ny+j)*nx+i], at(tt, j, i)+xy[i*ny+j]; v != w {
					t.Fatalf("tas+clim at %d,%d,%d = %v, want %v", tt, j, i, v, w)
				}
			}
		}
	}
	// When the first input has fewer dimensions, the result has the first's,
	// then the second's others.
	diff, err := Binary(lat, txy, Subtract)
	if err != nil {
		t.Fatal(err)
	}
	if names := dimNames(diff.Meta()); names != "(lat, time, lon)" {
		t.Fatalf("w - tas has dimensions %s, want (lat, time, lon)", names)
	}
	got = readAll(t, diff)
	for j := 0; j < ny; j++ {
		for tt := 0; tt < nt; tt++ {
			for i := 0; i < nx; i++ {
				if v, w := got[(j*nt+tt)*nx+i], float64(j+1)-at(tt, j, i); v != w {
					t.Fatalf("w-tas at lat %d time %d lon %d = %v, want %v", j, tt, i, v, w)
				}
			}
		}
	}
	// A strided hyperslab of a broadcast result holds the same values as the
	// whole read.
	all := readAll(t, sum)
	part := make([]float64, 2*2*2)
	if err := sum.Read(context.Background(), []int{1, 0, 1}, []int{2, 2, 2}, []int{1, 3, 2}, part); err != nil {
		t.Fatal(err)
	}
	want := []float64{}
	for _, tt := range []int{1, 2} {
		for _, j := range []int{0, 3} {
			for _, i := range []int{1, 3} {
				want = append(want, all[(tt*ny+j)*nx+i])
			}
		}
	}
	sameWithin(t, "strided slab", part, want, 0)
}

// TestBroadcastConcurrentReads: reads of one result from several
// goroutines (as a parallel writer would make) share no buffers.
func TestBroadcastConcurrentReads(t *testing.T) {
	x := make([]float64, 8*6*5)
	for i := range x {
		x[i] = float64(i)
	}
	r, err := Binary(newMem("a", x, "time", 8, "lat", 6, "lon", 5), newMem("b", []float64{1, 2, 3, 4, 5, 6}, "lat", 6), Multiply)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for step := range 8 {
		wg.Go(func() {
			got := make([]float64, 6*5)
			for range 50 {
				if err := r.Read(context.Background(), []int{step, 0, 0}, []int{1, 6, 5}, nil, got); err != nil {
					errs <- err.Error()
					return
				}
				for k, v := range got {
					if want := x[step*30+k] * float64(1+k/5); v != want {
						errs <- fmt.Sprintf("step %d value %d = %v, want %v", step, k, v, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestBinaryRefusesDisagreeingDimensions(t *testing.T) {
	dir := sampleData(t)
	tmp := t.TempDir()
	tas, tas2001 := filepath.Join(dir, "tas_day_2000.nc"), filepath.Join(dir, "tas_day_2001.nc")
	coarse := filepath.Join(tmp, "coarse.nc")
	cdo(t, "--reduce_dim", "-timmean", "-remapnn,r36x18", tas, coarse)
	for _, c := range []struct {
		b          string
		dim, where string
	}{
		{tas2001, "time", "point 0 is 0.5 against 365.5"},
		{coarse, "lat", "36 points against 18"},
	} {
		_, err := Binary(open(t, tas, "tas"), open(t, c.b, "tas"), Subtract)
		var me *MismatchError
		if !errors.As(err, &me) || me.Dim != c.dim || me.A != 0 || me.B != 1 || !strings.Contains(err.Error(), c.where) {
			t.Errorf("error %v, want a MismatchError on %s saying %q", err, c.dim, c.where)
		}
	}
}

func TestBinaryUnits(t *testing.T) {
	a := newMem("tas", []float64{1, 2}, "x", 2)
	b := newMem("tas", []float64{1, 2}, "x", 2)
	for _, c := range []struct {
		op    BinaryOp
		units bool
	}{{Add, true}, {Subtract, true}, {Multiply, false}, {Divide, false}} {
		r, err := Binary(a, b, c.op)
		if err != nil {
			t.Fatal(err)
		}
		if got := textOf(r.Meta().Attrs, "units") == "K"; got != c.units {
			t.Errorf("%v keeps units: %v, want %v", c.op, got, c.units)
		}
	}
	r, _ := Binary(a, b, Divide)
	sameWithin(t, "x / x", readAll(t, r), []float64{1, 1}, 0)
}

func TestBinaryTypes(t *testing.T) {
	f := newMem("f", []float64{1}, "x", 1)
	d := newMem("d", []float64{1}, "x", 1)
	d.meta.Type = netcdf.Double
	i := newMem("i", []float64{1}, "x", 1)
	i.meta.Type = netcdf.Short
	for _, c := range []struct {
		a, b Array
		want netcdf.Type
	}{{f, f, netcdf.Float}, {f, d, netcdf.Double}, {i, f, netcdf.Double}, {i, i, netcdf.Double}} {
		r, _ := Binary(c.a, c.b, Add)
		if r.Meta().Type != c.want {
			t.Errorf("%v + %v is %v, want %v", c.a.Meta().Type, c.b.Meta().Type, r.Meta().Type, c.want)
		}
	}
}

// TestBroadcastStreams checks that a broadcast result is read slab by slab
// and matches the direct computation from the sample's formula.
func TestBroadcastStreams(t *testing.T) {
	dir := sampleData(t)
	tas := open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas")
	first, err := Subset(tas, dims(num("time", workflow.Indices, 0, 0)), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	day0 := Squeeze(first)
	rec := &recordingArray{Array: tas}
	r, err := Binary(rec, day0, Subtract)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.nc")
	const slab = 5 * 36 * 72 * 8
	if _, err := Write(context.Background(), path, Dataset{r}, WriteOptions{SlabBytes: slab}); err != nil {
		t.Fatal(err)
	}
	if rec.maxElems*8 > slab {
		t.Errorf("largest read of the input was %d bytes, the slab %d", rec.maxElems*8, slab)
	}
	got, _ := readFile(t, path, "tas")
	for _, p := range [][3]int{{0, 0, 0}, {100, 7, 9}, {364, 35, 71}} {
		want := float64(float32(sample.Tas(p[0], p[1], p[2]) - sample.Tas(0, p[1], p[2])))
		if v := got[(p[0]*36+p[1])*72+p[2]]; math.Abs(v-want) > 1e-4 {
			t.Errorf("day %d lat %d lon %d: %v, want %v", p[0], p[1], p[2], v, want)
		}
	}
}

// BenchmarkMultiplyConst multiplies every value of the benchmark file by
// a constant and writes the result, as BenchmarkCDOMulc does with CDO.
func BenchmarkMultiplyConst(b *testing.B) {
	benchOurs(b, func(a Array) (Array, error) { return WithConst(a, Multiply, 10), nil })
}

func BenchmarkCDOMulc(b *testing.B) { benchCDO(b, "mulc,10") }
