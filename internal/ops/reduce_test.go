package ops

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/sample"
)

// fieldArray is an in-memory Array for tests.
type fieldArray struct {
	meta *Meta
	data []float64
}

func newField(name string, data []float64, dims ...Dim) *fieldArray {
	return &fieldArray{meta: &Meta{Name: name, Type: netcdf.Double, Dims: dims}, data: data}
}

func (a *fieldArray) Meta() *Meta { return a.meta }

func (a *fieldArray) Read(_ context.Context, start, count, stride []int, dst []float64) error {
	stride, err := checkSlab(a.meta, start, count, stride, dst)
	if err != nil {
		return err
	}
	copyHyperslab(dst, a.data, a.meta.Shape(), start, count, stride)
	return nil
}

// axisDim makes a dimension with a coordinate on an axis; bounds may be nil.
func axisDim(name string, axis cf.Axis, values, bounds []float64) Dim {
	c := &cf.Coord{Name: name, Axis: axis, Type: netcdf.Double, Values: values}
	c.SetBounds(bounds)
	return Dim{Name: name, Len: len(values), Coord: c}
}

// closeTo compares within a relative tolerance; missing values must be
// missing in both.
func closeTo(t *testing.T, what string, got, want []float64, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.IsNaN(g) || math.IsNaN(w) {
			if math.IsNaN(g) != math.IsNaN(w) {
				t.Fatalf("%s: value %d is %v, want %v", what, i, g, w)
			}
			continue
		}
		if math.Abs(g-w) > rel*math.Max(math.Abs(w), math.Abs(g)) {
			t.Fatalf("%s: value %d is %v, want %v (relative difference %.2g)", what, i, g, w, math.Abs(g-w)/math.Abs(w))
		}
	}
}

func reduce(t *testing.T, a Array, stat Statistic, dims ...string) Array {
	t.Helper()
	r, err := Reduce(a, stat, dims, ReduceOptions{SlabBytes: 1 << 16}) // many slabs
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func attr(m *Meta, name string) string { return textOf(m.Attrs, name) }

// TestReduceOverTimeMatchesCDO checks every statistic over time against
// CDO's tim* operators, on daily data and on monthly data with a missing
// corner. CDO's timstd and timvar divide by n, as ours do.
func TestReduceOverTimeMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	for _, in := range []struct{ file, name string }{{"tas_day_2000.nc", "tas"}, {"pr_mon_360day.nc", "pr"}} {
		path := filepath.Join(dir, in.file)
		for _, c := range []struct {
			stat   Statistic
			cdoOp  string
			method string
		}{{Mean, "timmean", "time: mean"}, {Maximum, "timmax", "time: maximum"}, {Minimum, "timmin", "time: minimum"},
			{Sum, "timsum", "time: sum"}, {StdDev, "timstd", "time: standard_deviation"}, {Variance, "timvar", "time: variance"}} {
			t.Run(in.name+" "+c.cdoOp, func(t *testing.T) {
				r := reduce(t, open(t, path, in.name), c.stat, "time")
				checkShape(t, r, sample.NLat, sample.NLon)
				if got := attr(r.Meta(), "cell_methods"); got != c.method {
					t.Errorf("cell_methods %q, want %q", got, c.method)
				}
				ours := writeResult(t, r)
				ref := filepath.Join(t.TempDir(), "ref.nc")
				cdo(t, c.cdoOp, path, ref)
				got, _ := readFile(t, ours, in.name)
				want, _ := readFile(t, ref, in.name)
				closeTo(t, c.cdoOp, got, want, 1e-5)
				if in.name == "pr" && got[0] != float64(float32(1e20)) {
					t.Errorf("the corner that is always missing was written as %v, want the _FillValue", got[0])
				}
			})
		}
	}
}

