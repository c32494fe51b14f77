package ops

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/computewps/computewps/internal/cf"
)

// weightFactor is one factor of the weight of every value: a dense array
// over some of the input's dimensions (dims, ascending), so that a weight
// over latitude and one over time need not be multiplied out.
type weightFactor struct {
	dims    []int
	strides []int // step in w of each of dims
	w       []float64
	rowSums []float64 // when dims end with the input's last dimension: the sum of each run of it in w
}

func newFactor(m *Meta, dims []int, w []float64) weightFactor {
	f := weightFactor{dims: dims, strides: make([]int, len(dims)), w: w}
	step := 1
	for j := len(dims) - 1; j >= 0; j-- {
		f.strides[j] = step
		step *= m.Dims[dims[j]].Len
	}
	if last := len(m.Dims) - 1; dims[len(dims)-1] == last && m.Dims[last].Len > 0 {
		n := m.Dims[last].Len
		for o := 0; o < len(w); o += n {
			f.rowSums = append(f.rowSums, weightedSum(w[o:o+n], nil))
		}
	}
	return f
}

// Average returns the mean of a over dims (names or axis aliases; none
// means every latitude, longitude and time dimension a has). When weighted,
// each value counts in proportion to its cell: over latitude and longitude
// by cell area (from the cell-measure variable the data names, else from
// the coordinate bounds, else from bounds halfway between the points),
// over time by the length of the time step (from the time bounds, else
// halfway between the times). Missing values leave both the sum and the
// weights. Other dimensions are averaged plainly.
func Average(a Array, dims []string, weighted bool, opt ReduceOptions) (Array, error) {
	if _, data, ok := Ungroup(a); ok {
		return nil, fmt.Errorf("%s is grouped into bins; the mean of each bin is the mean, not the average", data.Meta().Name)
	}
	m := a.Meta()
	var idx []int
	if len(dims) == 0 {
		for i, d := range m.Dims {
			if d.Coord != nil && (d.Coord.Axis == cf.AxisX || d.Coord.Axis == cf.AxisY || d.Coord.Axis == cf.AxisT) {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			return nil, fmt.Errorf("%s (%s) has no latitude, longitude or time dimension to average over; name the axes", m.Name, listDims(m))
		}
	} else {
		var err error
		if idx, err = ResolveDims(m, dims); err != nil {
			return nil, err
		}
	}
	r := newReduction(a, Mean, idx, opt)
	if weighted {
		factors, err := averageWeights(a, idx)
		if err != nil {
			return nil, err
		}
		r.factors = factors
	}
	r.meta.Attrs = reducedAttrs(m, Mean, r.meta.Type, cellMethod(m, idx, Mean, !weighted && overLatLon(m, idx)))
	return r, nil
}

// averageWeights builds the weight factors for averaging a over idx.
func averageWeights(a Array, idx []int) ([]weightFactor, error) {
	m := a.Meta()
	y, x := -1, -1
	var factors []weightFactor
	for i, d := range m.Dims {
		if d.Coord == nil {
			continue
		}
		switch d.Coord.Axis {
		case cf.AxisY:
			y = i
		case cf.AxisX:
			x = i
		case cf.AxisT:
			if slices.Contains(idx, i) {
				factors = append(factors, newFactor(m, []int{i}, timeWeights(d.Coord)))
			}
		}
	}
	yr, xr := y >= 0 && slices.Contains(idx, y), x >= 0 && slices.Contains(idx, x)
	if !yr && !xr {
		return factors, nil
	}
	if y >= 0 && x >= 0 {
		area, err := cellArea(a, y, x)
		if err != nil {
			return nil, err
		}
		if area != nil {
			return append(factors, newFactor(m, []int{min(y, x), max(y, x)}, area)), nil
		}
	}
	// On a latitude-longitude grid the area of a cell is
	// R² (sin φ2 − sin φ1)(λ2 − λ1): a latitude factor times a longitude one.
	if yr {
		factors = append(factors, newFactor(m, []int{y}, latitudeWeights(m.Dims[y].Coord)))
	}
	if xr {
		factors = append(factors, newFactor(m, []int{x}, cellWidths(cellBounds(m.Dims[x].Coord))))
	}
	return factors, nil
}

// cellBounds returns a coordinate's bounds, two per point, or bounds
// halfway between the points (the ends as far out as the next point is in)
// when it has none.
func cellBounds(c *cf.Coord) []float64 {
	if b := c.Bounds(); b != nil {
		return b
	}
	v := c.Values
	n := len(v)
	b := make([]float64, 2*n)
	if n == 1 {
		b[0], b[1] = v[0]-0.5, v[0]+0.5
		return b
	}
	for i := range n {
		lo, hi := v[max(i-1, 0)], v[min(i+1, n-1)]
		switch i {
		case 0:
			lo = v[0] - (v[1] - v[0])
		case n - 1:
			hi = v[n-1] + (v[n-1] - v[n-2])
		}
		b[2*i], b[2*i+1] = (lo+v[i])/2, (v[i]+hi)/2
	}
	return b
}

// cellWidths are the lengths of the cells of bounds.
func cellWidths(bounds []float64) []float64 {
	w := make([]float64, len(bounds)/2)
	for i := range w {
		w[i] = math.Abs(bounds[2*i+1] - bounds[2*i])
	}
	return w
}

// latitudeWeights is sin φ2 − sin φ1 of each cell, the bounds kept within
// the poles.
func latitudeWeights(c *cf.Coord) []float64 {
	b := cellBounds(c)
	w := make([]float64, c.Len())
	for i := range w {
		lo := math.Max(-90, math.Min(90, b[2*i]))
		hi := math.Max(-90, math.Min(90, b[2*i+1]))
		w[i] = math.Abs(math.Sin(hi*math.Pi/180) - math.Sin(lo*math.Pi/180))
	}
	return w
}

// timeWeights is the length of each time step in days, so that months of
// different lengths count as they should even in units of months.
func timeWeights(c *cf.Coord) []float64 {
	b := cellBounds(c)
	if c.Time != nil {
		if days, err := cf.ParseTimeUnits("days since "+c.Time.Reference().String(), string(c.Time.Calendar())); err == nil {
			conv := make([]float64, len(b))
			for i, v := range b {
				d, err := c.Time.Decode(v)
				if err == nil {
					conv[i], err = days.Encode(d)
				}
				if err != nil {
					return cellWidths(b)
				}
			}
			b = conv
		}
	}
	return cellWidths(b)
}

// cellArea reads the cell-measure variable named by the data's
// cell_measures attribute ("area: areacella") from the file the data
// comes from, at the points the data covers: dense over the dimensions y
// and x in their order in a. It returns nil when there is none to use:
// the attribute is absent, the variable is in another file (CMIP's
// usual external_variables), or the data went through an operation that
// changed its grid.
func cellArea(a Array, y, x int) ([]float64, error) {
	m := a.Meta()
	ny, nx := m.Dims[y].Len, m.Dims[x].Len
	yName, xName := m.Dims[y].Name, m.Dims[x].Name
	ymap, xmap := identityMap(ny), identityMap(nx)
	for {
		switch t := a.(type) {
		case *renamed:
			a = t.Array
			continue
		case *filled:
			a = t.Array
			continue
		case *takeArray:
			sm := t.src.Meta()
			if i := sm.DimIndex(yName); i >= 0 && t.idx[i] != nil {
				ymap = composeTake(t.idx[i], ymap)
			}
			if i := sm.DimIndex(xName); i >= 0 && t.idx[i] != nil {
				xmap = composeTake(t.idx[i], xmap)
			}
			a = t.src
			continue
		case *concatArray:
			// Joined along time: every part has the same grid.
			a = t.parts[0]
			continue
		case *fileArray:
			return t.cellArea(yName, xName, ymap, xmap, y < x)
		}
		return nil, nil
	}
}

func identityMap(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// composeTake gives, for each index in m, the source index take[m[i]].
func composeTake(take, m []int) []int {
	out := make([]int, len(m))
	for i, j := range m {
		out[i] = take[j]
	}
	return out
}

func (f *fileArray) cellArea(yName, xName string, ymap, xmap []int, yFirst bool) ([]float64, error) {
	name := cellMeasure(textOf(f.meta.Attrs, "cell_measures"), "area")
	if name == "" {
		return nil, nil
	}
	v, err := f.ds.Var(name)
	if err != nil || len(v.Dims) != 2 {
		return nil, nil
	}
	var yAt int
	switch {
	case v.Dims[0].Name == yName && v.Dims[1].Name == xName:
		yAt = 0
	case v.Dims[0].Name == xName && v.Dims[1].Name == yName:
		yAt = 1
	default:
		return nil, nil
	}
	shape := []int{v.Dims[0].Len, v.Dims[1].Len}
	area := make([]float64, shape[0]*shape[1])
	if err := f.ds.File().Read(v.ID, []int{0, 0}, shape, nil, area); err != nil {
		return nil, fmt.Errorf("reading the cell areas %q: %w", name, err)
	}
	missing := cf.MissingValues(v)
	out := make([]float64, len(ymap)*len(xmap))
	for i, fy := range ymap {
		for j, fx := range xmap {
			k := fy*shape[1] + fx
			if yAt == 1 {
				k = fx*shape[1] + fy
			}
			w := area[k]
			if w != w || w < 0 || slices.Contains(missing, w) {
				w = 0 // no area: the cell does not count
			}
			if yFirst {
				out[i*len(xmap)+j] = w
			} else {
				out[j*len(ymap)+i] = w
			}
		}
	}
	return out, nil
}

// cellMeasure finds the variable of a measure in a cell_measures attribute
// such as "area: areacella volume: volcello".
func cellMeasure(attr, measure string) string {
	f := strings.Fields(attr)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == measure+":" {
			return f[i+1]
		}
	}
	return ""
}
