package ops

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/netcdf"
)

// concatArray joins parts along one dimension.
type concatArray struct {
	meta   *Meta
	parts  []Array
	axis   int
	offset []int // first index of each part along axis
}

// Aggregate joins arrays that hold the same variable split along time into
// one, in time order. Their other dimensions, units and calendars must
// agree, and their time ranges must not overlap.
func Aggregate(parts []Array) (Array, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("aggregate needs at least one input")
	}
	first := parts[0].Meta()
	axis := -1
	for i, d := range first.Dims {
		if d.Coord != nil && d.Coord.Axis == cf.AxisT && d.Coord.Time != nil {
			axis = i
		}
	}
	if axis < 0 {
		return nil, fmt.Errorf("aggregate: variable %q in %s has no time dimension with CF time units to join along", first.Name, source(first))
	}
	timeName := first.Dims[axis].Name
	// The result uses the time units of the earliest input.
	target := earliestUnits(parts, axis)
	type item struct {
		a     Array
		times []float64 // in target units
		bnds  []float64
	}
	items := make([]item, len(parts))
	for n, p := range parts {
		m := p.Meta()
		if m.Name != first.Name {
			return nil, fmt.Errorf("aggregate: every input must hold the same variable, got %q in %s and %q in %s", first.Name, source(first), m.Name, source(m))
		}
		if len(m.Dims) != len(first.Dims) || m.DimIndex(timeName) != axis {
			return nil, fmt.Errorf("aggregate: %s has dimensions %s, but %s has %s", source(m), dimNames(m), source(first), dimNames(first))
		}
		if u1, u2 := textOf(first.Attrs, "units"), textOf(m.Attrs, "units"); u1 != u2 {
			return nil, fmt.Errorf("aggregate: %q has units %q in %s but %q in %s", m.Name, u1, source(first), u2, source(m))
		}
		for i, d := range m.Dims {
			if i == axis {
				continue
			}
			if err := sameCoord(first.Dims[i], d); err != nil {
				return nil, fmt.Errorf("aggregate: %s and %s differ in dimension %q: %v", source(first), source(m), d.Name, err)
			}
		}
		c := m.Dims[axis].Coord
		if c.Time == nil {
			return nil, fmt.Errorf("aggregate: the time coordinate of %s has no CF time units", source(m))
		}
		if c.Time.Calendar() != target.Calendar() {
			return nil, fmt.Errorf("aggregate: %s uses the %s calendar but %s uses %s", source(first), target.Calendar(), source(m), c.Time.Calendar())
		}
		times, err := convertTimes(c.Values, *c.Time, *target)
		if err != nil {
			return nil, fmt.Errorf("aggregate: %s: %v", source(m), err)
		}
		var bnds []float64
		if cb := c.Bounds(); cb != nil {
			if bnds, err = convertTimes(cb, *c.Time, *target); err != nil {
				return nil, fmt.Errorf("aggregate: %s: %v", source(m), err)
			}
		}
		items[n] = item{p, times, bnds}
	}
	sort.SliceStable(items, func(i, j int) bool { return firstOr(items[i].times) < firstOr(items[j].times) })
	ca := &concatArray{axis: axis}
	var values, bounds []float64
	withBounds := true
	for n, it := range items {
		if n > 0 && len(it.times) > 0 {
			prev := items[n-1]
			if len(prev.times) > 0 && prev.times[len(prev.times)-1] >= it.times[0] {
				return nil, fmt.Errorf("aggregate: %s and %s overlap in time (%s ends at %s, the other starts at %s)",
					source(prev.a.Meta()), source(it.a.Meta()), source(prev.a.Meta()), dateOf(target, prev.times[len(prev.times)-1]), dateOf(target, it.times[0]))
			}
		}
		ca.parts = append(ca.parts, it.a)
		ca.offset = append(ca.offset, len(values))
		values = append(values, it.times...)
		if it.bnds == nil {
			withBounds = false
		}
		bounds = append(bounds, it.bnds...)
	}
	m := *items[0].a.Meta()
	m.Dims = append([]Dim(nil), m.Dims...)
	coord := *items[0].a.Meta().Dims[axis].Coord
	coord.Values = values
	coord.SetBounds(nil)
	if withBounds {
		coord.SetBounds(bounds)
	} else {
		coord.BoundsName = ""
	}
	m.Dims[axis] = Dim{Name: timeName, Len: len(values), Coord: &coord}
	m.Sources = nil
	for _, p := range ca.parts {
		pm := p.Meta()
		m.Sources = append(m.Sources, pm.Sources...)
		if pm.Type != m.Type {
			m.Type = netcdf.Double
		}
	}
	ca.meta = &m
	return ca, nil
}

