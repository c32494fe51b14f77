// Package ops holds the operators on CF data. An operator builds a lazy
// Array from its inputs; nothing is read until the result is written, and
// then a slab at a time, so memory does not grow with the size of the input.
package ops

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/netcdf"
)

// Dim is one dimension of an Array with its coordinate.
type Dim struct {
	Name  string
	Len   int
	Coord *cf.Coord
}

// Meta describes an Array: the variable it stands for and its dimensions.
type Meta struct {
	Name    string
	Type    netcdf.Type // type of the variable when written
	Attrs   []netcdf.Attr
	Dims    []Dim
	Global  []netcdf.Attr // global attributes carried to the output
	Sources []string      // input URIs, for provenance
}

// Shape returns the dimension lengths.
func (m *Meta) Shape() []int {
	s := make([]int, len(m.Dims))
	for i, d := range m.Dims {
		s[i] = d.Len
	}
	return s
}

// DimIndex returns the position of a dimension, or -1.
func (m *Meta) DimIndex(name string) int {
	for i, d := range m.Dims {
		if d.Name == name {
			return i
		}
	}
	return -1
}

// Size is the number of elements.
func (m *Meta) Size() int64 {
	n := int64(1)
	for _, d := range m.Dims {
		n *= int64(d.Len)
	}
	return n
}

// Array is a lazily evaluated variable.
type Array interface {
	Meta() *Meta
	// Read fills dst with the hyperslab start/count/stride (stride nil means
	// 1), in row-major order. Missing values are NaN.
	Read(ctx context.Context, start, count, stride []int, dst []float64) error
}

// fileArray reads a variable of an open dataset.
type fileArray struct {
	meta    *Meta
	ds      *cf.Dataset
	v       netcdf.Var
	missing []float64
	// scale and offset unpack packed data (CF §8.1): value = raw*scale + offset.
	packed        bool
	scale, offset float64
	// remote reads through reader processes, lanes of them at once.
	remote *netcdf.PoolVar
	lanes  int
}

var readerPool atomic.Pointer[netcdf.ReaderPool]

// UseReaderPool makes FromDataset read the deflated variables of local
// files through p's reader processes, which inflate in parallel (nil: in
// this process, one read at a time). Reductions and regridding then keep
// as many reads in flight as p has processes.
func UseReaderPool(p *netcdf.ReaderPool) { readerPool.Store(p) }

// FromDataset makes an Array of variable name in ds.
func FromDataset(ds *cf.Dataset, name string) (Array, error) {
	v, err := ds.Var(name)
	if err != nil {
		return nil, err
	}
	switch v.Type {
	case netcdf.Char, netcdf.String:
		return nil, fmt.Errorf("variable %q in %s holds text, not numbers", name, ds.URI)
	}
	m := &Meta{Name: v.Name, Type: v.Type, Attrs: v.Attrs, Global: ds.Attrs(), Sources: []string{ds.URI}}
	for _, d := range v.Dims {
		c, err := ds.Coord(d)
		if err != nil {
			return nil, err
		}
		m.Dims = append(m.Dims, Dim{Name: d.Name, Len: d.Len, Coord: c})
	}
	// _FillValue and missing_value are often the same value: test it once.
	missing := cf.MissingValues(v)
	slices.Sort(missing)
	a := &fileArray{meta: m, ds: ds, v: v, missing: slices.Compact(missing), scale: 1}
	a.unpacking()
	a.lanes = 1
	// Measured: without the HDF5 chunk cache an unfiltered variable read
	// once is read faster (42% as double, 10% as float); a deflated one
	// needs its chunks cached until every value in them is read.
	f := ds.File()
	deflated, err := f.Deflated(v.ID)
	cache := -1 // libnetcdf's
	switch {
	case err == nil && !deflated:
		cache = 0
	case err == nil:
		if chunks, err := f.Chunking(v.ID); err == nil && chunks != nil {
			cache = chunkCacheBytes(v, chunks)
		}
	}
	if cache >= 0 {
		_ = f.SetChunkCache(v.ID, cache)
	}
	// Reading deflated data is inflating it, which takes a core a read,
	// and one process can do only one at a time. (Unfiltered data would
	// only be copied twice.)
	path := f.URI()
	if p := readerPool.Load(); p != nil && deflated && !strings.Contains(path, "://") {
		if abs, err := filepath.Abs(path); err == nil {
			a.remote, a.lanes = p.Var(abs, v.Name, cache), p.Size()
		}
	}
	return a, nil
}

