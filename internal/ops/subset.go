package ops

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/workflow"
)

// takeArray is a view of some indices of each dimension of its source.
type takeArray struct {
	src  Array
	meta *Meta
	idx  [][]int // per dimension; nil keeps the dimension whole
}

// Take returns a view of a with, for each dimension named in idx, only the
// listed source indices (in that order). shift optionally moves the
// coordinate values of a dimension (longitudes across the seam).
func Take(a Array, idx map[string][]int, shift map[string][]float64) (Array, error) {
	sm := a.Meta()
	m := *sm
	m.Dims = append([]Dim(nil), sm.Dims...)
	t := &takeArray{src: a, meta: &m, idx: make([][]int, len(sm.Dims))}
	for name, list := range idx {
		i := sm.DimIndex(name)
		if i < 0 {
			return nil, fmt.Errorf("ops: %s has no dimension %s", sm.Name, name)
		}
		for _, x := range list {
			if x < 0 || x >= sm.Dims[i].Len {
				return nil, fmt.Errorf("ops: index %d out of range for dimension %s", x, name)
			}
		}
		t.idx[i] = list
		m.Dims[i].Len = len(list)
		m.Dims[i].Coord = sm.Dims[i].Coord.Take(list, shift[name])
	}
	return t, nil
}

func (t *takeArray) Meta() *Meta { return t.meta }

func (t *takeArray) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	stride, err := checkSlab(t.meta, start, count, stride, dst)
	if err != nil {
		return err
	}
	maps := make([]mapFunc, len(t.idx))
	for i, list := range t.idx {
		if list == nil {
			maps[i] = func(o int) (int, int) { return 0, o }
		} else {
			maps[i] = func(o int) (int, int) { return 0, list[o] }
		}
	}
	return readRemapped(ctx, maps, start, count, stride, dst,
		func(ctx context.Context, _ int, s, c, st []int, d []float64) error {
			return t.src.Read(ctx, s, c, st, d)
		})
}

// SubsetError is a domain that selects nothing or names a dimension the
// data does not have. Its text is meant for the user.
type SubsetError struct{ Text string }

func (e *SubsetError) Error() string { return e.Text }

func subsetErrorf(format string, args ...any) error {
	return &SubsetError{Text: fmt.Sprintf(format, args...)}
}

// Subset applies a domain to a. method ("", "nearest", "pad", "backfill")
// chooses how a single value (start == end) that is not exactly on a
// coordinate is matched. Progress lines ("Subset 'lat' 180 -> 90") go to note.
func Subset(a Array, dims []workflow.Dimension, method string, note func(string)) (Array, error) {
	m := a.Meta()
	idx := map[string][]int{}
	shift := map[string][]float64{}
	for _, d := range dims {
		i, err := findDim(m, d.Name)
		if err != nil {
			return nil, err
		}
		dim := m.Dims[i]
		if _, dup := idx[dim.Name]; dup {
			return nil, subsetErrorf("the domain constrains dimension %q twice", dim.Name)
		}
		sel, sh, err := selectDim(dim, d, method)
		if err != nil {
			return nil, err
		}
		if d.Step > 1 {
			sel, sh = every(sel, d.Step), everyF(sh, d.Step)
		}
		if len(sel) == 0 {
			return nil, subsetErrorf("subset of %q resulted in a zero length dimension: %s from %s to %s (%s) selects nothing; %s",
				dim.Name, dim.Name, d.Start, d.End, d.CRS, describeCoord(dim))
		}
		if note != nil {
			note(fmt.Sprintf("Subset '%s' %d -> %d", dim.Name, dim.Len, len(sel)))
		}
		idx[dim.Name] = sel
		if sh != nil {
			shift[dim.Name] = sh
		}
	}
	if len(idx) == 0 {
		return a, nil
	}
	return Take(a, idx, shift)
}

// findDim matches a domain dimension to the data: by name, else by axis
// ("latitude" finds "lat").
func findDim(m *Meta, name string) (int, error) {
	if i := m.DimIndex(name); i >= 0 {
		return i, nil
	}
	if ax := cf.AxisByName(name); ax != cf.AxisNone {
		for i, d := range m.Dims {
			if d.Coord != nil && d.Coord.Axis == ax {
				return i, nil
			}
		}
	}
	names := make([]string, len(m.Dims))
	for i, d := range m.Dims {
		names[i] = d.Name
	}
	return -1, subsetErrorf("the domain names dimension %q, but variable %q has dimensions %s", name, m.Name, strings.Join(names, ", "))
}

func describeCoord(d Dim) string {
	c := d.Coord
	if c == nil || c.Len() == 0 {
		return fmt.Sprintf("%s has %d points", d.Name, d.Len)
	}
	first, last := c.Values[0], c.Values[c.Len()-1]
	s := fmt.Sprintf("%s has %d points from %g to %g", d.Name, d.Len, first, last)
	if c.Time != nil {
		if t0, err := c.Time.Decode(first); err == nil {
			if t1, err := c.Time.Decode(last); err == nil {
				s += fmt.Sprintf(" (%s to %s, %s calendar)", t0, t1, c.Time.Calendar())
			}
		}
	}
	return s
}

