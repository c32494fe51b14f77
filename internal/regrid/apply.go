package regrid

import (
	"fmt"
	"math"
)

// SourceRows returns the source rows [s0, s1) that target rows [t0, t1)
// depend on, so a caller reads only those; s0 == s1 when every target in
// those rows is missing.
func (p *Plan) SourceRows(t0, t1 int) (s0, s1 int) {
	s0, s1 = len(p.Src.Lat), 0
	for _, nd := range p.need[t0:t1] {
		if nd[1] > nd[0] {
			s0, s1 = min(s0, nd[0]), max(s1, nd[1])
		}
	}
	if s1 <= s0 {
		return 0, 0
	}
	return s0, s1
}

// Apply remaps one field: src holds source rows from s0 on, every
// longitude, row-major (missing values NaN); dst receives target rows
// [t0, t1), every longitude. src must cover SourceRows(t0, t1).
func (p *Plan) Apply(dst []float64, t0, t1 int, src []float64, s0 int) error {
	nxS, nxT := len(p.Src.Lon), len(p.Dst.Lon)
	if len(dst) != (t1-t0)*nxT || len(src)%nxS != 0 {
		return fmt.Errorf("regrid: buffers of %d and %d do not fit %d rows of %d and rows of %d", len(dst), len(src), t1-t0, nxT, nxS)
	}
	if a, b := p.SourceRows(t0, t1); a < b && (a < s0 || b > s0+len(src)/nxS) {
		return fmt.Errorf("regrid: source rows %d..%d needed, %d..%d given", a, b, s0, s0+len(src)/nxS)
	}
	switch p.Method {
	case Nearest:
		p.applyNearest(dst, t0, t1, src, s0)
	case Conservative:
		p.applyConservative(dst, t0, t1, src, s0)
	default:
		p.applyBilinear(dst, t0, t1, src, s0)
	}
	return nil
}

func (p *Plan) applyNearest(dst []float64, t0, t1 int, src []float64, s0 int) {
	nxT := len(p.Dst.Lon)
	off := int32(s0 * len(p.Src.Lon))
	for t, s := range p.nearest[t0*nxT : t1*nxT] {
		if s < 0 {
			dst[t] = math.NaN()
		} else {
			dst[t] = src[s-off]
		}
	}
}

// scratch returns a buffer of n values from the plan's pool.
func (p *Plan) scratch(n int) *[]float64 {
	if b, ok := p.pool.Get().(*[]float64); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]float64, n)
	return &b
}

// applyBilinear interpolates along longitude on every source row needed,
// then along latitude. A missing corner makes the target missing, as in
// CDO: NaN carries through both passes, even with a zero weight.
func (p *Plan) applyBilinear(dst []float64, t0, t1 int, src []float64, s0 int) {
	nxS, nxT := len(p.Src.Lon), len(p.Dst.Lon)
	a, b := p.SourceRows(t0, t1)
	buf := p.scratch((b - a) * nxT)
	defer p.pool.Put(buf)
	tmp := *buf
	for j := a; j < b; j++ {
		p.lonPass(tmp[(j-a)*nxT:(j-a+1)*nxT], src[(j-s0)*nxS:(j-s0+1)*nxS])
	}
	r := &p.rows
	for jt := t0; jt < t1; jt++ {
		out := dst[(jt-t0)*nxT : (jt-t0+1)*nxT]
		k0, k1 := r.start[jt], r.start[jt+1]
		switch {
		case k1-k0 == 2:
			w0, w1 := r.w[k0], r.w[k0+1]
			r0 := tmp[(int(r.idx[k0])-a)*nxT:]
			r1 := tmp[(int(r.idx[k0+1])-a)*nxT:]
			for it := range out {
				out[it] = w0*r0[it] + w1*r1[it]
			}
		case p.points[jt].start != nil:
			p.pointRow(out, &p.points[jt], src, s0*nxS)
		default:
			for it := range out {
				out[it] = math.NaN()
			}
		}
	}
}

// lonPass interpolates one source row to the target longitudes.
func (p *Plan) lonPass(out, row []float64) {
	if q := p.pair; q != nil {
		i0, i1, w0, w1 := q.i0[:len(out)], q.i1[:len(out)], q.w0[:len(out)], q.w1[:len(out)]
		for it := range out {
			out[it] = w0[it]*row[i0[it]] + w1[it]*row[i1[it]]
		}
		return
	}
	c := &p.cols
	for it := range out {
		if k0, k1 := c.start[it], c.start[it+1]; k0 == k1 {
			out[it] = math.NaN()
		} else {
			out[it] = dot(c, k0, k1, row)
		}
	}
}

func dot(s *sparse, k0, k1 int32, row []float64) float64 {
	v := 0.0
	for k := k0; k < k1; k++ {
		v += s.w[k] * row[s.idx[k]]
	}
	return v
}

// pointRow averages the listed source points of each target cell over
// those that are not missing.
func (p *Plan) pointRow(out []float64, s *sparse, src []float64, off int) {
	for it := range out {
		num, den := 0.0, 0.0
		for k := s.start[it]; k < s.start[it+1]; k++ {
			if v := src[int(s.idx[k])-off]; !math.IsNaN(v) {
				num += s.w[k] * v
				den += s.w[k]
			}
		}
		out[it] = num / den
		if den == 0 {
			out[it] = math.NaN()
		}
	}
}

// applyConservative sums overlap-weighted values and overlaps of the cells
// that are present, first along longitude then along latitude, and divides:
// the average over the part of the target cell covered by data (CDO's
// fracarea normalisation).
func (p *Plan) applyConservative(dst []float64, t0, t1 int, src []float64, s0 int) {
	nxS, nxT := len(p.Src.Lon), len(p.Dst.Lon)
	a, b := p.SourceRows(t0, t1)
	buf := p.scratch((2*(b-a) + 1) * nxT)
	defer p.pool.Put(buf)
	num, den, d := (*buf)[:(b-a)*nxT], (*buf)[(b-a)*nxT:2*(b-a)*nxT], (*buf)[2*(b-a)*nxT:]
	c := &p.cols
	for j := a; j < b; j++ {
		row := src[(j-s0)*nxS : (j-s0+1)*nxS]
		nr, dr := num[(j-a)*nxT:(j-a+1)*nxT], den[(j-a)*nxT:(j-a+1)*nxT]
		for it := range nr {
			sn, sd := 0.0, 0.0
			for k := c.start[it]; k < c.start[it+1]; k++ {
				if v := row[c.idx[k]]; v == v { // not NaN
					sn += c.w[k] * v
					sd += c.w[k]
				}
			}
			nr[it], dr[it] = sn, sd
		}
	}
	r := &p.rows
	for jt := t0; jt < t1; jt++ {
		out := dst[(jt-t0)*nxT : (jt-t0+1)*nxT]
		for it := range out {
			out[it], d[it] = 0, 0
		}
		for k := r.start[jt]; k < r.start[jt+1]; k++ {
			w, o := r.w[k], (int(r.idx[k])-a)*nxT
			nr, dr := num[o:o+nxT], den[o:o+nxT]
			for it := range out {
				out[it] += w * nr[it]
				d[it] += w * dr[it]
			}
		}
		for it := range out {
			if d[it] > 0 {
				out[it] /= d[it]
			} else {
				out[it] = math.NaN()
			}
		}
	}
}
