package dap

import (
	"bufio"
	"context"
	"encoding/binary"
	"math"
	"strconv"

	"github.com/computewps/computewps/internal/netcdf"
)

// chunkValues is how many values one File.Read fetches: 4 MiB of float64.
// A response holds one such buffer and its encoding, whatever its size.
const chunkValues = 1 << 19

// count is the number of elements a node's slab selects.
func (n *node) count() int64 {
	c := int64(1)
	for _, s := range n.slab {
		c = satMul(c, int64(s.count))
	}
	return c
}

// satMul multiplies non-negative numbers, saturating instead of overflowing,
// so that absurd requests are refused as too large rather than wrap.
func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func pad4(n int64) int64 { return satAdd(n, 3) &^ 3 }

// strLen is the most bytes one String of v can hold.
func (v *variable) strLen() int64 {
	if v.strDim == nil {
		return 1
	}
	return int64(v.strDim.len)
}

// size is the number of XDR bytes the data of n take; for Strings an upper
// bound, since each is cut at its first NUL.
func (n *node) size() int64 {
	if n.kind != atomic {
		var s int64
		for _, m := range n.members {
			s = satAdd(s, m.size())
		}
		return s
	}
	t := n.v.typ
	if t == tString {
		each := satAdd(4, pad4(n.v.strLen()))
		if n.v.rank() == 0 {
			return each
		}
		return satAdd(4, satMul(n.count(), each)) // one count, then the strings
	}
	if n.v.rank() == 0 {
		return max(t.arraySize(), 4) // a scalar Byte takes a whole XDR unit
	}
	if t == tByte {
		return satAdd(8, pad4(n.count()))
	}
	return satAdd(8, satMul(n.count(), t.arraySize())) // the count twice, then the values
}

// readError marks a failure to read the file, as opposed to a failure to
// write the response.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// encoder writes the data of nodes from one open file.
type encoder struct {
	ctx  context.Context
	f    *netcdf.File
	w    *bufio.Writer
	vals []float64
	out  []byte
}

func newEncoder(ctx context.Context, f *netcdf.File, w *bufio.Writer) *encoder {
	return &encoder{ctx: ctx, f: f, w: w}
}

// eachChunk reads the values n selects in row-major order and passes them
// to fn at most chunkValues at a time. It splits the slab along the
// outermost dimension whose inner block fits in a chunk, so each Read is a
// single hyperslab.
func (e *encoder) eachChunk(n *node, fn func([]float64) error) error {
	v, slab := n.v, n.slab
	if e.vals == nil {
		e.vals = make([]float64, chunkValues)
	}
	r := len(slab)
	if r == 0 {
		if err := e.f.Read(v.id, nil, nil, nil, e.vals[:1]); err != nil {
			return &readError{err}
		}
		return fn(e.vals[:1])
	}
	if n.count() == 0 {
		return nil
	}
	// inner[k] is the number of values below dimension k.
	inner := make([]int, r)
	inner[r-1] = 1
	for k := r - 2; k >= 0; k-- {
		inner[k] = inner[k+1] * slab[k+1].count
	}
	k := 0
	for k < r-1 && inner[k] > chunkValues {
		k++
	}
	block := max(1, chunkValues/inner[k])
	start, count, stride := make([]int, r), make([]int, r), make([]int, r)
	for d := range slab {
		start[d], count[d], stride[d] = slab[d].start, slab[d].count, slab[d].stride
	}
	for d := 0; d < k; d++ {
		count[d] = 1
	}
	outer := make([]int, k) // position in the dimensions above k
	for {
		for d := 0; d < k; d++ {
			start[d] = slab[d].start + outer[d]*slab[d].stride
		}
		for j := 0; j < slab[k].count; j += block {
			if err := e.ctx.Err(); err != nil {
				return err
			}
			count[k] = min(block, slab[k].count-j)
			start[k] = slab[k].start + j*slab[k].stride
			buf := e.vals[:count[k]*inner[k]]
			if err := e.f.Read(v.id, start, count, stride, buf); err != nil {
				return &readError{err}
			}
			if err := fn(buf); err != nil {
				return err
			}
		}
		d := k - 1
		for ; d >= 0; d-- {
			if outer[d]++; outer[d] < slab[d].count {
				break
			}
			outer[d] = 0
		}
		if d < 0 {
			return nil
		}
	}
}

// maxText bounds the text variables the handler reads, which it reads whole
// (the netcdf package reads text no other way).
const maxText = 64 << 20

