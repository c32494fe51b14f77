package ops

import "context"

// A run is a stretch of output indices along one dimension that maps to an
// arithmetic progression of indices in one source, so it is read with a
// single strided hyperslab.
type run struct {
	src    int // which source (the part of a concatenation; 0 otherwise)
	start  int // first source index
	n      int // number of elements
	stride int // source stride (≥ 1)
	off    int // position of the first element in the requested output block
}

// mapFunc maps an output index of one dimension to (source, source index).
type mapFunc func(o int) (src, idx int)

// runsOf compresses the requested output indices start, start+stride, ...
// of one dimension into runs.
func runsOf(f mapFunc, start, count, stride int) []run {
	var runs []run
	for k := 0; k < count; {
		src, idx := f(start + k*stride)
		r := run{src: src, start: idx, n: 1, stride: 1, off: k}
		if k+1 < count {
			s2, i2 := f(start + (k+1)*stride)
			if s2 == src && i2 > idx {
				r.stride = i2 - idx
				r.n = 2
				for j := k + 2; j < count; j++ {
					sj, ij := f(start + j*stride)
					if sj != src || ij != idx+(j-k)*r.stride {
						break
					}
					r.n++
				}
			}
		}
		runs = append(runs, r)
		k += r.n
	}
	return runs
}

// readFunc reads a hyperslab of one source.
type readFunc func(ctx context.Context, src int, start, count, stride []int, dst []float64) error

// readRemapped reads an output hyperslab through per-dimension index maps:
// one strided read per combination of runs, straight into dst when there is
// only one.
func readRemapped(ctx context.Context, maps []mapFunc, start, count, stride []int, dst []float64, read readFunc) error {
	nd := len(maps)
	if nd == 0 {
		return read(ctx, 0, nil, nil, nil, dst)
	}
	for _, c := range count {
		if c == 0 {
			return nil
		}
	}
	runs := make([][]run, nd)
	single := true
	for i := range maps {
		runs[i] = runsOf(maps[i], start[i], count[i], stride[i])
		if len(runs[i]) != 1 {
			single = false
		}
	}
	if single {
		s, c, st, src := make([]int, nd), make([]int, nd), make([]int, nd), 0
		for i := range runs {
			r := runs[i][0]
			s[i], c[i], st[i] = r.start, r.n, r.stride
			if r.src > src {
				src = r.src
			}
		}
		return read(ctx, src, s, c, st, dst)
	}
	pick := make([]int, nd)
	var tmp []float64
	for {
		s, c, st, off, src := make([]int, nd), make([]int, nd), make([]int, nd), make([]int, nd), 0
		for i := range runs {
			r := runs[i][pick[i]]
			s[i], c[i], st[i], off[i] = r.start, r.n, r.stride, r.off
			if r.src > src {
				src = r.src
			}
		}
		n := product(c)
		if cap(tmp) < n {
			tmp = make([]float64, n)
		}
		tmp = tmp[:n]
		if err := read(ctx, src, s, c, st, tmp); err != nil {
			return err
		}
		copyBlock(dst, count, off, tmp, c)
		// next combination
		i := nd - 1
		for ; i >= 0; i-- {
			pick[i]++
			if pick[i] < len(runs[i]) {
				break
			}
			pick[i] = 0
		}
		if i < 0 {
			return nil
		}
	}
}

// copyBlock copies src (shape srcShape) into dst (shape dstShape) at offset off.
func copyBlock(dst []float64, dstShape, off []int, src []float64, srcShape []int) {
	nd := len(dstShape)
	inner := srcShape[nd-1]
	idx := make([]int, nd-1)
	dstStrides := make([]int, nd)
	dstStrides[nd-1] = 1
	for i := nd - 2; i >= 0; i-- {
		dstStrides[i] = dstStrides[i+1] * dstShape[i+1]
	}
	for s := 0; s < len(src); s += inner {
		d := off[nd-1]
		for i := 0; i < nd-1; i++ {
			d += (off[i] + idx[i]) * dstStrides[i]
		}
		copy(dst[d:d+inner], src[s:s+inner])
		for i := nd - 2; i >= 0; i-- {
			idx[i]++
			if idx[i] < srcShape[i] {
				break
			}
			idx[i] = 0
		}
	}
}
