package regrid

import (
	"fmt"
	"math"
	"sort"
	"sync"
)

// Plan carries fields from one grid to another. The weights are computed
// once, when the plan is made; Apply then remaps one field (a time step, a
// level) at a time.
//
// On rectilinear grids the bilinear and conservative weights are products
// of a latitude factor and a longitude factor, so they are kept per target
// row and per target column and applied in two passes: memory grows with
// the number of rows and columns, not cells.
type Plan struct {
	Src, Dst *Grid
	Method   Method

	rows, cols sparse   // separable factors: source rows per target row, source columns per target column
	pair       *pairs   // bilinear: cols as two entries each, for the inner loop
	points     []sparse // bilinear rows beyond the outermost source centres: per target cell, flat source cells
	nearest    []int32  // nearest: flat source cell per target cell, -1 outside the source
	need       [][2]int // per target row, the source rows [lo, hi) it reads

	pool sync.Pool // scratch rows for Apply
}

// pairs is a sparse with exactly two entries per target; a target with
// none has weight NaN, so that it comes out missing.
type pairs struct {
	i0, i1 []int32
	w0, w1 []float64
}

func pairsOf(s *sparse) *pairs {
	n := len(s.start) - 1
	p := &pairs{make([]int32, n), make([]int32, n), make([]float64, n), make([]float64, n)}
	for t := 0; t < n; t++ {
		switch k := s.start[t]; s.start[t+1] - k {
		case 2:
			p.i0[t], p.i1[t], p.w0[t], p.w1[t] = s.idx[k], s.idx[k+1], s.w[k], s.w[k+1]
		case 0:
			p.w0[t] = math.NaN()
		default:
			return nil
		}
	}
	return p
}

// sparse holds, for each of n targets, a list of (index, weight).
type sparse struct {
	start []int32 // n+1 offsets into idx and w
	idx   []int32
	w     []float64
}

func (s *sparse) add(idx []int, w []float64) {
	if s.start == nil {
		s.start = []int32{0}
	}
	for k := range idx {
		s.idx = append(s.idx, int32(idx[k]))
		s.w = append(s.w, w[k])
	}
	s.start = append(s.start, int32(len(s.idx)))
}

// NewPlan computes the weights that carry fields on src to dst.
func NewPlan(src, dst *Grid, m Method) (*Plan, error) {
	p := &Plan{Src: src, Dst: dst, Method: m}
	if len(src.Lat) == 0 || len(src.Lon) == 0 || len(dst.Lat) == 0 || len(dst.Lon) == 0 {
		return nil, fmt.Errorf("regrid: empty grid")
	}
	sy, sx := newLatAxis(src), newLonAxis(src)
	switch m {
	case Bilinear:
		p.bilinear(sy, sx)
	case Conservative:
		p.conservative(sy, sx)
	case Nearest:
		p.nearestWeights(sy, sx)
	default:
		return nil, fmt.Errorf("unknown method %d", m)
	}
	return p, nil
}

// latAxis is the source latitudes in ascending order.
type latAxis struct {
	v      []float64 // centres, ascending
	ord    []int     // storage row of v[k]
	lo, hi float64   // extent of the cells
}

func newLatAxis(g *Grid) *latAxis {
	n := len(g.Lat)
	a := &latAxis{v: make([]float64, n), ord: make([]int, n), lo: 90, hi: -90}
	for k := range a.ord {
		a.ord[k] = k
	}
	if n > 1 && g.Lat[1] < g.Lat[0] {
		for k := range a.ord {
			a.ord[k] = n - 1 - k
		}
	}
	for k, j := range a.ord {
		a.v[k] = g.Lat[j]
	}
	for _, b := range g.LatBounds {
		a.lo, a.hi = math.Min(a.lo, b), math.Max(a.hi, b)
	}
	return a
}

// lonAxis is the source longitudes unwrapped and ascending, with their
// cells in the same frame.
type lonAxis struct {
	v        []float64
	ord      []int
	lo, hi   []float64
	periodic bool // the cells go round the globe
}