// chunkCacheBytes sizes the HDF5 chunk cache of a deflated variable to
// hold the chunks that one step of its first dimension spans, plus one:
// slabs sweep the first dimension, so no chunk is inflated twice, and
// no memory is kept for chunks already used (libnetcdf's default, 16 MB a
// variable, is both too much for chunks of one time step and too little
// for a row of chunks that span many).
func chunkCacheBytes(v netcdf.Var, chunks []int) int {
	const maxBytes = 64 << 20
	chunk, n := int64(v.Type.Size()), int64(1)
	for i, c := range chunks {
		c = max(c, 1)
		chunk *= int64(c)
		if i > 0 {
			n *= int64((v.Dims[i].Len + c - 1) / c)
		}
		if chunk > maxBytes || n > maxBytes {
			return maxBytes
		}
	}
	return int(min((n+1)*chunk, maxBytes))
}

func (a *fileArray) Meta() *Meta { return a.meta }

func (a *fileArray) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.v.Type == netcdf.Float && len(dst) > 0 {
		// Floats are read as float32 into the first half of dst and
		// widened in place: libnetcdf's own conversion to double costs
		// twice the read, and no scratch buffer is needed.
		f32 := unsafe.Slice((*float32)(unsafe.Pointer(&dst[0])), len(dst))
		if err := a.readFloat32(ctx, start, count, stride, f32); err != nil {
			return err
		}
		if a.widen(dst, f32) {
			return nil
		}
	} else if err := a.readFloat64(ctx, start, count, stride, dst); err != nil {
		return err
	}
	a.clean(dst)
	return nil
}

// bytesRead counts the input bytes read by this process, in the
// variables' own types, for metrics.
var bytesRead atomic.Int64

// BytesRead returns the input bytes read by this process so far.
func BytesRead() int64 { return bytesRead.Load() }

// readFloat32 and readFloat64 read through the reader processes when
// there are some, else (or when they could not start) in this process.
func (a *fileArray) readFloat32(ctx context.Context, start, count, stride []int, dst []float32) error {
	bytesRead.Add(int64(len(dst)) * int64(max(a.v.Type.Size(), 1)))
	if a.remote != nil {
		if err := a.remote.ReadFloat32(ctx, start, count, stride, dst); !errors.Is(err, netcdf.ErrReadersUnavailable) {
			return err
		}
	}
	return a.ds.File().ReadFloat32(a.v.ID, start, count, stride, dst)
}

func (a *fileArray) readFloat64(ctx context.Context, start, count, stride []int, dst []float64) error {
	bytesRead.Add(int64(len(dst)) * int64(max(a.v.Type.Size(), 1)))
	if a.remote != nil {
		if err := a.remote.Read(ctx, start, count, stride, dst); !errors.Is(err, netcdf.ErrReadersUnavailable) {
			return err
		}
	}
	return a.ds.File().Read(a.v.ID, start, count, stride, dst)
}

// raw32 reports whether the values of a are its float32 values widened,
// with at most one value meaning missing (m; NaN for none): then
// readRaw32 gives them as stored, for consumers that widen as they go.
func (a *fileArray) raw32() (m float64, ok bool) {
	if a.v.Type != netcdf.Float || a.packed || len(a.missing) > 1 {
		return 0, false
	}
	if len(a.missing) == 1 {
		return a.missing[0], true
	}
	return math.NaN(), true
}

func (a *fileArray) readRaw32(ctx context.Context, start, count []int, dst []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return a.readFloat32(ctx, start, count, nil, dst)
}

// readLanes is how many reads of a are worth having in flight at once:
// as many as the reader processes of its file, seen through the views that
// only select or rename, else one. (Two reads in this process, one
// converting while the other holds libnetcdf's lock, measured slower: the
// locked threads take turns.)
func readLanes(a Array) int {
	for {
		switch t := a.(type) {
		case *fileArray:
			return max(1, t.lanes)
		case *renamed:
			a = t.Array
		case *filled:
			a = t.Array
		case *takeArray:
			a = t.src
		case *squeezed:
			a = t.src
		case *concatArray:
			n := 0
			for _, p := range t.parts {
				n = max(n, readLanes(p))
			}
			return max(1, n)
		default:
			return 1
		}
	}
}

