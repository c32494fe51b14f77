package ops

import "math"

// An accumulator gathers the values of a reduction into result cells, in
// float64, skipping missing values (NaN). Weights (a per-value vector wv,
// nil for none, times a scalar w) are only given for a Mean.
type accumulator interface {
	kept(off int, v, wv []float64, w float64)           // v[i] goes to cell off+i
	reduced(cell int, v, wv []float64, wsum, w float64) // every v[i] goes to cell; wsum is the sum of wv (len(v) for nil)
	scatter(cells []int32, v []float64)                 // v[i] goes to cells[i]; -1 skips it
	finish(dst []float64)
}

// newAccumulator makes the accumulator of stat for a result of the given
// number of cells, each gathering perCell values (when not grouped).
func newAccumulator(stat Statistic, cells int, weighted bool, perCell float64) accumulator {
	switch stat {
	case Maximum, Minimum:
		a := &extremeAcc{max: stat == Maximum, val: make([]float64, cells)}
		for i := range a.val {
			a.val[i] = math.NaN()
		}
		return a
	case StdDev, Variance:
		return &momentAcc{std: stat == StdDev, cells: cells, perCell: perCell}
	}
	return &sumAcc{stat: stat, sum: make([]float64, cells), n: make([]float64, cells), weighted: weighted, perCell: perCell}
}

// sumAcc sums values and their weights (counts when unweighted) for Sum,
// Mean and Count. Unweighted rows that land on as many cells count the
// missing values instead, the cheaper one in the hot loop of a time mean:
// every cell then sees perCell values, less those missing.
type sumAcc struct {
	stat     Statistic
	sum, n   []float64
	weighted bool
	perCell  float64 // values each cell sees
	missing  bool    // n counts missing values
}

func (a *sumAcc) kept(off int, v, wv []float64, w float64) {
	s, n := a.sum[off:off+len(v)], a.n[off:off+len(v)]
	switch {
	case !a.weighted:
		a.missing = true
		i := 0
		for ; i+4 <= len(v); i += 4 {
			x0, x1, x2, x3 := v[i], v[i+1], v[i+2], v[i+3]
			if t := x0 + x1 + x2 + x3; t == t { // no NaN among the four
				s[i] += x0
				s[i+1] += x1
				s[i+2] += x2
				s[i+3] += x3
				continue
			}
			for j := i; j < i+4; j++ {
				if x := v[j]; x == x {
					s[j] += x
				} else {
					n[j]++
				}
			}
		}
		for ; i < len(v); i++ {
			if x := v[i]; x == x {
				s[i] += x
			} else {
				n[i]++
			}
		}
	case wv == nil:
		for i, x := range v {
			if x == x {
				s[i] += w * x
				n[i] += w
			}
		}
	default:
		wv = wv[:len(v)]
		for i, x := range v {
			if x == x {
				s[i] += w * wv[i] * x
				n[i] += w * wv[i]
			}
		}
	}
}

// reduced sums a row into one cell. It first assumes the row has no
// missing value: four partial sums, so that the additions do not wait on
// each other, and the weights' sum known in advance. A NaN total means the
// row does have some, and it is summed again value by value.
func (a *sumAcc) reduced(cell int, v, wv []float64, wsum, w float64) {
	s, n := weightedSum(v, wv), wsum
	if s != s {
		s, n = 0, 0
		for i, x := range v {
			if x == x {
				if wv == nil {
					s, n = s+x, n+1
				} else {
					s, n = s+wv[i]*x, n+wv[i]
				}
			}
		}
	}
	a.sum[cell] += w * s
	a.n[cell] += w * n
}

// weightedSum is the sum of v[i]·wv[i], or of v when wv is nil.
func weightedSum(v, wv []float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	if wv == nil {
		for ; i+4 <= len(v); i += 4 {
			s0, s1, s2, s3 = s0+v[i], s1+v[i+1], s2+v[i+2], s3+v[i+3]
		}
		for ; i < len(v); i++ {
			s0 += v[i]
		}
	} else {
		wv = wv[:len(v)]
		for ; i+4 <= len(v); i += 4 {
			s0, s1, s2, s3 = s0+wv[i]*v[i], s1+wv[i+1]*v[i+1], s2+wv[i+2]*v[i+2], s3+wv[i+3]*v[i+3]
		}
		for ; i < len(v); i++ {
			s0 += wv[i] * v[i]
		}
	}
	return (s0 + s1) + (s2 + s3)
}

func (a *sumAcc) scatter(cells []int32, v []float64) {
	v = v[:len(cells)]
	for i, c := range cells {
		if x := v[i]; c >= 0 && x == x {
			a.sum[c] += x
			a.n[c]++
		}
	}
}