// seamTolerance absorbs the rounding of stored coordinates when deciding
// whether cells close up at the seam.
const seamTolerance = 1e-4

func newLonAxis(g *Grid) *lonAxis {
	n := len(g.Lon)
	u := unwrap(g.Lon)
	a := &lonAxis{v: make([]float64, n), ord: make([]int, n), lo: make([]float64, n), hi: make([]float64, n)}
	for k := range a.ord {
		a.ord[k] = k
		if n > 1 && u[1] < u[0] {
			a.ord[k] = n - 1 - k
		}
	}
	for k, i := range a.ord {
		a.v[k] = u[i]
		o1 := math.Remainder(g.LonBounds[2*i]-g.Lon[i], 360)
		o2 := math.Remainder(g.LonBounds[2*i+1]-g.Lon[i], 360)
		a.lo[k], a.hi[k] = u[i]+math.Min(o1, o2), u[i]+math.Max(o1, o2)
	}
	// A last column that repeats the first (0 … 360 inclusive) would count
	// twice.
	if n > 1 && a.v[n-1]-a.v[0] >= 360-seamTolerance {
		a.v, a.ord, a.lo, a.hi = a.v[:n-1], a.ord[:n-1], a.lo[:n-1], a.hi[:n-1]
		n--
	}
	a.periodic = a.hi[n-1]-a.lo[0] >= 360-seamTolerance
	return a
}

// bracket finds the source centres around x by CDO's rule lo < x ≤ hi, so
// a target on a source centre takes the cell below it. It returns the
// positions of the two centres in v and the weight of the upper one.
func bracket(v []float64, x float64) (k0, k1 int, f float64, ok bool) {
	n := len(v)
	if n == 1 {
		return 0, 0, 0, x == v[0]
	}
	if x == v[0] {
		return 0, 1, 0, true
	}
	if x < v[0] || x > v[n-1] {
		return 0, 0, 0, false
	}
	m := sort.SearchFloat64s(v, x) // first v[m] >= x, m ≥ 1
	return m - 1, m, (x - v[m-1]) / (v[m] - v[m-1]), true
}

// lonBracket is bracket for longitudes, across the seam when periodic.
func (a *lonAxis) lonBracket(x float64) (k0, k1 int, f float64, ok bool) {
	n := len(a.v)
	// x into (v0, v0+360], so that x on the first centre wraps to the top
	// like any other centre.
	x = a.v[0] + 360 - math.Mod(math.Mod(a.v[0]+360-x, 360)+360, 360)
	if a.periodic {
		if x > a.v[n-1] {
			top := a.v[0] + 360
			return n - 1, 0, (x - a.v[n-1]) / (top - a.v[n-1]), true
		}
		if n == 1 {
			return 0, 0, 0, true
		}
	}
	if x-360 == a.v[0] {
		x -= 360
	}
	return bracket(a.v, x)
}

func (p *Plan) bilinear(sy *latAxis, sx *lonAxis) {
	nyS, nxS := len(p.Src.Lat), len(p.Src.Lon)
	for _, x := range p.Dst.Lon {
		k0, k1, f, ok := sx.lonBracket(x)
		if !ok {
			p.cols.add(nil, nil)
			continue
		}
		p.cols.add([]int{sx.ord[k0], sx.ord[k1]}, []float64{1 - f, f})
	}
	p.pair = pairsOf(&p.cols)
	p.points = make([]sparse, len(p.Dst.Lat))
	for jt, y := range p.Dst.Lat {
		k0, k1, f, ok := bracket(sy.v, y)
		switch {
		case ok:
			p.rows.add([]int{sy.ord[k0], sy.ord[k1]}, []float64{1 - f, f})
			p.need = append(p.need, span(sy.ord[k0], sy.ord[k1]))
		case sx.periodic && y >= sy.lo && y <= sy.hi:
			// Between the outermost centres and the pole (or the edge of
			// the cells): CDO's fallback, the inverse-distance average of
			// the four nearest source points.
			p.rows.add(nil, nil)
			rows := sy.ord[max(0, len(sy.v)-3):]
			if y < sy.v[0] {
				rows = sy.ord[:min(3, len(sy.v))]
			}
			for _, x := range p.Dst.Lon {
				idx, w := fourNearest(y, x, rows, p.Src, sx, nxS)
				p.points[jt].add(idx, w)
			}
			lo, hi := nyS, 0
			for _, j := range rows {
				lo, hi = min(lo, j), max(hi, j+1)
			}
			p.need = append(p.need, [2]int{lo, hi})
		default:
			p.rows.add(nil, nil)
			p.need = append(p.need, [2]int{})
		}
	}
}

