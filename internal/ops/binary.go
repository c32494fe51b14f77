package ops

import (
	"context"
	"fmt"
)

// BinaryOp is an arithmetic operation on two values.
type BinaryOp int

const (
	Add BinaryOp = iota
	Subtract
	Multiply
	Divide
)

func (op BinaryOp) String() string {
	return [...]string{"add", "subtract", "multiply", "divide"}[op]
}

// keepsUnits says whether the result has the units of the first operand
// when the second is another variable: a sum or difference does; a product
// or quotient has units we do not compute, so it has none.
func (op BinaryOp) keepsUnits() bool { return op == Add || op == Subtract }

// constArray combines every value of its source with a constant.
type constArray struct {
	src   Array
	meta  *Meta
	op    BinaryOp
	c     float64
	limit float64
}

// WithConst returns a op c for every value of a. The result keeps a's
// units: the constant is taken to be a pure number (a scale factor or an
// offset in a's units). Division by zero gives missing values.
func WithConst(a Array, op BinaryOp, c float64) Array {
	m := a.Meta()
	return &constArray{src: a, meta: derivedMeta(m, m.Type, true), op: op, c: c, limit: rangeOf(m.Type)}
}

func (k *constArray) Meta() *Meta { return k.meta }

func (k *constArray) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	if err := k.src.Read(ctx, start, count, stride, dst); err != nil {
		return err
	}
	binaryRow(k.op, dst, dst, 1, []float64{k.c}, 0, k.limit)
	return nil
}

// MismatchError is a dimension two inputs share but do not agree on.
// A and B are the positions of the inputs (from 0), so that a caller can
// name them as its user did.
type MismatchError struct {
	Dim    string
	A, B   int
	Detail string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("inputs %d and %d differ in dimension %q: %s", e.A+1, e.B+1, e.Dim, e.Detail)
}

// operand is an input of a broadcasting operation: an array whose
// dimensions are some of the result's, in any order.
type operand struct {
	a    Array
	pos  []int // the result dimension of each of a's dimensions
	pool slabPool
}

// read reads the values of the operand under a slab of the result, and
// returns them with the distance between consecutive values along each
// result dimension: 0 along a dimension the operand does not have, so its
// values repeat there. The caller gives the buffer back with o.pool.put.
func (o *operand) read(ctx context.Context, start, count, stride []int) ([]float64, []int, error) {
	n := len(o.pos)
	s, c, st := make([]int, n), make([]int, n), make([]int, n)
	for k, r := range o.pos {
		s[k], c[k], st[k] = start[r], count[r], stride[r]
	}
	buf := o.pool.get(product(c))
	if err := o.a.Read(ctx, s, c, st, buf); err != nil {
		o.pool.put(buf)
		return nil, nil, err
	}
	steps := make([]int, len(start))
	m := 1
	for k := n - 1; k >= 0; k-- {
		steps[o.pos[k]] = m
		m *= c[k]
	}
	return buf, steps, nil
}

// broadcastDims makes the dimensions of a result that combines arrays by
// dimension name: the first array's, then those of the others it lacks, in
// the order met. A dimension two arrays share must have the same length and
// coordinates. The positions in errors are the arrays' positions in list.
func broadcastDims(list []Array) ([]Dim, [][]int, error) {
	var dims []Dim
	owner := map[string]int{} // which array a dimension was first met in
	pos := make([][]int, len(list))
	for n, a := range list {
		for _, d := range a.Meta().Dims {
			r := indexOfDim(dims, d.Name)
			if r < 0 {
				r = len(dims)
				dims = append(dims, d)
				owner[d.Name] = n
			} else if err := sameCoord(dims[r], d); err != nil {
				return nil, nil, &MismatchError{Dim: d.Name, A: owner[d.Name], B: n, Detail: err.Error()}
			}
			pos[n] = append(pos[n], r)
		}
	}
	return dims, pos, nil
}

// binaryArray combines two arrays value by value, matching dimensions by
// name and repeating an array along the dimensions it does not have
// (tas(time,lat,lon) - clim(lat,lon) subtracts clim from every time step).
type binaryArray struct {
	meta   *Meta
	op     BinaryOp
	x, y   operand
	direct bool // x has the result's dimensions in order: read it into dst
	limit  float64
}

// Binary returns a op b, broadcast by dimension name. Division by zero and
// results beyond the range of the result's type are missing. The result
// has a's name and attributes; it keeps a's units for add and subtract and
// has none for multiply and divide.
func Binary(a, b Array, op BinaryOp) (Array, error) {
	dims, pos, err := broadcastDims([]Array{a, b})
	if err != nil {
		return nil, err
	}
	am, bm := a.Meta(), b.Meta()
	m := derivedMeta(am, bm.Type, op.keepsUnits())
	m.Dims = dims
	m.Sources = uniqueStrings(append(append([]string(nil), am.Sources...), bm.Sources...))
	return &binaryArray{
		meta: m, op: op,
		x: operand{a: a, pos: pos[0]}, y: operand{a: b, pos: pos[1]},
		direct: len(dims) == len(am.Dims),
		limit:  rangeOf(m.Type),
	}, nil
}