func (a *sumAcc) finish(dst []float64) {
	for i, n := range a.n {
		if a.missing {
			n = a.perCell - n
		}
		switch {
		case a.stat == Count:
			dst[i] = n
		case n == 0:
			dst[i] = math.NaN()
		case a.stat == Mean:
			dst[i] = a.sum[i] / n
		default:
			dst[i] = a.sum[i]
		}
	}
}

// extremeAcc keeps the largest (or smallest) value; a cell stays NaN until
// it sees a value.
type extremeAcc struct {
	max bool
	val []float64
}

func (a *extremeAcc) kept(off int, v, _ []float64, _ float64) {
	m := a.val[off : off+len(v)]
	if a.max {
		for i, x := range v {
			if x > m[i] || m[i] != m[i] {
				m[i] = x
			}
		}
	} else {
		for i, x := range v {
			if x < m[i] || m[i] != m[i] {
				m[i] = x
			}
		}
	}
}

func (a *extremeAcc) reduced(cell int, v, _ []float64, _, _ float64) {
	m := a.val[cell]
	if a.max {
		for _, x := range v {
			if x > m || m != m {
				m = x
			}
		}
	} else {
		for _, x := range v {
			if x < m || m != m {
				m = x
			}
		}
	}
	a.val[cell] = m
}

func (a *extremeAcc) scatter(cells []int32, v []float64) {
	v = v[:len(cells)]
	for i, c := range cells {
		if c < 0 {
			continue
		}
		x, m := v[i], a.val[c]
		if a.max && x > m || !a.max && x < m || m != m {
			a.val[c] = x
		}
	}
}

func (a *extremeAcc) finish(dst []float64) { copy(dst, a.val) }

// momentAcc gathers what a variance needs without large sums that cancel.
// Rows whose values each go to their own cell (a time std) keep, per
// cell, the sums of the deviations from a shift (the cell's first value)
// and of their squares, which needs no division per value and loses
// nothing to cancellation since the shift lies among the values. Other rows
// and bins keep the count, mean and sum of squared deviations (M2): a
// row at a time by Chan's formula for combining two groups, the row's own
// mean and M2 from two passes over it in memory, and a value at a time
// by Welford's method.
type momentAcc struct {
	std     bool
	cells   int
	perCell float64 // values each cell sees, for kept rows

	shift, s1, s2, miss []float64 // kept rows
	n, mean, m2         []float64 // other rows and bins
}

func (a *momentAcc) kept(off int, v, _ []float64, _ float64) {
	if a.shift == nil {
		a.shift, a.s1, a.s2, a.miss = make([]float64, a.cells), make([]float64, a.cells), make([]float64, a.cells), make([]float64, a.cells)
		for i := range a.shift {
			a.shift[i] = math.NaN()
		}
	}
	k, s1, s2, miss := a.shift[off:off+len(v)], a.s1[off:off+len(v)], a.s2[off:off+len(v)], a.miss[off:off+len(v)]
	for i, x := range v {
		if d := x - k[i]; d == d {
			s1[i] += d
			s2[i] += d * d
			continue
		}
		if x == x {
			k[i] = x // the cell's first value: a deviation of 0
		} else {
			miss[i]++
		}
	}
}

func (a *momentAcc) reduced(cell int, v, _ []float64, _, _ float64) {
	var nb, sb float64
	for _, x := range v {
		if x == x {
			sb += x
			nb++
		}
	}
	if nb == 0 {
		return
	}
	mb := sb / nb
	var m2b float64
	for _, x := range v {
		if x == x {
			m2b += (x - mb) * (x - mb)
		}
	}
	a.merge(cell, nb, mb, m2b)
}

// merge adds a group of nb values with mean mb and M2 m2b to a cell.
func (a *momentAcc) merge(cell int, nb, mb, m2b float64) {
	a.alloc()
	na := a.n[cell]
	n := na + nb
	d := mb - a.mean[cell]
	a.mean[cell] += d * nb / n
	a.m2[cell] += m2b + d*d*na*nb/n
	a.n[cell] = n
}

func (a *momentAcc) alloc() {
	if a.n == nil {
		a.n, a.mean, a.m2 = make([]float64, a.cells), make([]float64, a.cells), make([]float64, a.cells)
	}
}

func (a *momentAcc) scatter(cells []int32, v []float64) {
	a.alloc()
	v = v[:len(cells)]
	for i, c := range cells {
		if x := v[i]; c >= 0 && x == x {
			a.n[c]++
			d := x - a.mean[c]
			a.mean[c] += d / a.n[c]
			a.m2[c] += d * (x - a.mean[c])
		}
	}
}