func span(a, b int) [2]int { return [2]int{min(a, b), max(a, b) + 1} }

// fourNearest returns the four source points nearest to (y, x) among the
// given rows, and inverse-distance weights.
func fourNearest(y, x float64, rows []int, g *Grid, sx *lonAxis, nxS int) ([]int, []float64) {
	type cand struct {
		flat int
		d    float64
	}
	var cs []cand
	cols := sx.nearestColumns(x, 3)
	for _, j := range rows {
		for _, i := range cols {
			cs = append(cs, cand{j*nxS + i, arc(y, x, g.Lat[j], g.Lon[i])})
		}
	}
	sort.Slice(cs, func(a, b int) bool {
		if cs[a].d != cs[b].d {
			return cs[a].d < cs[b].d
		}
		return cs[a].flat < cs[b].flat
	})
	cs = cs[:min(4, len(cs))]
	idx, w := make([]int, len(cs)), make([]float64, len(cs))
	for k, c := range cs {
		idx[k] = c.flat
		if c.d == 0 {
			return []int{c.flat}, []float64{1}
		}
		w[k] = 1 / c.d
	}
	return idx, w
}

// nearestColumns lists the storage indices of up to 2·each columns around x.
func (a *lonAxis) nearestColumns(x float64, each int) []int {
	n := len(a.v)
	if n <= 2*each {
		return append([]int(nil), a.ord...)
	}
	x = a.v[0] + math.Mod(math.Mod(x-a.v[0], 360)+360, 360)
	m := sort.SearchFloat64s(a.v, x)
	var out []int
	for k := m - each; k < m+each; k++ {
		out = append(out, a.ord[((k%n)+n)%n])
	}
	return out
}

// arc is the great-circle angle between two points, in radians.
func arc(lat1, lon1, lat2, lon2 float64) float64 {
	return 2 * math.Asin(math.Sqrt(math.Min(1, haversine(lat1, lon1, lat2, lon2))))
}

// haversine is sin²(d/2) of the angle d between two points, which orders
// points by distance without the arcsine.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const r = math.Pi / 180
	sy := math.Sin((lat2 - lat1) * r / 2)
	sx := math.Sin(math.Remainder(lon2-lon1, 360) * r / 2)
	return sy*sy + math.Cos(lat1*r)*math.Cos(lat2*r)*sx*sx
}

// sliver drops overlaps that are only rounding between cells that touch.
const sliver = 1e-10