func selectDim(dim Dim, d workflow.Dimension, method string) ([]int, []float64, error) {
	switch d.CRS {
	case workflow.Indices:
		return selectIndices(dim.Len, int(d.Start.Num), int(d.End.Num)), nil, nil
	case workflow.Values:
		if dim.Coord != nil && dim.Coord.Axis == cf.AxisX && isDegrees(dim.Coord) {
			sel, sh := selectLongitudes(dim.Coord.Values, d.Start.Num, d.End.Num, method)
			return sel, sh, nil
		}
		return selectValues(dim.Coord.Values, d.Start.Num, d.End.Num, method), nil, nil
	case workflow.Timestamps:
		c := dim.Coord
		if c == nil || c.Time == nil {
			return nil, nil, subsetErrorf("dimension %q is not a time axis with CF units, so it cannot be selected with timestamps", dim.Name)
		}
		lo, hi, err := timeRange(c.Time, d.Start.Str, d.End.Str)
		if err != nil {
			return nil, nil, subsetErrorf("dimension %q: %v", dim.Name, err)
		}
		var sel []int
		for i, v := range c.Values {
			if v >= lo && v < hi {
				sel = append(sel, i)
			}
		}
		return sel, nil, nil
	}
	return nil, nil, subsetErrorf("unknown crs %q", d.CRS)
}

// selectIndices follows Python slice semantics (end exclusive, negative
// counts from the end), except that start == end selects that one index.
func selectIndices(n, start, end int) []int {
	norm := func(i int) int {
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n)
	}
	if start == end {
		if i := start; i < 0 && i+n >= 0 || i >= 0 && i < n {
			return []int{(i + n) % n}
		}
		return nil
	}
	s, e := norm(start), norm(end)
	var sel []int
	for i := s; i < e; i++ {
		sel = append(sel, i)
	}
	return sel
}

// tolerance absorbs the rounding of float32 coordinates (0.1 stored as
// 0.10000000149) when comparing with the decimal numbers users type.
func tolerance(v float64) float64 { return 1e-6 * max(1, math.Abs(v)) }

// selectValues keeps the points with lo <= value <= hi in storage order, so a
// descending latitude axis is subset the same way as an ascending one.
func selectValues(vals []float64, a, b float64, method string) []int {
	if a == b {
		if i, ok := nearest(vals, a, method); ok {
			return []int{i}
		}
		return nil
	}
	lo, hi := min(a, b), max(a, b)
	var sel []int
	for i, v := range vals {
		if v >= lo-tolerance(lo) && v <= hi+tolerance(hi) {
			sel = append(sel, i)
		}
	}
	return sel
}

// nearest finds the point for a single value: an exact match, or with
// method nearest/pad/backfill the closest, the last below, the first above.
func nearest(vals []float64, x float64, method string) (int, bool) {
	best, bestDist := -1, math.Inf(1)
	for i, v := range vals {
		d := v - x
		switch method {
		case "pad", "ffill":
			if d > tolerance(x) {
				continue
			}
		case "backfill", "bfill":
			if d < -tolerance(x) {
				continue
			}
		case "nearest":
		default:
			if math.Abs(d) > tolerance(x) {
				continue
			}
		}
		if math.Abs(d) < bestDist {
			best, bestDist = i, math.Abs(d)
		}
	}
	return best, best >= 0
}

func isDegrees(c *cf.Coord) bool {
	return strings.HasPrefix(strings.ToLower(c.Units()), "degree")
}

// selectLongitudes picks the longitudes that fall in [a, b] after adding a
// multiple of 360°, so -30..30 on a 0..360 grid gives 330..360 then 0..30,
// with values -30..30. The result is ordered by the shifted longitude.
func selectLongitudes(vals []float64, a, b float64, method string) ([]int, []float64) {
	if a == b {
		x := a
		// Compare against the point moved into x's 360° window.
		shifted := make([]float64, len(vals))
		shifts := make([]float64, len(vals))
		for i, v := range vals {
			k := math.Round((x - v) / 360)
			shifts[i] = 360 * k
			shifted[i] = v + shifts[i]
		}
		if i, ok := nearest(shifted, x, method); ok {
			return []int{i}, []float64{shifts[i]}
		}
		return nil, nil
	}
	lo, hi := min(a, b), max(a, b)
	type pick struct {
		i     int
		value float64
		shift float64
	}
	var picks []pick
	for i, v := range vals {
		k := math.Ceil((lo - tolerance(lo) - v) / 360)
		s := v + 360*k
		if s <= hi+tolerance(hi) {
			picks = append(picks, pick{i, s, 360 * k})
		}
	}
	sort.SliceStable(picks, func(x, y int) bool { return picks[x].value < picks[y].value })
	idx := make([]int, len(picks))
	var shift []float64
	for n, p := range picks {
		idx[n] = p.i
		if p.shift != 0 && shift == nil {
			shift = make([]float64, len(picks))
		}
	}
	if shift != nil {
		for n, p := range picks {
			shift[n] = p.shift
		}
	}
	return idx, shift
}

// timeRange converts inclusive timestamps to a half-open range of time
// values: "1980-01" to "1980-12" covers the whole of December.
func timeRange(tu *cf.TimeUnits, start, end string) (float64, float64, error) {
	cal := tu.Calendar()
	s0, _, err := cf.ParseTimestamp(start, cal)
	if err != nil {
		return 0, 0, err
	}
	_, e1, err := cf.ParseTimestamp(end, cal)
	if err != nil {
		return 0, 0, err
	}
	lo, err := tu.Encode(s0)
	if err != nil {
		return 0, 0, err
	}
	hi, err := tu.Encode(e1)
	if err != nil {
		return 0, 0, err
	}
	if hi <= lo {
		return 0, 0, fmt.Errorf("the end %q is before the start %q", end, start)
	}
	return lo, hi, nil
}

func every(sel []int, step int) []int {
	var out []int
	for i := 0; i < len(sel); i += step {
		out = append(out, sel[i])
	}
	return out
}

func everyF(sel []float64, step int) []float64 {
	if sel == nil {
		return nil
	}
	var out []float64
	for i := 0; i < len(sel); i += step {
		out = append(out, sel[i])
	}
	return out
}