// text reads the Strings n selects.
func (e *encoder) text(n *node) ([]string, error) {
	all, err := e.f.ReadText(n.v.id)
	if err != nil {
		return nil, &readError{err}
	}
	if n.v.rank() == 0 {
		return all[:1], nil
	}
	out := make([]string, 0, n.count())
	if n.count() == 0 {
		return out, nil
	}
	dims := n.v.dims
	idx := make([]int, len(n.slab))
	for {
		flat := 0
		for d, s := range n.slab {
			flat = flat*dims[d].len + s.start + idx[d]*s.stride
		}
		out = append(out, all[flat])
		d := len(idx) - 1
		for ; d >= 0; d-- {
			if idx[d]++; idx[d] < n.slab[d].count {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			return out, nil
		}
	}
}

// xdr writes the data of n in the DAP2 XDR encoding.
func (e *encoder) xdr(n *node) error {
	if n.kind != atomic {
		for _, m := range n.members {
			if err := e.xdr(m); err != nil {
				return err
			}
		}
		return nil
	}
	t, scalar := n.v.typ, n.v.rank() == 0
	if t == tString {
		strs, err := e.text(n)
		if err != nil {
			return err
		}
		b := e.out[:0]
		if !scalar {
			b = binary.BigEndian.AppendUint32(b, uint32(len(strs)))
		}
		var zeros [3]byte
		for _, s := range strs {
			b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
			b = append(b, zeros[:pad4(int64(len(s)))-int64(len(s))]...)
		}
		e.out = b
		_, err = e.w.Write(b)
		return err
	}
	if scalar {
		// A scalar takes at least a whole XDR unit: Byte and UInt16 as a
		// zero-extended unsigned int, Int16 as a sign-extended int.
		enc := t
		switch t {
		case tByte, tUInt16:
			enc = tUInt32
		case tInt16:
			enc = tInt32
		}
		return e.eachChunk(n, func(vals []float64) error {
			e.out = encodeXDR(e.out[:0], enc, vals)
			_, err := e.w.Write(e.out)
			return err
		})
	}
	c := n.count()
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(c))
	binary.BigEndian.PutUint32(hdr[4:], uint32(c))
	if _, err := e.w.Write(hdr[:]); err != nil {
		return err
	}
	err := e.eachChunk(n, func(vals []float64) error {
		e.out = encodeXDR(e.out[:0], t, vals)
		_, err := e.w.Write(e.out)
		return err
	})
	if err != nil {
		return err
	}
	if t == tByte {
		var zeros [3]byte
		_, err = e.w.Write(zeros[:pad4(c)-c])
	}
	return err
}

// encodeXDR appends vals as elements of an XDR array of type t. libnetcdf
// converted them from the variable's own type, so converting back is exact.
func encodeXDR(dst []byte, t dapType, vals []float64) []byte {
	size := int(t.arraySize())
	n := len(dst)
	if need := n + size*len(vals); cap(dst) < need {
		dst = append(dst[:cap(dst)], make([]byte, need-cap(dst))...)
	}
	dst = dst[:n+size*len(vals)]
	b := dst[n:]
	be := binary.BigEndian
	switch t {
	case tByte:
		for i, v := range vals {
			b[i] = uint8(v)
		}
	case tInt16, tInt32:
		for i, v := range vals {
			be.PutUint32(b[4*i:], uint32(int32(v)))
		}
	case tUInt16, tUInt32:
		for i, v := range vals {
			be.PutUint32(b[4*i:], uint32(v))
		}
	case tFloat32:
		for i, v := range vals {
			be.PutUint32(b[4*i:], math.Float32bits(float32(v)))
		}
	case tFloat64:
		for i, v := range vals {
			be.PutUint64(b[8*i:], math.Float64bits(v))
		}
	}
	return dst
}

// ascii writes the data of n as text: one line per run of the last
// dimension, prefixed by the name and the indices of the others within the
// hyperslab, values separated by ", ".
func (e *encoder) ascii(n *node, prefix string) error {
	name := prefix + escName(n.name)
	if n.kind != atomic {
		for _, m := range n.members {
			if err := e.ascii(m, name+"."); err != nil {
				return err
			}
		}
		return nil
	}
	l := &asciiLine{name: name, slab: n.slab, b: e.out[:0]}
	if r := len(n.slab); r > 0 {
		l.last = n.slab[r-1].count
		l.idx = make([]int, r-1)
	}
	if n.count() == 0 {
		l.b = append(l.b, name...)
	}
	if n.v.typ == tString {
		strs, err := e.text(n)
		if err != nil {
			return err
		}
		for _, s := range strs {
			l.next()
			l.b = append(l.b, quoteDAP(s)...)
		}
	} else {
		t := n.v.typ
		err := e.eachChunk(n, func(vals []float64) error {
			for _, v := range vals {
				l.next()
				l.b = appendNumber(l.b, t, v)
				if len(l.b) >= 64<<10 {
					if _, err := e.w.Write(l.b); err != nil {
						return err
					}
					l.b = l.b[:0]
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	l.b = append(l.b, '\n')
	_, err := e.w.Write(l.b)
	e.out = l.b[:0]
	return err
}

// asciiLine lays out the values of one array as lines.
type asciiLine struct {
	name string
	slab []span
	last int   // values per line
	idx  []int // indices of the line within the leading dimensions
	pos  int   // values so far
	b    []byte
}

// next starts a line when a run of the last dimension begins, and
// separates the value to come from what precedes it.
func (l *asciiLine) next() {
	if l.pos%max(l.last, 1) == 0 {
		if l.pos > 0 {
			l.b = append(l.b, '\n')
			for d := len(l.idx) - 1; d >= 0; d-- {
				if l.idx[d]++; l.idx[d] < l.slab[d].count {
					break
				}
				l.idx[d] = 0
			}
		}
		l.b = append(l.b, l.name...)
		for _, i := range l.idx {
			l.b = append(l.b, '[')
			l.b = strconv.AppendInt(l.b, int64(i), 10)
			l.b = append(l.b, ']')
		}
	}
	l.b = append(l.b, ", "...)
	l.pos++
}

func appendNumber(b []byte, t dapType, v float64) []byte {
	switch t {
	case tFloat32:
		return strconv.AppendFloat(b, v, 'g', -1, 32)
	case tFloat64:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return strconv.AppendInt(b, int64(v), 10)
}