// widen converts src, which holds len(dst) float32 values in the first
// half of dst's memory, to float64 in dst. It goes from the end, so each
// value written covers only float32 values already converted. With no
// packing and at most one missing value it also marks the missing values,
// and reports that dst is then complete. Four values at a time, with one
// test for the missing value, measured twice as fast as one at a time.
func (a *fileArray) widen(dst []float64, src []float32) bool {
	m, done := a.raw32()
	if !done {
		m = math.NaN() // matches nothing: clean marks them
	}
	widen(dst, src[:len(dst)], m)
	return done
}

// widen converts src to dst from the end, making the values equal to m NaN.
func widen(dst []float64, src []float32, m float64) {
	i := len(dst)
	for ; i >= 4; i -= 4 {
		s, d := src[i-4:i:i], dst[i-4:i:i]
		x0, x1, x2, x3 := float64(s[0]), float64(s[1]), float64(s[2]), float64(s[3])
		d[3], d[2], d[1], d[0] = x3, x2, x1, x0
		if x0 == m || x1 == m || x2 == m || x3 == m {
			for j, x := range d {
				if x == m {
					d[j] = math.NaN()
				}
			}
		}
	}
	for i--; i >= 0; i-- {
		x := float64(src[i])
		if x == m {
			x = math.NaN()
		}
		dst[i] = x
	}
}

// clean marks missing values as NaN and unpacks packed data.
func (a *fileArray) clean(dst []float64) {
	if len(a.missing) > 0 {
		for i, x := range dst {
			for _, m := range a.missing {
				if x == m {
					dst[i] = math.NaN()
					break
				}
			}
		}
	}
	if a.packed {
		for i, x := range dst {
			dst[i] = x*a.scale + a.offset // NaN stays NaN
		}
	}
}

// unpacking makes a packed variable (scale_factor, add_offset) read as
// its physical values: the fill values are compared before unpacking, and
// the result is float (or double when the scale is a double, CF §8.1).
func (a *fileArray) unpacking() {
	sc, hasScale := a.v.Attr("scale_factor")
	off, hasOffset := a.v.Attr("add_offset")
	if !hasScale && !hasOffset {
		return
	}
	t := netcdf.Float
	if f, ok := sc.Float64s(); hasScale && ok && len(f) > 0 {
		a.scale = f[0]
		if sc.Type() == netcdf.Double {
			t = netcdf.Double
		}
	}
	if f, ok := off.Float64s(); hasOffset && ok && len(f) > 0 {
		a.offset = f[0]
		if off.Type() == netcdf.Double {
			t = netcdf.Double
		}
	}
	a.packed = true
	m := *a.meta
	m.Type = t
	m.Attrs = nil
	for _, at := range a.v.Attrs {
		switch at.Name {
		case "scale_factor", "add_offset", "_FillValue", "missing_value", "valid_min", "valid_max", "valid_range", "_Unsigned":
			// In packed units: they no longer describe the values.
			continue
		}
		m.Attrs = append(m.Attrs, at)
	}
	a.meta = &m
}

// product multiplies the lengths.
func product(n []int) int {
	p := 1
	for _, x := range n {
		p *= x
	}
	return p
}

func ones(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// checkSlab validates a hyperslab request against a shape.
func checkSlab(m *Meta, start, count, stride []int, dst []float64) ([]int, error) {
	if stride == nil {
		stride = ones(len(m.Dims))
	}
	if len(start) != len(m.Dims) || len(count) != len(m.Dims) || len(stride) != len(m.Dims) {
		return nil, fmt.Errorf("ops: %s has %d dimensions, hyperslab has %d", m.Name, len(m.Dims), len(start))
	}
	for i, d := range m.Dims {
		if count[i] < 0 || stride[i] < 1 || start[i] < 0 || (count[i] > 0 && start[i]+(count[i]-1)*stride[i] >= d.Len) {
			return nil, fmt.Errorf("ops: hyperslab out of range for %s dimension %s", m.Name, d.Name)
		}
	}
	if len(dst) != product(count) {
		return nil, fmt.Errorf("ops: buffer of %d for a hyperslab of %d", len(dst), product(count))
	}
	return stride, nil
}
