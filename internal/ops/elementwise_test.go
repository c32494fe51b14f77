package ops

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/netcdf"
)

// memArray is an Array over values in memory, in row-major order.
type memArray struct {
	meta *Meta
	data []float64
}

// newMem makes a float array with dimensions named and sized by dims
// ("x", 3, "y", 2) whose coordinates are 0, 1, 2…
func newMem(name string, data []float64, dims ...any) *memArray {
	m := &Meta{Name: name, Type: netcdf.Float, Attrs: []netcdf.Attr{{Name: "units", Value: "K"}}}
	for i := 0; i < len(dims); i += 2 {
		n := dims[i+1].(int)
		c := &cf.Coord{Name: dims[i].(string), Type: netcdf.Double, Values: make([]float64, n)}
		for k := range c.Values {
			c.Values[k] = float64(k)
		}
		m.Dims = append(m.Dims, Dim{Name: c.Name, Len: n, Coord: c})
	}
	return &memArray{meta: m, data: data}
}

func (a *memArray) Meta() *Meta { return a.meta }

func (a *memArray) Read(_ context.Context, start, count, stride []int, dst []float64) error {
	stride, err := checkSlab(a.meta, start, count, stride, dst)
	if err != nil {
		return err
	}
	shape := a.meta.Shape()
	steps := rowMajorSteps(shape)
	idx := make([]int, len(count))
	for k := range dst {
		off := 0
		for i := range idx {
			off += (start[i] + idx[i]*stride[i]) * steps[i]
		}
		dst[k] = a.data[off]
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < count[i] {
				break
			}
			idx[i] = 0
		}
	}
	return nil
}

// sameWithin compares values with a relative tolerance; missing values
// (NaN, or the fill value read back from a file) must match exactly.
func sameWithin(t *testing.T, what string, got, want []float64, rel float64) {
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
		if math.Abs(g-w) > rel*math.Max(math.Abs(w), 1e-30) {
			t.Fatalf("%s: value %d is %v, want %v", what, i, g, w)
		}
	}
}

// TestApplyMatchesCDO compares abs, exp, log, sqrt and power with CDO's
// abs, exp, ln, sqrt and pow on the same files, missing values included.
func TestApplyMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	tmp := t.TempDir()
	tas, pr := filepath.Join(dir, "tas_day_2000.nc"), filepath.Join(dir, "pr_mon_360day.nc")
	// Anomalies in tens of kelvin: negative values for abs, a range exp keeps in float32.
	anom := filepath.Join(tmp, "anom.nc")
	cdo(t, "-mulc,0.1", "-subc,273.15", tas, anom)
	for _, c := range []struct {
		name, in, variable, cdoOp string
		f                         func(Array) Array
	}{
		{"abs", anom, "tas", "abs", func(a Array) Array { return Apply(a, Abs) }},
		{"exp", anom, "tas", "exp", func(a Array) Array { return Apply(a, Exp) }},
		{"log", tas, "tas", "ln", func(a Array) Array { return Apply(a, Log) }},
		{"sqrt", tas, "tas", "sqrt", func(a Array) Array { return Apply(a, Sqrt) }},
		{"log of pr", pr, "pr", "ln", func(a Array) Array { return Apply(a, Log) }},
		{"sqrt of pr", pr, "pr", "sqrt", func(a Array) Array { return Apply(a, Sqrt) }},
		{"square", tas, "tas", "pow,2", func(a Array) Array { return Power(a, 2) }},
		{"power 0.5 of pr", pr, "pr", "pow,0.5", func(a Array) Array { return Power(a, 0.5) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ours := writeResult(t, c.f(open(t, c.in, c.variable)))
			ref := filepath.Join(t.TempDir(), "ref.nc")
			cdo(t, c.cdoOp, c.in, ref)
			got, _ := readFile(t, ours, c.variable)
			want, _ := readFile(t, ref, c.variable)
			sameWithin(t, c.name, got, want, 1e-5)
			if c.variable == "pr" && got[0] != float64(float32(1e20)) {
				t.Errorf("a missing value was written as %v, want the _FillValue 1e20", got[0])
			}
		})
	}
}

func TestUndefinedResultsAreMissing(t *testing.T) {
	in := newMem("x", []float64{-1, 0, 4, math.NaN(), 100}, "x", 5)
	nan := math.NaN()
	for _, c := range []struct {
		name string
		a    Array
		want []float64
	}{
		{"log", Apply(in, Log), []float64{nan, nan, math.Log(4), nan, math.Log(100)}},
		{"sqrt", Apply(in, Sqrt), []float64{nan, 0, 2, nan, 10}},
		{"abs", Apply(in, Abs), []float64{1, 0, 4, nan, 100}},
		// exp(100) is beyond float32: the float result cannot hold it.
		{"exp", Apply(in, Exp), []float64{math.Exp(-1), 1, math.Exp(4), nan, nan}},
		{"power -1", Power(in, -1), []float64{-1, nan, 0.25, nan, 0.01}},
		{"power 0.5", Power(in, 0.5), []float64{nan, 0, 2, nan, 10}},
		{"divide by zero", WithConst(in, Divide, 0), []float64{nan, nan, nan, nan, nan}},
	} {
		sameWithin(t, c.name, readAll(t, c.a), c.want, 1e-12)
	}
	// A double result holds exp(100).
	in.meta.Type = netcdf.Double
	if got := readAll(t, Apply(in, Exp))[4]; got != math.Exp(100) {
		t.Errorf("exp(100) as double = %v", got)
	}
}

func TestApplyKeepsUnitsOnlyWhereTheyHold(t *testing.T) {
	in := newMem("x", []float64{1}, "x", 1)
	in.meta.Attrs = append(in.meta.Attrs, netcdf.Attr{Name: "valid_range", Value: []float64{0, 1}}, netcdf.Attr{Name: "long_name", Value: "x"})
	for _, c := range []struct {
		a     Array
		units bool
	}{{Apply(in, Abs), true}, {Apply(in, Log), false}, {Power(in, 2), false}, {WithConst(in, Multiply, 2), true}} {
		m := c.a.Meta()
		if got := textOf(m.Attrs, "units") == "K"; got != c.units {
			t.Errorf("units kept = %v, want %v", got, c.units)
		}
		if textOf(m.Attrs, "long_name") != "x" {
			t.Errorf("long_name lost: %v", m.Attrs)
		}
		for _, a := range m.Attrs {
			if a.Name == "valid_range" {
				t.Errorf("valid_range kept on a computed result")
			}
		}
	}
}