// TestReduceOverLatLonMatchesCDO checks the plain (unweighted) statistics
// over the grid: CDO's fldmax, fldmin and fldsum are unweighted; its
// fldmean, fldstd and fldvar weight by cell area, so they are given cells
// of equal area.
func TestReduceOverLatLonMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	tmp := t.TempDir()
	ones := filepath.Join(tmp, "ones.nc")
	cdo(t, "-expr,area=clat(tas)*0+1", "-seltimestep,1", filepath.Join(dir, "tas_day_2000.nc"), ones)
	for _, in := range []struct{ file, name string }{{"tas_day_2000.nc", "tas"}, {"pr_mon_360day.nc", "pr"}} {
		path := filepath.Join(dir, in.file)
		for _, c := range []struct {
			stat  Statistic
			cdoOp []string
		}{{Maximum, []string{"fldmax"}}, {Minimum, []string{"fldmin"}}, {Sum, []string{"fldsum"}},
			{Mean, []string{"-fldmean", "-setgridarea," + ones}}, {StdDev, []string{"-fldstd", "-setgridarea," + ones}},
			{Variance, []string{"-fldvar", "-setgridarea," + ones}}} {
			t.Run(in.name+" "+c.cdoOp[0], func(t *testing.T) {
				// Named by axis, as users do.
				r := reduce(t, open(t, path, in.name), c.stat, "latitude", "longitude")
				ours := writeResult(t, r)
				ref := filepath.Join(t.TempDir(), "ref.nc")
				cdo(t, append(c.cdoOp, path, ref)...)
				got, shape := readFile(t, ours, in.name)
				want, _ := readFile(t, ref, in.name)
				if len(shape) != 1 {
					t.Errorf("result shape %v, want time only", shape)
				}
				closeTo(t, strings.Join(c.cdoOp, " "), got, want, 1e-5)
			})
		}
	}
	m := reduce(t, open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas"), Mean, "lat").Meta()
	if got := attr(m, "cell_methods"); got != "lat: mean (comment: unweighted)" {
		t.Errorf("a plain mean over latitude has cell_methods %q", got)
	}
}

// exactAreas writes, with CDO, the area of each 5° cell of the sample grid
// from the closed form (sin φ2 − sin φ1)(λ2 − λ1), for CDO's setgridarea.
func exactAreas(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exact.nc")
	cdo(t, "-expr,area=(sin(rad(clat(tas)+2.5))-sin(rad(clat(tas)-2.5)))*rad(5.0)", "-seltimestep,1", filepath.Join(dir, "tas_day_2000.nc"), path)
	return path
}

