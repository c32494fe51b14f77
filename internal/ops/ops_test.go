package ops

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/computewps/computewps/internal/cdotest"
	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/nctest"
	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/sample"
	"github.com/computewps/computewps/internal/workflow"
)

var (
	sampleOnce sync.Once
	sampleDir  string
	sampleErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range []string{sampleDir, benchDir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// sampleData writes the sample dataset once per test binary.
func sampleData(t *testing.T) string {
	t.Helper()
	sampleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ops-sample-")
		if err == nil {
			_, err = sample.Ensure(dir)
		}
		sampleDir, sampleErr = dir, err
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sampleDir
}

func open(t *testing.T, path, name string) Array {
	t.Helper()
	ds, err := cf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	a, err := FromDataset(ds, name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func readAll(t *testing.T, a Array) []float64 {
	t.Helper()
	m := a.Meta()
	out := make([]float64, m.Size())
	start := make([]int, len(m.Dims))
	if err := a.Read(context.Background(), start, m.Shape(), nil, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// readFile reads a whole variable from a NetCDF file.
func readFile(t *testing.T, path, name string) ([]float64, []int) {
	return nctest.ReadVar(t, path, name)
}

func dims(list ...workflow.Dimension) []workflow.Dimension { return list }

func num(name string, crs workflow.CRS, a, b float64) workflow.Dimension {
	return workflow.Dimension{Name: name, CRS: crs, Start: workflow.Value{Num: a}, End: workflow.Value{Num: b}, Step: 1}
}

func stamp(name, a, b string) workflow.Dimension {
	return workflow.Dimension{Name: name, CRS: workflow.Timestamps, Start: workflow.Value{Str: a, IsStr: true}, End: workflow.Value{Str: b, IsStr: true}, Step: 1}
}

func coordValues(a Array, dim string) []float64 {
	m := a.Meta()
	return m.Dims[m.DimIndex(dim)].Coord.Values
}

func TestSubsetIndicesValuesTimestamps(t *testing.T) {
	dir := sampleData(t)
	tas := open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas")
	cases := []struct {
		name                    string
		domain                  []workflow.Dimension
		wantTime, wantLat, wLon []int // expected source indices
	}{
		{"indices end exclusive", dims(num("time", workflow.Indices, 10, 20), num("lat", workflow.Indices, 0, 3)), seq(10, 20), seq(0, 3), seq(0, 72)},
		{"indices single point", dims(num("time", workflow.Indices, 5, 5)), []int{5}, seq(0, 36), seq(0, 72)},
		{"indices negative from end", dims(num("time", workflow.Indices, -3, 365)), seq(362, 365), seq(0, 36), seq(0, 72)},
		{"values inclusive", dims(num("lat", workflow.Values, 0, 30), num("lon", workflow.Values, 10, 20)), seq(0, 365), seq(18, 24), seq(2, 5)},
		{"values reversed bounds", dims(num("lat", workflow.Values, 30, 0)), seq(0, 365), seq(18, 24), seq(0, 72)},
		{"values single point", dims(num("lat", workflow.Values, 2.5, 2.5)), seq(0, 365), []int{18}, seq(0, 72)},
		{"values on time are raw offsets", dims(num("time", workflow.Values, 31, 58.5)), seq(31, 59), seq(0, 36), seq(0, 72)},
		{"timestamps month", dims(stamp("time", "2000-02", "2000-02")), seq(31, 59), seq(0, 36), seq(0, 72)},
		{"timestamps days inclusive", dims(stamp("time", "2000-03-01", "2000-03-10")), seq(59, 69), seq(0, 36), seq(0, 72)},
		{"axis alias latitude", dims(num("latitude", workflow.Values, -90, -80)), seq(0, 365), seq(0, 2), seq(0, 72)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub, err := Subset(tas, c.domain, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, sub)
			checkShape(t, sub, len(c.wantTime), len(c.wantLat), len(c.wLon))
			k := 0
			for _, d := range c.wantTime {
				for _, j := range c.wantLat {
					for _, i := range c.wLon {
						if want := sample.Tas(d, j, i); got[k] != want {
							t.Fatalf("value %d (day %d, lat %d, lon %d) = %v, want %v", k, d, j, i, got[k], want)
						}
						k++
					}
				}
			}
			lat := coordValues(sub, "lat")
			if lat[0] != sample.Lat(c.wantLat[0]) {
				t.Errorf("first lat %v, want %v", lat[0], sample.Lat(c.wantLat[0]))
			}
		})
	}
}

func seq(a, b int) []int {
	var s []int
	for i := a; i < b; i++ {
		s = append(s, i)
	}
	return s
}

func checkShape(t *testing.T, a Array, want ...int) {
	t.Helper()
	got := a.Meta().Shape()
	if len(got) != len(want) {
		t.Fatalf("shape %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("shape %v, want %v", got, want)
		}
	}
}

func TestSubsetStep(t *testing.T) {
	tas := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	d := num("time", workflow.Indices, 0, 30)
	d.Step = 7
	sub, err := Subset(tas, dims(d), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := coordValues(sub, "time"); len(got) != 5 || got[1] != 7.5 || got[4] != 28.5 {
		t.Fatalf("time values %v, want every 7th day from 0.5", got)
	}
	got := readAll(t, sub)
	if got[72*36*2] != sample.Tas(14, 0, 0) {
		t.Errorf("third step holds %v, want day 14 %v", got[72*36*2], sample.Tas(14, 0, 0))
	}
}

func TestSubsetAcrossLongitudeSeam(t *testing.T) {
	tas := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	for _, c := range []struct {
		lo, hi   float64
		wantLon  []float64
		wantIdx  []int
		describe string
	}{
		{-30, 30, lons(-30, 30), append(seq(66, 72), seq(0, 7)...), "0/360 grid asked -30..30"},
		{350, 370, lons(350, 370), []int{70, 71, 0, 1, 2}, "0/360 grid asked 350..370"},
		{-180, -170, lons(-180, -170), []int{36, 37, 38}, "0/360 grid asked -180..-170"},
	} {
		t.Run(c.describe, func(t *testing.T) {
			sub, err := Subset(tas, dims(num("lon", workflow.Values, c.lo, c.hi), num("time", workflow.Indices, 0, 1)), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			got := coordValues(sub, "lon")
			if !equal(got, c.wantLon) {
				t.Fatalf("lon %v, want %v", got, c.wantLon)
			}
			vals := readAll(t, sub)
			n := len(c.wantIdx)
			for j := 0; j < 36; j++ {
				for k, i := range c.wantIdx {
					if v := vals[j*n+k]; v != sample.Tas(0, j, i) {
						t.Fatalf("lat %d lon %v = %v, want %v", j, got[k], v, sample.Tas(0, j, i))
					}
				}
			}
		})
	}
}

func lons(a, b float64) []float64 {
	var out []float64
	for x := a; x <= b; x += 5 {
		out = append(out, x)
	}
	return out
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

func TestSubsetErrors(t *testing.T) {
	tas := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	for _, c := range []struct {
		domain []workflow.Dimension
		want   string
	}{
		{dims(num("lat", workflow.Values, 100, 120)), `subset of "lat" resulted in a zero length dimension`},
		{dims(num("lat", workflow.Values, 100, 120)), "lat has 36 points from -87.5 to 87.5"},
		{dims(num("time", workflow.Indices, 400, 500)), `"time"`},
		{dims(num("depth", workflow.Values, 0, 10)), `dimension "depth", but variable "tas" has dimensions time, lat, lon`},
		{dims(stamp("time", "1990-01-01", "1990-12-31")), "2000-01-01T12:00:00 to 2000-12-31T12:00:00, noleap calendar"},
		{dims(stamp("time", "2000-02-29", "2000-03-01")), "noleap"},
		{dims(stamp("lat", "2000-01-01", "2000-01-02")), "not a time axis"},
		{dims(num("lat", workflow.Values, 2.6, 2.6)), "zero length"},
	} {
		_, err := Subset(tas, c.domain, "", nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("domain %+v: error %v, want it to contain %q", c.domain, err, c.want)
		}
	}
	// The same single value is matched with method=nearest.
	sub, err := Subset(tas, dims(num("lat", workflow.Values, 2.6, 2.6)), "nearest", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := coordValues(sub, "lat"); len(got) != 1 || got[0] != 2.5 {
		t.Errorf("nearest lat %v, want [2.5]", got)
	}
}

func TestSubset360DayCalendar(t *testing.T) {
	pr := open(t, filepath.Join(sampleData(t), "pr_mon_360day.nc"), "pr")
	// 2000-02-30 exists in the 360_day calendar: February is 30 days long,
	// so the mid-February step (day 45) is before it and mid-March (75) after.
	sub, err := Subset(pr, dims(stamp("time", "2000-02-30", "2001-01")), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := coordValues(sub, "time"); len(got) != 11 || got[0] != 75 || got[10] != 375 {
		t.Fatalf("time %v, want 11 months from day 75 (mid March 2000) to 375 (mid January 2001)", got)
	}
	sub, err = Subset(pr, dims(stamp("time", "2000-02", "2001-01")), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := coordValues(sub, "time"); len(got) != 12 || got[0] != 45 || got[11] != 375 {
		t.Fatalf("time %v, want 12 months from day 45 (mid February 2000) to 375 (mid January 2001)", got)
	}
	// Missing values come back as NaN.
	vals := readAll(t, sub)
	if !math.IsNaN(vals[0]) {
		t.Errorf("corner of the grid = %v, want NaN (missing)", vals[0])
	}
	if want := sample.Pr(1, 0, 3); vals[3] != want {
		t.Errorf("pr[0,0,3] = %v, want %v", vals[3], want)
	}
}

func TestAggregate(t *testing.T) {
	dir := sampleData(t)
	// Given out of order: the result must be in time order.
	b := open(t, filepath.Join(dir, "tas_day_2001.nc"), "tas")
	a := open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas")
	agg, err := Aggregate([]Array{b, a})
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, agg, 730, 36, 72)
	tv := coordValues(agg, "time")
	if tv[0] != 0.5 || tv[364] != 364.5 || tv[365] != 365.5 || tv[729] != 729.5 {
		t.Fatalf("time values not joined in order: %v ... %v", tv[:2], tv[728:])
	}
	// A slab straddling the two files, strided.
	out := make([]float64, 4*2*3)
	if err := agg.Read(context.Background(), []int{362, 10, 5}, []int{4, 2, 3}, []int{1, 3, 2}, out); err != nil {
		t.Fatal(err)
	}
	k := 0
	for d := 362; d < 366; d++ {
		for _, j := range []int{10, 13} {
			for _, i := range []int{5, 7, 9} {
				if out[k] != sample.Tas(d, j, i) {
					t.Fatalf("day %d lat %d lon %d = %v, want %v", d, j, i, out[k], sample.Tas(d, j, i))
				}
				k++
			}
		}
	}
	// Subset of the aggregate across the file boundary, by timestamps.
	sub, err := Subset(agg, dims(stamp("time", "2000-12-30", "2001-01-02")), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := coordValues(sub, "time"); !equal(got, []float64{363.5, 364.5, 365.5, 366.5}) {
		t.Fatalf("time %v", got)
	}
}

func TestAggregateErrors(t *testing.T) {
	dir := sampleData(t)
	a := open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas")
	pr := open(t, filepath.Join(dir, "pr_mon_360day.nc"), "pr")
	if _, err := Aggregate([]Array{a, a}); err == nil || !strings.Contains(err.Error(), "overlap in time") {
		t.Errorf("same file twice: %v, want an overlap error", err)
	}
	if _, err := Aggregate([]Array{a, pr}); err == nil || !strings.Contains(err.Error(), "same variable") {
		t.Errorf("different variables: %v", err)
	}
}

// cdo runs the CDO command line, the numerical oracle.
func cdo(t *testing.T, args ...string) {
	t.Helper()
	cdotest.Run(t, args...)
}

func writeResult(t *testing.T, a Array) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.nc")
	if _, err := Write(context.Background(), path, Dataset{a}, WriteOptions{SlabBytes: 1 << 16, Deflate: 1}); err != nil {
		t.Fatal(err)
	}
	return path
}

func sameValues(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, CDO has %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Fatalf("%s: value %d is %v, CDO has %v", what, i, got[i], want[i])
		}
	}
}

// TestMatchesCDO compares our written results with CDO on the same inputs.
func TestMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	tmp := t.TempDir()
	in2000, in2001 := filepath.Join(dir, "tas_day_2000.nc"), filepath.Join(dir, "tas_day_2001.nc")

	t.Run("subset by values across the seam = sellonlatbox", func(t *testing.T) {
		tas := open(t, in2000, "tas")
		sub, err := Subset(tas, dims(num("lon", workflow.Values, -30, 30), num("lat", workflow.Values, 0, 30)), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		ours := writeResult(t, sub)
		ref := filepath.Join(tmp, "box.nc")
		cdo(t, "sellonlatbox,-30,30,0,30", in2000, ref)
		for _, v := range []string{"tas", "lon", "lat", "time"} {
			got, gs := readFile(t, ours, v)
			want, ws := readFile(t, ref, v)
			if len(gs) != len(ws) {
				t.Fatalf("%s shape %v, CDO %v", v, gs, ws)
			}
			sameValues(t, v, got, want)
		}
	})
	t.Run("subset by indices = seltimestep + selindexbox", func(t *testing.T) {
		tas := open(t, in2000, "tas")
		sub, err := Subset(tas, dims(num("time", workflow.Indices, 40, 50), num("lat", workflow.Indices, 5, 10), num("lon", workflow.Indices, 0, 8)), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		ours := writeResult(t, sub)
		ref := filepath.Join(tmp, "idx.nc")
		// CDO counts from 1 and includes the end.
		cdo(t, "-seltimestep,41/50", "-selindexbox,1,8,6,10", in2000, ref)
		got, _ := readFile(t, ours, "tas")
		want, _ := readFile(t, ref, "tas")
		sameValues(t, "tas", got, want)
	})
	t.Run("aggregate then timestamps = mergetime + seldate", func(t *testing.T) {
		a2000, a2001 := open(t, in2000, "tas"), open(t, in2001, "tas")
		agg, err := Aggregate([]Array{a2001, a2000})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := Subset(agg, dims(stamp("time", "2000-12-15", "2001-01-15")), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		ours := writeResult(t, sub)
		merged, ref := filepath.Join(tmp, "merged.nc"), filepath.Join(tmp, "seldate.nc")
		cdo(t, "mergetime", in2001, in2000, merged)
		cdo(t, "seldate,2000-12-15T00:00:00,2001-01-15T23:59:59", merged, ref)
		for _, v := range []string{"tas", "time", "time_bnds"} {
			got, _ := readFile(t, ours, v)
			want, _ := readFile(t, ref, v)
			sameValues(t, v, got, want)
		}
	})
	t.Run("a -180..180 grid asked 170..190 = sellonlatbox", func(t *testing.T) {
		rotated := filepath.Join(tmp, "rotated.nc")
		cdo(t, "sellonlatbox,-180,180,-90,90", in2000, rotated)
		tas := open(t, rotated, "tas")
		if lon := coordValues(tas, "lon"); lon[0] != -180 || lon[len(lon)-1] != 175 {
			t.Fatalf("CDO gave lon %v .. %v, want -180 .. 175", lon[0], lon[len(lon)-1])
		}
		sub, err := Subset(tas, dims(num("lon", workflow.Values, 170, 190), num("time", workflow.Indices, 0, 3)), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if lon := coordValues(sub, "lon"); !equal(lon, lons(170, 190)) {
			t.Fatalf("lon %v, want 170..190", lon)
		}
		ours := writeResult(t, sub)
		ref := filepath.Join(tmp, "east.nc")
		cdo(t, "-seltimestep,1/3", "-sellonlatbox,170,190,-90,90", rotated, ref)
		for _, v := range []string{"tas", "lon"} {
			got, _ := readFile(t, ours, v)
			want, _ := readFile(t, ref, v)
			sameValues(t, v, got, want)
		}
	})
	t.Run("missing values survive = seltimestep", func(t *testing.T) {
		in := filepath.Join(dir, "pr_mon_360day.nc")
		pr := open(t, in, "pr")
		sub, err := Subset(pr, dims(num("time", workflow.Indices, 0, 3)), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		ours := writeResult(t, sub)
		ref := filepath.Join(tmp, "pr.nc")
		cdo(t, "seltimestep,1/3", in, ref)
		got, _ := readFile(t, ours, "pr")
		want, _ := readFile(t, ref, "pr")
		sameValues(t, "pr", got, want)
		if got[0] != float64(float32(1e20)) {
			t.Errorf("missing value written as %v, want the _FillValue 1e20", got[0])
		}
	})
}

// TestWriteStreamsInSlabs checks that a write reads its input slab by slab
// of at most SlabBytes, however large the input.
func TestWriteStreamsInSlabs(t *testing.T) {
	tas := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	rec := &recordingArray{Array: tas}
	path := filepath.Join(t.TempDir(), "out.nc")
	const slab = 3 * 36 * 72 * 8 // three time steps
	if _, err := Write(context.Background(), path, Dataset{rec}, WriteOptions{SlabBytes: slab}); err != nil {
		t.Fatal(err)
	}
	if rec.maxElems*8 > slab {
		t.Errorf("largest read was %d bytes, limit %d", rec.maxElems*8, slab)
	}
	if rec.reads != 122 { // ceil(365/3)
		t.Errorf("%d reads, want 122", rec.reads)
	}
	got, _ := readFile(t, path, "tas")
	want := readAll(t, tas)
	sameValues(t, "tas", got, want)
}

type recordingArray struct {
	Array
	reads, maxElems int
}

func (r *recordingArray) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	r.reads++
	r.maxElems = max(r.maxElems, len(dst))
	return r.Array.Read(ctx, start, count, stride, dst)
}

func TestWriteCancelled(t *testing.T) {
	tas := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "out.nc")
	if _, err := Write(ctx, path, Dataset{tas}, WriteOptions{}); err == nil {
		t.Fatal("write with a cancelled context succeeded")
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*")); len(matches) != 0 {
		t.Errorf("a cancelled write left %v", matches)
	}
}

// TestPackedData reads a short variable with scale_factor and add_offset
// as its physical values, like CDO does, and writes them unpacked.
func TestPackedData(t *testing.T) {
	dir := t.TempDir()
	packed := filepath.Join(dir, "packed.nc")
	cdl := filepath.Join(dir, "packed.cdl")
	os.WriteFile(cdl, []byte(`netcdf packed {
dimensions: time = 3 ; lat = 2 ; lon = 2 ;
variables:
	double time(time) ; time:units = "days since 2000-01-01" ; time:calendar = "standard" ;
	double lat(lat) ; lat:units = "degrees_north" ;
	double lon(lon) ; lon:units = "degrees_east" ;
	short tas(time, lat, lon) ; tas:scale_factor = 0.01 ; tas:add_offset = 273.15 ; tas:_FillValue = -32767s ; tas:units = "K" ;
data:
	time = 0, 1, 2 ; lat = -45, 45 ; lon = 0, 180 ;
	tas = 0, 100, -100, 2000, 1, 2, 3, -32767, 500, 600, 700, 800 ;
}
`), 0o644)
	if out, err := exec.Command("ncgen", "-o", packed, cdl).CombinedOutput(); err != nil {
		t.Fatalf("ncgen: %v %s", err, out)
	}
	a := open(t, packed, "tas")
	got := readAll(t, a)
	if math.Abs(got[1]-274.15) > 1e-9 || math.Abs(got[2]-272.15) > 1e-9 || !math.IsNaN(got[7]) {
		t.Fatalf("unpacked %v", got)
	}
	if m := a.Meta(); m.Type != netcdf.Double || textOf(m.Attrs, "units") != "K" { // scale_factor is a double in this file
		t.Errorf("type %v attrs %v", m.Type, m.Attrs)
	}
	for _, at := range a.Meta().Attrs {
		if at.Name == "scale_factor" || at.Name == "add_offset" {
			t.Errorf("the unpacked variable keeps %s", at.Name)
		}
	}
	ours := writeResult(t, a)
	ref := filepath.Join(dir, "cdo.nc")
	cdo(t, "-b", "F32", "copy", packed, ref)
	g, _ := readFile(t, ours, "tas")
	w, _ := readFile(t, ref, "tas")
	for i := range g {
		if i == 7 {
			continue // missing in both (fill values differ)
		}
		if math.Abs(g[i]-w[i]) > 1e-4 {
			t.Fatalf("value %d: %v, CDO %v", i, g[i], w[i])
		}
	}
}

// TestAggregateDifferentTimeUnits joins files whose time units differ: the
// result is in the units of the earliest file.
func TestAggregateDifferentTimeUnits(t *testing.T) {
	dir := sampleData(t)
	hours := filepath.Join(t.TempDir(), "tas_2001_hours.nc")
	cdo(t, "-settunits,hours", "-setreftime,2001-01-01,00:00:00", filepath.Join(dir, "tas_day_2001.nc"), hours)
	b := open(t, hours, "tas")
	if u := b.Meta().Dims[0].Coord.Units(); !strings.HasPrefix(u, "hours since 2001-1-1") {
		t.Fatalf("CDO gave units %q", u)
	}
	agg, err := Aggregate([]Array{b, open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas")})
	if err != nil {
		t.Fatal(err)
	}
	tv := coordValues(agg, "time")
	if len(tv) != 730 || tv[364] != 364.5 || tv[365] != 365.5 || tv[729] != 729.5 {
		t.Errorf("times %v .. %v, want days since 2000-01-01 throughout", tv[363:367], tv[729])
	}
	if u := agg.Meta().Dims[0].Coord.Units(); u != "days since 2000-01-01 00:00:00" {
		t.Errorf("units %q", u)
	}
	got := make([]float64, 1)
	if err := agg.Read(context.Background(), []int{400, 5, 5}, []int{1, 1, 1}, nil, got); err != nil || got[0] != sample.Tas(400, 5, 5) {
		t.Errorf("value %v %v, want %v", got, err, sample.Tas(400, 5, 5))
	}
}