func (c *concatArray) Meta() *Meta { return c.meta }

func (c *concatArray) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	stride, err := checkSlab(c.meta, start, count, stride, dst)
	if err != nil {
		return err
	}
	maps := make([]mapFunc, len(c.meta.Dims))
	for i := range maps {
		maps[i] = func(o int) (int, int) { return 0, o }
	}
	maps[c.axis] = func(o int) (int, int) {
		p := sort.SearchInts(c.offset, o+1) - 1
		return p, o - c.offset[p]
	}
	return readRemapped(ctx, maps, start, count, stride, dst,
		func(ctx context.Context, part int, s, cnt, st []int, d []float64) error {
			return c.parts[part].Read(ctx, s, cnt, st, d)
		})
}

// earliestUnits returns the time units of the input that starts first,
// comparing the inputs' first dates, each decoded in its own units.
func earliestUnits(parts []Array, axis int) *cf.TimeUnits {
	best := parts[0].Meta().Dims[axis].Coord.Time
	var bestDate cf.Date
	found := false
	for _, p := range parts {
		m := p.Meta()
		if axis >= len(m.Dims) || m.Dims[axis].Coord == nil || m.Dims[axis].Coord.Time == nil || m.Dims[axis].Len == 0 {
			continue
		}
		c := m.Dims[axis].Coord
		d, err := c.Time.Decode(c.Values[0])
		if err != nil {
			continue
		}
		if !found || d.Compare(bestDate) < 0 {
			best, bestDate, found = c.Time, d, true
		}
	}
	return best
}

func convertTimes(vals []float64, from, to cf.TimeUnits) ([]float64, error) {
	if from == to {
		return vals, nil
	}
	out := make([]float64, len(vals))
	for i, v := range vals {
		d, err := from.Decode(v)
		if err != nil {
			return nil, err
		}
		if out[i], err = to.Encode(d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sameCoord(a, b Dim) error {
	if a.Len != b.Len {
		return fmt.Errorf("%d points against %d", a.Len, b.Len)
	}
	if a.Coord == nil || b.Coord == nil {
		return nil
	}
	for i := range a.Coord.Values {
		x, y := a.Coord.Values[i], b.Coord.Values[i]
		if math.Abs(x-y) > tolerance(x) {
			return fmt.Errorf("point %d is %g against %g", i, x, y)
		}
	}
	return nil
}

func firstOr(v []float64) float64 {
	if len(v) == 0 {
		return math.Inf(1)
	}
	return v[0]
}

func dateOf(tu *cf.TimeUnits, v float64) string {
	if d, err := tu.Decode(v); err == nil {
		return d.String()
	}
	return fmt.Sprint(v)
}

func source(m *Meta) string {
	if len(m.Sources) == 1 {
		return m.Sources[0]
	}
	return fmt.Sprintf("the input %q", m.Name)
}

func dimNames(m *Meta) string {
	n := make([]string, len(m.Dims))
	for i, d := range m.Dims {
		n[i] = d.Name
	}
	return "(" + strings.Join(n, ", ") + ")"
}

func textOf(attrs []netcdf.Attr, name string) string {
	for _, a := range attrs {
		if a.Name == name {
			s, _ := a.Text()
			return strings.TrimSpace(s)
		}
	}
	return ""
}