// TestAverageOverLatLonMatchesCDO checks the area-weighted mean against
// CDO's fldmean. The sample grid has no bounds, so both sides derive them
// halfway between the points. The areas differ: ours are exact for cells
// bounded by meridians and parallels, CDO's are spherical polygons with
// great-circle edges (up to 0.13% smaller near the poles), which moves the
// mean by up to 4e-5. With CDO given the exact areas the two agree to
// 1e-6, and within 1e-4 with CDO's own.
func TestAverageOverLatLonMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	exact := exactAreas(t, dir)
	for _, in := range []struct{ file, name string }{{"tas_day_2000.nc", "tas"}, {"pr_mon_360day.nc", "pr"}} {
		path := filepath.Join(dir, in.file)
		r, err := Average(open(t, path, in.name), []string{"lat", "lon"}, true, ReduceOptions{SlabBytes: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		if got := attr(r.Meta(), "cell_methods"); got != "lat: lon: mean" {
			t.Errorf("cell_methods %q, want lat: lon: mean", got)
		}
		got, _ := readFile(t, writeResult(t, r), in.name)
		ref, own := filepath.Join(t.TempDir(), "ref.nc"), filepath.Join(t.TempDir(), "own.nc")
		cdo(t, "-fldmean", "-setgridarea,"+exact, path, ref)
		cdo(t, "fldmean", path, own)
		want, _ := readFile(t, ref, in.name)
		closeTo(t, in.name+" vs fldmean with exact areas", got, want, 1e-6)
		want, _ = readFile(t, own, in.name)
		closeTo(t, in.name+" vs fldmean with CDO's areas", got, want, 1e-4)
	}
}

// writeWithAreacella writes the first days of tas with a cell-measure
// variable holding CDO's own cell areas, named by cell_measures.
func writeWithAreacella(t *testing.T, dir string) string {
	t.Helper()
	tmp := t.TempDir()
	in := filepath.Join(dir, "tas_day_2000.nc")
	areas := filepath.Join(tmp, "areas.nc")
	cdo(t, "gridarea", in, areas)
	area, _ := readFile(t, areas, "cell_area")
	const days = 5
	tas, _ := readFile(t, in, "tas")
	path := filepath.Join(tmp, "tas_areacella.nc")
	f, err := netcdf.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	text := func(name, v string) netcdf.Attr { return netcdf.Attr{Name: name, Value: v} }
	td, _ := f.DefDim("time", days)
	yd, _ := f.DefDim("lat", sample.NLat)
	xd, _ := f.DefDim("lon", sample.NLon)
	tv, _ := f.DefVar("time", netcdf.Double, []int{td})
	yv, _ := f.DefVar("lat", netcdf.Double, []int{yd})
	xv, _ := f.DefVar("lon", netcdf.Double, []int{xd})
	av, _ := f.DefVar("areacella", netcdf.Double, []int{yd, xd})
	vv, err := f.DefVar("tas", netcdf.Float, []int{td, yd, xd})
	must(err)
	for _, a := range []struct {
		id int
		at netcdf.Attr
	}{{tv, text("units", "days since 2000-01-01")}, {tv, text("calendar", "noleap")}, {yv, text("units", "degrees_north")},
		{xv, text("units", "degrees_east")}, {av, text("units", "m2")}, {av, text("standard_name", "cell_area")},
		{vv, text("units", "K")}, {vv, text("cell_measures", "area: areacella")}} {
		must(f.PutAttr(a.id, a.at))
	}
	must(f.EndDef())
	times, lats, lons := make([]float64, days), make([]float64, sample.NLat), make([]float64, sample.NLon)
	for i := range times {
		times[i] = float64(i) + 0.5
	}
	for j := range lats {
		lats[j] = sample.Lat(j)
	}
	for i := range lons {
		lons[i] = sample.Lon(i)
	}
	must(f.Write(tv, []int{0}, []int{days}, times))
	must(f.Write(yv, []int{0}, []int{sample.NLat}, lats))
	must(f.Write(xv, []int{0}, []int{sample.NLon}, lons))
	must(f.Write(av, []int{0, 0}, []int{sample.NLat, sample.NLon}, area))
	must(f.Write(vv, []int{0, 0, 0}, []int{days, sample.NLat, sample.NLon}, tas[:days*sample.NLat*sample.NLon]))
	must(f.Close())
	return path
}

// TestAverageUsesCellMeasure gives the data an areacella variable holding
// CDO's cell areas: the average then matches CDO's fldmean to 1e-6, which
// the exact areas would not (they differ by 1.3e-5 on this field), also
// after a subset that the areas must follow.
func TestAverageUsesCellMeasure(t *testing.T) {
	path := writeWithAreacella(t, sampleData(t))
	tas := open(t, path, "tas")
	sub, err := Subset(tas, dims(num("lat", "values", 0, 60), num("lon", "values", -30, 30)), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		a     Array
		cdoOp []string
	}{{"whole grid", tas, []string{"-fldmean"}}, {"subset across the seam", Rename(sub, "tas"), []string{"-fldmean", "-sellonlatbox,-30,30,0,60"}}} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Average(c.a, nil, true, ReduceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkShape(t, r) // every axis by default: one number
			got, _ := readFile(t, writeResult(t, r), "tas")
			// CDO averages over the grid, then over time (equal steps).
			ref := filepath.Join(t.TempDir(), "ref.nc")
			cdo(t, append(append([]string{"-timmean"}, c.cdoOp...), path, ref)...)
			want, _ := readFile(t, ref, "tas")
			closeTo(t, c.name, got, want, 1e-6)
		})
	}
}