func (a *momentAcc) finish(dst []float64) {
	for i := range dst {
		var n, m2 float64
		switch {
		case a.shift != nil:
			n = a.perCell - a.miss[i]
			if n > 0 {
				m2 = max(0, a.s2[i]-a.s1[i]*a.s1[i]/n)
			}
		case a.n != nil:
			n, m2 = a.n[i], a.m2[i]
		}
		switch {
		case n == 0:
			dst[i] = math.NaN()
		case a.std:
			dst[i] = math.Sqrt(m2 / n)
		default:
			dst[i] = m2 / n
		}
	}
}

// rawAccumulator is an accumulator that also takes rows of float32 values
// as stored in a file, m being the one value that means missing (NaN for
// none). Widening them as they are summed spares writing them to memory
// as float64 and reading them back (measured on 1 GB of float32: a time
// mean 10% faster, a field mean 16%).
type rawAccumulator interface {
	kept32(off int, v []float32, wv []float64, w, m float64)
	reduced32(cell int, v []float32, wv []float64, wsum, w, m float64)
}

// kept32 is kept of the widened values, those equal to m missing.
func (a *sumAcc) kept32(off int, v []float32, wv []float64, w, m float64) {
	s, n := a.sum[off:off+len(v)], a.n[off:off+len(v)]
	if a.weighted {
		for i, x32 := range v {
			x := float64(x32)
			if x != x || x == m {
				continue
			}
			if wv == nil {
				s[i] += w * x
				n[i] += w
			} else {
				s[i] += w * wv[i] * x
				n[i] += w * wv[i]
			}
		}
		return
	}
	a.missing = true
	i := 0
	// Eight at a time, with one test for NaN and m (measured 10% faster
	// than four).
	for ; i+8 <= len(v); i += 8 {
		q, d := (*[8]float32)(v[i:i+8]), (*[8]float64)(s[i:i+8])
		x0, x1, x2, x3 := float64(q[0]), float64(q[1]), float64(q[2]), float64(q[3])
		x4, x5, x6, x7 := float64(q[4]), float64(q[5]), float64(q[6]), float64(q[7])
		if t := (x0 + x1 + x2 + x3) + (x4 + x5 + x6 + x7); t == t &&
			x0 != m && x1 != m && x2 != m && x3 != m && x4 != m && x5 != m && x6 != m && x7 != m {
			d[0] += x0
			d[1] += x1
			d[2] += x2
			d[3] += x3
			d[4] += x4
			d[5] += x5
			d[6] += x6
			d[7] += x7
			continue
		}
		for j := i; j < i+8; j++ {
			if x := float64(v[j]); x == x && x != m {
				s[j] += x
			} else {
				n[j]++
			}
		}
	}
	for ; i < len(v); i++ {
		if x := float64(v[i]); x == x && x != m {
			s[i] += x
		} else {
			n[i]++
		}
	}
}

// reduced32 is reduced of the widened values, those equal to m missing.
func (a *sumAcc) reduced32(cell int, v []float32, wv []float64, wsum, w, m float64) {
	s, clean := weightedSum32(v, wv, m)
	n := wsum
	if !clean || s != s {
		s, n = 0, 0
		for i, x32 := range v {
			if x := float64(x32); x == x && x != m {
				if wv == nil {
					s, n = s+x, n+1
				} else {
					s, n = s+wv[i]*x, n+wv[i]
				}
			}
		}
	}
	a.sum[cell] += w * s
	a.n[cell] += w * n
}

// weightedSum32 is weightedSum of widened values, in the same order so
// that it gives the same result; false when one of them is m.
func weightedSum32(v []float32, wv []float64, m float64) (float64, bool) {
	var s0, s1, s2, s3 float64
	hit := false
	i := 0
	if wv == nil {
		for ; i+4 <= len(v); i += 4 {
			x0, x1, x2, x3 := float64(v[i]), float64(v[i+1]), float64(v[i+2]), float64(v[i+3])
			if x0 == m || x1 == m || x2 == m || x3 == m {
				hit = true
			}
			s0, s1, s2, s3 = s0+x0, s1+x1, s2+x2, s3+x3
		}
		for ; i < len(v); i++ {
			x := float64(v[i])
			hit = hit || x == m
			s0 += x
		}
	} else {
		wv = wv[:len(v)]
		for ; i+4 <= len(v); i += 4 {
			x0, x1, x2, x3 := float64(v[i]), float64(v[i+1]), float64(v[i+2]), float64(v[i+3])
			if x0 == m || x1 == m || x2 == m || x3 == m {
				hit = true
			}
			s0, s1, s2, s3 = s0+wv[i]*x0, s1+wv[i+1]*x1, s2+wv[i+2]*x2, s3+wv[i+3]*x3
		}
		for ; i < len(v); i++ {
			x := float64(v[i])
			hit = hit || x == m
			s0 += wv[i] * x
		}
	}
	return (s0 + s1) + (s2 + s3), !hit
}
