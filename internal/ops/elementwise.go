package ops

import (
	"context"
	"math"
	"sync"

	"github.com/computewps/computewps/internal/netcdf"
)

// Func is an elementwise function of one value.
type Func int

const (
	Abs Func = iota
	Exp
	Log  // natural logarithm
	Sqrt // square root
)

func (f Func) String() string { return [...]string{"abs", "exp", "log", "sqrt"}[f] }

// unaryArray applies a function to every value of its source. The source's
// slab is read straight into the caller's buffer and transformed in place,
// so it needs no memory of its own.
type unaryArray struct {
	src   Array
	meta  *Meta
	apply func(dst []float64)
}

func (u *unaryArray) Meta() *Meta { return u.meta }

func (u *unaryArray) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	if err := u.src.Read(ctx, start, count, stride, dst); err != nil {
		return err
	}
	u.apply(dst)
	return nil
}

// Apply returns f of every value of a. Results that are undefined or
// infinite (log of zero or a negative number, the square root of a
// negative number, exp beyond the range of the variable's type) are missing.
func Apply(a Array, f Func) Array {
	keepUnits := f == Abs
	limit := rangeOf(a.Meta().Type)
	return &unaryArray{src: a, meta: derivedMeta(a.Meta(), a.Meta().Type, keepUnits), apply: func(d []float64) {
		switch f {
		case Abs: // cannot leave the range
			for i, x := range d {
				d[i] = math.Abs(x)
			}
		case Exp:
			for i, x := range d {
				d[i] = orMissing(math.Exp(x), limit)
			}
		case Log: // log(0) is -Inf; of a negative number, NaN
			for i, x := range d {
				d[i] = orMissing(math.Log(x), limit)
			}
		case Sqrt: // NaN for a negative number
			for i, x := range d {
				d[i] = math.Sqrt(x)
			}
		}
	}}
}

// Power returns a raised to the power p; undefined or infinite results
// (a negative number to a fractional power, zero to a negative one) are
// missing.
func Power(a Array, p float64) Array {
	limit := rangeOf(a.Meta().Type)
	return &unaryArray{src: a, meta: derivedMeta(a.Meta(), a.Meta().Type, false), apply: func(d []float64) {
		if p == 2 { // the common case, and much cheaper than math.Pow
			for i, x := range d {
				d[i] = orMissing(x*x, limit)
			}
			return
		}
		for i, x := range d {
			d[i] = orMissing(math.Pow(x, p), limit)
		}
	}}
}

// rangeOf is the largest magnitude a result of type t can hold: a float32
// variable cannot store what float32 arithmetic would make infinite.
func rangeOf(t netcdf.Type) float64 {
	if resultType(t, t) == netcdf.Float {
		return math.MaxFloat32
	}
	return math.MaxFloat64
}

// orMissing is v, or missing when v is beyond ±limit (infinities included).
func orMissing(v, limit float64) float64 {
	if math.Abs(v) > limit {
		return math.NaN()
	}
	return v
}

// resultType is the type a computed result is written in: float when both
// inputs are float (as CDO does), double otherwise, since integer inputs
// give fractional results.
func resultType(a, b netcdf.Type) netcdf.Type {
	if a == netcdf.Float && b == netcdf.Float {
		return netcdf.Float
	}
	return netcdf.Double
}

// derivedMeta is the metadata of a value computed from m: its name and
// dimensions, the result type, and its attributes without those that no
// longer describe it (valid ranges; units and standard_name unless the
// operation keeps the quantity, as abs and addition do).
func derivedMeta(m *Meta, t netcdf.Type, keepUnits bool) *Meta {
	out := *m
	out.Type = resultType(m.Type, t)
	out.Dims = append([]Dim(nil), m.Dims...)
	out.Attrs = nil
	for _, a := range m.Attrs {
		switch a.Name {
		case "valid_range", "valid_min", "valid_max", "actual_range", "scale_factor", "add_offset":
			continue
		case "units", "standard_name":
			if !keepUnits {
				continue
			}
		case "_FillValue", "missing_value":
			// An integer fill means nothing to a double result; the writer
			// then uses its default.
			if out.Type != m.Type {
				continue
			}
		}
		out.Attrs = append(out.Attrs, a)
	}
	return &out
}

// slabPool keeps one buffer for an array's repeated reads of a slab. Reads
// may run concurrently: a reader that finds the buffer taken allocates its
// own, so the pool only saves allocations and never shares memory.
type slabPool struct {
	mu  sync.Mutex
	buf []float64
}

func (p *slabPool) get(n int) []float64 {
	p.mu.Lock()
	b := p.buf
	p.buf = nil
	p.mu.Unlock()
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

func (p *slabPool) put(b []float64) {
	p.mu.Lock()
	if cap(b) > cap(p.buf) {
		p.buf = b
	}
	p.mu.Unlock()
}