// TestAverageOverTimeWeightsMonths averages a year of monthly data in the
// standard calendar, with bounds at the month boundaries, against CDO's
// yearmonmean, which weights each month by its number of days (February
// 2000 has 29). The plain mean is CDO's timmean.
func TestAverageOverTimeWeightsMonths(t *testing.T) {
	dir := sampleData(t)
	tmp := t.TempDir()
	monthly, ref, plain := filepath.Join(tmp, "monthly.nc"), filepath.Join(tmp, "ref.nc"), filepath.Join(tmp, "plain.nc")
	cdo(t, "-settunits,days", "-settbounds,1mon", "-setcalendar,standard", "-settaxis,2000-01-15,12:00:00,1mon",
		"-seltimestep,1/12", filepath.Join(dir, "pr_mon_360day.nc"), monthly)
	cdo(t, "yearmonmean", monthly, ref)
	cdo(t, "timmean", monthly, plain)
	for _, c := range []struct {
		weighted bool
		ref      string
	}{{true, ref}, {false, plain}} {
		r, err := Average(open(t, monthly, "pr"), []string{"time"}, c.weighted, ReduceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := readFile(t, writeResult(t, r), "pr")
		want, _ := readFile(t, c.ref, "pr")
		closeTo(t, fmt.Sprintf("weighted=%v", c.weighted), got, want, 1e-5)
	}
}

// TestAverageDerivesBounds checks the weights without bounds: halfway
// between the points, latitudes kept within the poles, and missing values
// out of both the sum and the weights; a dimension that is no axis is kept.
func TestAverageDerivesBounds(t *testing.T) {
	nan := math.NaN()
	// time 0, 1, 3: steps of 1, 1.5 and 2; lat -60, 0, 60: cells from the
	// pole to -30, -30 to 30, 30 to the pole, weights 0.5, 1, 0.5.
	a := newField("x", []float64{
		1, 2, 4, // member 0, lat -60, time 0 1 3
		10, 20, nan, // lat 0
		5, 5, 5, // lat 60
		7, 7, 7, // member 1
		7, 7, 7,
		7, 7, 7,
	}, Dim{Name: "member", Len: 2, Coord: &cf.Coord{Name: "member", Values: []float64{0, 1}}},
		axisDim("lat", cf.AxisY, []float64{-60, 0, 60}, nil), axisDim("time", cf.AxisT, []float64{0, 1, 3}, nil))
	r, err := Average(a, nil, true, ReduceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, r, 2)
	row := func(v ...float64) (s, w float64) {
		for i, tw := range []float64{1, 1.5, 2} {
			if !math.IsNaN(v[i]) {
				s += tw * v[i]
				w += tw
			}
		}
		return
	}
	s0, w0 := row(1, 2, 4)
	s1, w1 := row(10, 20, nan)
	s2, w2 := row(5, 5, 5)
	want := (0.5*s0 + 1*s1 + 0.5*s2) / (0.5*w0 + 1*w1 + 0.5*w2)
	closeTo(t, "weighted", readAll(t, r), []float64{want, 7}, 1e-12)

	// Longitude bounds given: widths 10 and 30.
	b := newField("y", []float64{1, 3}, axisDim("lon", cf.AxisX, []float64{5, 25}, []float64{0, 10, 10, 40}))
	r, err = Average(b, []string{"longitude"}, true, ReduceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "by longitude bounds", readAll(t, r), []float64{(10*1 + 30*3) / 40.0}, 1e-12)
	if _, err := Average(newField("z", []float64{1}, Dim{Name: "n", Len: 1}), nil, true, ReduceOptions{}); err == nil ||
		!strings.Contains(err.Error(), "has no latitude, longitude or time dimension") {
		t.Errorf("average without axes to average: %v", err)
	}
}

// TestReduceResultAttributes checks what a user reading the file sees:
// counts are integers of observations, variances have squared units, and
// cell_methods grows.
func TestReduceResultAttributes(t *testing.T) {
	a := newField("tas", []float64{1, 2, math.NaN(), 4}, axisDim("time", cf.AxisT, []float64{0, 1}, nil), axisDim("lat", cf.AxisY, []float64{0, 1}, nil))
	a.meta.Type = netcdf.Float
	a.meta.Attrs = []netcdf.Attr{{Name: "units", Value: "K"}, {Name: "standard_name", Value: "air_temperature"},
		{Name: "cell_methods", Value: "area: mean"}, {Name: "_FillValue", Value: []float32{1e20}}}
	c := reduce(t, a, Count, "time")
	if m := c.Meta(); m.Type != netcdf.Int64 || attr(m, "units") != "1" || attr(m, "standard_name") != "air_temperature number_of_observations" ||
		attr(m, "_FillValue") != "" || attr(m, "cell_methods") != "" {
		t.Errorf("count metadata %+v", m)
	}
	closeTo(t, "count", readAll(t, c), []float64{1, 2}, 0)
	v := reduce(t, a, Variance, "time")
	if m := v.Meta(); m.Type != netcdf.Float || attr(m, "units") != "K^2" || attr(m, "cell_methods") != "area: mean time: variance" {
		t.Errorf("variance metadata %+v", m)
	}
	if got := squaredUnits("kg m-2 s-1"); got != "(kg m-2 s-1)^2" {
		t.Errorf("squared units %q", got)
	}
	closeTo(t, "variance", readAll(t, v), []float64{0, 1}, 1e-12)
}

func TestReduceEverythingToOneValue(t *testing.T) {
	pr := open(t, filepath.Join(sampleData(t), "pr_mon_360day.nc"), "pr")
	all := readAll(t, pr)
	var s, n float64
	for _, x := range all {
		if !math.IsNaN(x) {
			s, n = s+x, n+1
		}
	}
	for stat, want := range map[Statistic]float64{Mean: s / n, Sum: s, Count: n} {
		r := reduce(t, pr, stat)
		checkShape(t, r)
		got, shape := readFile(t, writeResult(t, r), "pr")
		if len(shape) != 0 {
			t.Errorf("%v: written shape %v, want a scalar", stat, shape)
		}
		closeTo(t, stat.String(), got, []float64{want}, 1e-6)
	}
}

func TestReduceErrors(t *testing.T) {
	tas := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	_, err := Reduce(tas, Mean, []string{"time", "depth"}, ReduceOptions{})
	if err == nil || err.Error() != "axis 'depth' is not a dimension of tas (time, lat, lon)" {
		t.Errorf("unknown axis: %v", err)
	}
	if _, err := ParseStatistic("median"); err == nil || !strings.Contains(err.Error(), "max, min, sum, mean, std, var, count") {
		t.Errorf("unknown statistic: %v", err)
	}
}

// TestReduceStreamsInSlabs checks that a reduction reads its input slab by
// slab, two slabs within SlabBytes, reads it once however often the
// result is read, and gives the same result with any slab size.
func TestReduceStreamsInSlabs(t *testing.T) {
	tas := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	step := int64(sample.NLat * sample.NLon * 8)
	for _, c := range []struct {
		name  string
		dims  []string
		slab  int64
		reads int
	}{
		{"time mean, two steps a read", []string{"time"}, 4 * step, 183},                                   // ceil(365/2)
		{"field mean, part of a step a read", []string{"lat", "lon"}, 4 * sample.NLon * 8, 365 * (36 / 2)}, // two rows a read
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &recordingArray{Array: tas}
			r, err := Reduce(rec, Mean, c.dims, ReduceOptions{SlabBytes: c.slab})
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, r)
			if 2*8*int64(rec.maxElems) > c.slab {
				t.Errorf("largest read was %d bytes; two of them exceed the limit %d", rec.maxElems*8, c.slab)
			}
			if rec.reads != c.reads {
				t.Errorf("%d reads, want %d", rec.reads, c.reads)
			}
			readAll(t, r)
			if rec.reads != c.reads {
				t.Errorf("reading the result again read the input again (%d reads)", rec.reads)
			}
			whole, err := Reduce(tas, Mean, c.dims, ReduceOptions{SlabBytes: 1 << 30})
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, "small slabs vs one slab", got, readAll(t, whole), 1e-12)
		})
	}
}