func (b *binaryArray) Meta() *Meta { return b.meta }

func (b *binaryArray) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	stride, err := checkSlab(b.meta, start, count, stride, dst)
	if err != nil {
		return err
	}
	if len(dst) == 0 {
		return nil
	}
	// x is read into dst when it has every dimension, in the result's order
	// since the result's dimensions begin with x's.
	x, xs := dst, rowMajorSteps(count)
	if b.direct {
		if err := b.x.a.Read(ctx, start, count, stride, dst); err != nil {
			return err
		}
	} else {
		if x, xs, err = b.x.read(ctx, start, count, stride); err != nil {
			return err
		}
		defer b.x.pool.put(x)
	}
	y, ys, err := b.y.read(ctx, start, count, stride)
	if err != nil {
		return err
	}
	defer b.y.pool.put(y)
	forRows(count, [][]int{xs, ys}, func(d int, off []int, n int, inner []int) {
		binaryRow(b.op, dst[d:d+n], x[off[0]:], inner[0], y[off[1]:], inner[1], b.limit)
	})
	return nil
}

// rowMajorSteps gives the steps of a row-major array of shape count.
func rowMajorSteps(count []int) []int {
	steps := make([]int, len(count))
	m := 1
	for i := len(count) - 1; i >= 0; i-- {
		steps[i] = m
		m *= count[i]
	}
	return steps
}

// forRows walks a result slab of shape count row by row, a row being a run
// of the innermost dimensions that are contiguous in the result and in
// every operand (whose steps are given), so rows are as long as possible.
// For each row it calls fn with the row's start in the result, each
// operand's offset, the row's length and each operand's step within it.
func forRows(count []int, steps [][]int, fn func(d int, off []int, n int, inner []int)) {
	nd := len(count)
	if nd == 0 {
		off := make([]int, len(steps))
		inner := make([]int, len(steps))
		fn(0, off, 1, inner)
		return
	}
	// Merge dimension i into i+1 while every operand is contiguous across.
	n, k := count[nd-1], nd-1
	for k > 0 {
		ok := true
		for _, s := range steps {
			if s[k-1] != s[k]*count[k] { // (0 == 0 when both repeat)
				ok = false
				break
			}
		}
		if !ok {
			break
		}
		k--
		n *= count[k]
	}
	inner := make([]int, len(steps))
	for j, s := range steps {
		inner[j] = s[nd-1]
	}
	off := make([]int, len(steps))
	idx := make([]int, k) // position over the outer dimensions
	for d := 0; ; d += n {
		fn(d, off, n, inner)
		i := k - 1
		for ; i >= 0; i-- {
			idx[i]++
			for j, s := range steps {
				off[j] += s[i]
			}
			if idx[i] < count[i] {
				break
			}
			for j, s := range steps {
				off[j] -= s[i] * count[i]
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// binaryRow sets d[i] = x[i*xs] op y[i*ys], missing beyond ±limit. x may
// be d itself. The loops are written out per case so that each is a plain
// loop without calls, and the range check is made in the same pass.
func binaryRow(op BinaryOp, d, x []float64, xs int, y []float64, ys int, limit float64) {
	n := len(d)
	switch {
	case xs == 1 && ys == 1:
		x, y = x[:n], y[:n]
		switch op {
		case Add:
			for i := range d {
				d[i] = orMissing(x[i]+y[i], limit)
			}
		case Subtract:
			for i := range d {
				d[i] = orMissing(x[i]-y[i], limit)
			}
		case Multiply:
			for i := range d {
				d[i] = orMissing(x[i]*y[i], limit)
			}
		case Divide:
			for i := range d {
				d[i] = orMissing(x[i]/y[i], limit)
			}
		}
	case xs == 1 && ys == 0:
		x, c := x[:n], y[0]
		switch op {
		case Add:
			for i := range d {
				d[i] = orMissing(x[i]+c, limit)
			}
		case Subtract:
			for i := range d {
				d[i] = orMissing(x[i]-c, limit)
			}
		case Multiply:
			for i := range d {
				d[i] = orMissing(x[i]*c, limit)
			}
		case Divide:
			for i := range d {
				d[i] = orMissing(x[i]/c, limit)
			}
		}
	default:
		ix, iy := 0, 0
		switch op {
		case Add:
			for i := range d {
				d[i] = orMissing(x[ix]+y[iy], limit)
				ix, iy = ix+xs, iy+ys
			}
		case Subtract:
			for i := range d {
				d[i] = orMissing(x[ix]-y[iy], limit)
				ix, iy = ix+xs, iy+ys
			}
		case Multiply:
			for i := range d {
				d[i] = orMissing(x[ix]*y[iy], limit)
				ix, iy = ix+xs, iy+ys
			}
		case Divide:
			for i := range d {
				d[i] = orMissing(x[ix]/y[iy], limit)
				ix, iy = ix+xs, iy+ys
			}
		}
	}
}

// uniqueStrings drops repeated strings, keeping the first of each.
func uniqueStrings(list []string) []string {
	seen := map[string]bool{}
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