func (p *Plan) conservative(sy *latAxis, sx *lonAxis) {
	const r = math.Pi / 180
	srcLo, srcHi := make([]float64, len(p.Src.Lat)), make([]float64, len(p.Src.Lat))
	for j := range p.Src.Lat {
		a, b := p.Src.LatBounds[2*j], p.Src.LatBounds[2*j+1]
		srcLo[j], srcHi[j] = math.Sin(math.Min(a, b)*r), math.Sin(math.Max(a, b)*r)
	}
	for jt := range p.Dst.Lat {
		a, b := p.Dst.LatBounds[2*jt], p.Dst.LatBounds[2*jt+1]
		lo, hi := math.Sin(math.Min(a, b)*r), math.Sin(math.Max(a, b)*r)
		var idx []int
		var w []float64
		nd := [2]int{}
		for j := range srcLo {
			// Areas of latitude bands are proportional to the difference
			// of the sines of their edges.
			ov := math.Min(hi, srcHi[j]) - math.Max(lo, srcLo[j])
			if ov > sliver*(hi-lo) {
				idx, w = append(idx, j), append(w, ov)
				if nd[1] == 0 {
					nd[0] = j
				}
				nd[1] = j + 1
			}
		}
		p.rows.add(idx, w)
		p.need = append(p.need, nd)
	}
	for it := range p.Dst.Lon {
		a, b := p.Dst.LonBounds[2*it], p.Dst.LonBounds[2*it+1]
		lo, hi := math.Min(a, b), math.Max(a, b)
		var idx []int
		var w []float64
		for k := range sx.v {
			ov := arcOverlap(lo, hi, sx.lo[k], sx.hi[k])
			if ov > sliver*(hi-lo) {
				idx, w = append(idx, sx.ord[k]), append(w, ov)
			}
		}
		p.cols.add(idx, w)
	}
}

// arcOverlap is the length of the overlap of two longitude intervals, each
// at most 360° long, wherever they lie relative to the seam.
func arcOverlap(a0, a1, b0, b1 float64) float64 {
	shift := 360 * math.Floor((b0-a0)/360) // b0 into [a0, a0+360)
	b0, b1 = b0-shift, b1-shift
	ov := math.Max(0, math.Min(a1, b1)-b0)
	ov += math.Max(0, math.Min(a1, b1-360)-a0) // the part of b past the seam
	return ov
}

func (p *Plan) nearestWeights(sy *latAxis, sx *lonAxis) {
	nxS := len(p.Src.Lon)
	nxT := len(p.Dst.Lon)
	// The nearest centre in longitude is the same on every row of a
	// rectilinear grid: distance grows with the difference in longitude.
	col := make([]int, nxT)
	for it, x := range p.Dst.Lon {
		col[it] = -1
		if !sx.periodic {
			if xx := sx.lo[0] + math.Mod(math.Mod(x-sx.lo[0], 360)+360, 360); xx > sx.hi[len(sx.hi)-1] {
				continue // outside the source: not extrapolated
			}
		}
		best := math.Inf(1)
		for k, v := range sx.v {
			d := math.Abs(math.Remainder(x-v, 360))
			if d < best || d == best && sx.ord[k] < col[it] {
				best, col[it] = d, sx.ord[k]
			}
		}
	}
	p.nearest = make([]int32, len(p.Dst.Lat)*nxT)
	for jt, y := range p.Dst.Lat {
		nd := [2]int{}
		for it, x := range p.Dst.Lon {
			t := jt*nxT + it
			p.nearest[t] = -1
			if col[it] < 0 || y < sy.lo || y > sy.hi {
				continue
			}
			j := sy.nearestRow(y, x, p.Src.Lon[col[it]])
			p.nearest[t] = int32(j*nxS + col[it])
			if nd[1] == 0 {
				nd = [2]int{j, j + 1}
			}
			nd[0], nd[1] = min(nd[0], j), max(nd[1], j+1)
		}
		p.need = append(p.need, nd)
	}
}

// nearestRow finds the source row whose point in column lon is nearest to
// (y, x), searching outward from the nearest latitude until the latitude
// difference alone exceeds the best distance. Ties go to the lower row.
func (a *latAxis) nearestRow(y, x, lon float64) int {
	n := len(a.v)
	m := sort.SearchFloat64s(a.v, y)
	best, bestRow := math.Inf(1), -1
	try := func(k int) bool {
		dy := math.Sin((a.v[k] - y) * math.Pi / 360)
		if dy*dy > best {
			return false
		}
		h := haversine(y, x, a.v[k], lon)
		if h < best || h == best && a.ord[k] < bestRow {
			best, bestRow = h, a.ord[k]
		}
		return true
	}
	for k := m; k < n && try(k); k++ {
	}
	for k := m - 1; k >= 0 && try(k); k-- {
	}
	return bestRow
}