func TestReduceCancelled(t *testing.T) {
	tas := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	r := reduce(t, tas, Maximum, "time")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := r.Meta()
	dst := make([]float64, m.Size())
	if err := r.Read(ctx, []int{0, 0}, m.Shape(), nil, dst); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
	// The failure is not kept: a later read computes.
	closeTo(t, "after a cancelled read", readAll(t, r), readAll(t, reduce(t, tas, Maximum, "time")), 0)
}

// TestGroupByBins groups precipitation by its own values into 9 bins (10
// edges) and reduces each bin, against a direct computation.
func TestGroupByBins(t *testing.T) {
	pr := open(t, filepath.Join(sampleData(t), "pr_mon_360day.nc"), "pr")
	all := readAll(t, pr)
	edges := []float64{0, 1.2e-5, 1.4e-5, 1.6e-5, 1.8e-5, 2e-5, 2.2e-5, 2.4e-5, 2.6e-5, 2.8e-5}
	g, err := GroupByBins(pr, pr, edges)
	if err != nil {
		t.Fatal(err)
	}
	bins := make([][]float64, len(edges)-1)
	for _, x := range all {
		for b := range bins {
			if x > edges[b] && x <= edges[b+1] {
				bins[b] = append(bins[b], x)
			}
		}
	}
	stats := func(v []float64) map[Statistic]float64 {
		if len(v) == 0 {
			nan := math.NaN()
			return map[Statistic]float64{Mean: nan, Count: 0, Maximum: nan, Variance: nan}
		}
		s, mx := 0.0, math.Inf(-1)
		for _, x := range v {
			s, mx = s+x, math.Max(mx, x)
		}
		mean, ss := s/float64(len(v)), 0.0
		for _, x := range v {
			ss += (x - mean) * (x - mean)
		}
		return map[Statistic]float64{Mean: mean, Count: float64(len(v)), Maximum: mx, Variance: ss / float64(len(v))}
	}
	for _, stat := range []Statistic{Mean, Count, Maximum, Variance} {
		r := reduce(t, g, stat)
		m := r.Meta()
		if len(m.Dims) != 1 || m.Dims[0].Name != "pr_bins" || m.Dims[0].Len != 9 {
			t.Fatalf("dimensions %+v, want pr_bins of 9", m.Dims)
		}
		c := m.Dims[0].Coord
		if b := c.Bounds(); c.Values[0] != 0.6e-5 || b[0] != 0 || b[1] != 1.2e-5 || b[17] != 2.8e-5 {
			t.Errorf("bins coordinate %v bounds %v", c.Values, b)
		}
		want := make([]float64, len(bins))
		for b := range bins {
			want[b] = stats(bins[b])[stat]
		}
		closeTo(t, stat.String(), readAll(t, writeBack(t, r, "pr")), want, 1e-6)
	}
}

// writeBack writes a result and opens it again, as the next step of a
// workflow or the user would see it.
func writeBack(t *testing.T, a Array, name string) Array {
	t.Helper()
	return open(t, writeResult(t, a), name)
}

func TestGroupByBinsEdgesAndErrors(t *testing.T) {
	x := []float64{0, 1, 1.5, 2, 3, math.NaN()}
	dim := Dim{Name: "n", Len: len(x)}
	key := newField("k", x, dim)
	data := newField("d", []float64{10, 20, 30, 40, 50, 60}, dim)
	g, err := GroupByBins(data, key, []float64{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	// (0, 1] holds 1; (1, 2] holds 1.5 and 2; 0 (the first edge), 3 and NaN none.
	closeTo(t, "sum", readAll(t, reduce(t, g, Sum)), []float64{20, 70}, 0)
	// A rename or fillna applied to the grouped result keeps the grouping.
	r := reduce(t, Rename(FillNA(g, 0), "e"), Count)
	if r.Meta().Name != "e" || r.Meta().Dims[0].Name != "k_bins" {
		t.Errorf("renamed grouped result: %+v", r.Meta())
	}
	if _, err := Reduce(g, Mean, []string{"n"}, ReduceOptions{}); err == nil || !strings.Contains(err.Error(), "axes cannot be chosen") {
		t.Errorf("axes on grouped data: %v", err)
	}
	if _, err := Average(g, nil, true, ReduceOptions{}); err == nil {
		t.Error("average of grouped data succeeded")
	}
	for _, c := range []struct {
		edges []float64
		want  string
	}{{[]float64{1}, "at least two edges"}, {[]float64{0, 2, 1}, "ascending order"}, {[]float64{0, math.NaN()}, "invalid bin value"}} {
		if _, err := GroupByBins(data, key, c.edges); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("bins %v: %v, want %q", c.edges, err, c.want)
		}
	}
	if _, err := GroupByBins(data, newField("k", []float64{1}, Dim{Name: "m", Len: 1}), []float64{0, 1}); err == nil {
		t.Error("grouping by a variable of other dimensions succeeded")
	}
}

// TestVarianceWithoutCancellation gives values far from zero with a small
// spread (1e9 plus 0, 1, 2 repeating; variance 2/3), where the textbook
// sum-of-squares formula loses every digit, along each dimension and per bin.
func TestVarianceWithoutCancellation(t *testing.T) {
	const n = 300
	v := make([]float64, 2*n)
	for i := range n {
		v[2*i], v[2*i+1] = 1e9+float64(i%3), 1e9+float64(i%3)
	}
	a := newField("x", v, axisDim("time", cf.AxisT, make([]float64, n), nil), Dim{Name: "pair", Len: 2})
	closeTo(t, "over the first dimension", readAll(t, reduce(t, a, Variance, "time")), []float64{2.0 / 3, 2.0 / 3}, 1e-9)
	b := newField("x", v[:n], Dim{Name: "pair", Len: 1}, Dim{Name: "n", Len: n})
	closeTo(t, "over the last dimension", readAll(t, reduce(t, b, Variance, "n")), []float64{2.0 / 3}, 1e-9)
	g, err := GroupByBins(b, b, []float64{0, 2e9})
	if err != nil {
		t.Fatal(err)
	}
	// Welford's update, one value at a time, keeps 8 digits here; the
	// textbook formula would keep none.
	closeTo(t, "per bin", readAll(t, reduce(t, g, Variance)), []float64{2.0 / 3}, 1e-7)
}
