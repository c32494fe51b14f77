package netcdf

/*
#include <netcdf.h>
*/
import "C"

import (
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// slab is a hyperslab checked and converted for C. Its arrays are never
// empty, so &a[0] is valid even for a scalar variable (libnetcdf ignores
// them then).
type slab struct {
	start, count []C.size_t
	stride       []C.ptrdiff_t // nil when every stride is 1
	n            int           // number of elements, prod(count)
}

func makeSlab(start, count, stride []int) (slab, string) {
	if len(count) != len(start) {
		return slab{}, fmt.Sprintf("start has %d elements but count has %d", len(start), len(count))
	}
	if stride != nil && len(stride) != len(start) {
		return slab{}, fmt.Sprintf("start has %d elements but stride has %d", len(start), len(stride))
	}
	r := max(len(start), 1)
	s := slab{start: make([]C.size_t, r), count: make([]C.size_t, r), n: 1}
	strided := false
	for i := range start {
		if start[i] < 0 {
			return slab{}, fmt.Sprintf("negative start %d in dimension %d", start[i], i)
		}
		if count[i] < 0 {
			return slab{}, fmt.Sprintf("negative count %d in dimension %d", count[i], i)
		}
		if stride != nil {
			if stride[i] < 1 {
				return slab{}, fmt.Sprintf("stride %d in dimension %d is not positive", stride[i], i)
			}
			strided = strided || stride[i] != 1
		}
		if count[i] != 0 && s.n > math.MaxInt/count[i] {
			return slab{}, "count is too large"
		}
		s.n *= count[i]
		s.start[i] = C.size_t(start[i])
		s.count[i] = C.size_t(count[i])
	}
	if strided {
		s.stride = make([]C.ptrdiff_t, r)
		for i, v := range stride {
			s.stride[i] = C.ptrdiff_t(v)
		}
	}
	return s, ""
}

// shape inquires a variable's type and current dimension lengths in one
// locked section.
func (f *File) shape(op string, varID int) (Type, []int, error) {
	if err := f.checkVarID(op, varID, false); err != nil {
		return 0, nil, err
	}
	var (
		xtype C.nc_type
		lens  []int
	)
	err := f.call(op, onVar(varID), func(nc C.int) C.int {
		vid := C.int(varID)
		var nd C.int
		if rc := C.nc_inq_varndims(nc, vid, &nd); rc != C.NC_NOERR {
			return rc
		}
		if rc := C.nc_inq_vartype(nc, vid, &xtype); rc != C.NC_NOERR {
			return rc
		}
		dimids := make([]C.int, nd+1)
		if rc := C.nc_inq_vardimid(nc, vid, &dimids[0]); rc != C.NC_NOERR {
			return rc
		}
		lens = make([]int, nd)
		for i := range lens {
			var n C.size_t
			if rc := C.nc_inq_dimlen(nc, dimids[i], &n); rc != C.NC_NOERR {
				return rc
			}
			lens[i] = int(n)
		}
		return C.NC_NOERR
	})
	return Type(xtype), lens, err
}

// prepare checks a hyperslab against the data length and the variable's
// rank. libnetcdf reads as many start/count entries as the variable has
// dimensions, so a short slice would make it read past Go memory.
func (f *File) prepare(op string, varID int, start, count, stride []int, ndata int) (slab, error) {
	s, msg := makeSlab(start, count, stride)
	if msg == "" && ndata != s.n {
		msg = fmt.Sprintf("data has %d elements but count selects %d", ndata, s.n)
	}
	if msg != "" {
		return slab{}, f.invalid(op, onVar(varID), "%s", msg)
	}
	_, lens, err := f.shape(op, varID)
	if err != nil {
		return slab{}, err
	}
	if len(lens) != len(start) {
		return slab{}, f.invalid(op, onVar(varID), "variable has %d dimensions but start has %d elements", len(lens), len(start))
	}
	return s, nil
}

// Read reads the hyperslab start/count (and stride; nil means 1 everywhere)
// of variable varID, converted to float64 by libnetcdf, into dst, which must
// have exactly prod(count) elements. A scalar variable has len(start) == 0
// and reads one value. The whole slab is one C call holding the library lock.
func (f *File) Read(varID int, start, count, stride []int, dst []float64) error {
	const op = "read"
	s, err := f.prepare(op, varID, start, count, stride, len(dst))
	if err != nil {
		return err
	}
	// libnetcdf still checks the bounds of an empty slab, so it gets a
	// pointer that it will not use.
	var empty C.double
	p := &empty
	if s.n > 0 {
		// dst holds no Go pointers, so it may be passed to C for the call.
		p = (*C.double)(&dst[0])
	}
	return f.call(op, onVar(varID), func(nc C.int) C.int {
		if s.stride == nil {
			return C.nc_get_vara_double(nc, C.int(varID), &s.start[0], &s.count[0], p)
		}
		return C.nc_get_vars_double(nc, C.int(varID), &s.start[0], &s.count[0], &s.stride[0], p)
	})
}

// ReadText reads a whole NC_CHAR variable as strings, one per record of its
// last dimension: a char variable [n][len] gives n strings, [len] gives one,
// and a scalar gives one of a single character. Each string ends at its first
// NUL and loses trailing spaces (the padding of fixed-width text).
func (f *File) ReadText(varID int) ([]string, error) {
	const op = "read text"
	t, lens, err := f.shape(op, varID)
	if err != nil {
		return nil, err
	}
	if t != Char {
		return nil, f.invalid(op, onVar(varID), "variable is %s, not char", t)
	}
	width, records := 1, 1
	if len(lens) > 0 {
		width = lens[len(lens)-1]
		for _, n := range lens[:len(lens)-1] {
			records *= n
		}
	}
	out := make([]string, records)
	if records == 0 || width == 0 {
		return out, nil
	}
	// The lengths just inquired are passed explicitly: an unlimited dimension
	// that grows meanwhile must not overrun buf.
	start := make([]int, len(lens))
	s, _ := makeSlab(start, lens, nil)
	buf := make([]byte, records*width)
	err = f.call(op, onVar(varID), func(nc C.int) C.int {
		return C.nc_get_vara_text(nc, C.int(varID), &s.start[0], &s.count[0], (*C.char)(unsafe.Pointer(&buf[0])))
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		rec := string(buf[i*width : (i+1)*width])
		if j := strings.IndexByte(rec, 0); j >= 0 {
			rec = rec[:j]
		}
		out[i] = strings.TrimRight(rec, " ")
	}
	return out, nil
}

// Write writes src (len == prod(count)) to the hyperslab start/count of
// varID. libnetcdf converts float64 to the variable's type, truncating toward
// zero for integer types, so callers packing data round first. Writing past
// the end of an unlimited dimension extends it. A value out of the range of
// the type gives an error (NC_ERANGE) naming the variable; libnetcdf has
// then still written the slab, with 0 in place of such values.
func (f *File) Write(varID int, start, count []int, src []float64) error {
	const op = "write"
	s, err := f.prepare(op, varID, start, count, nil, len(src))
	if err != nil {
		return err
	}
	var empty C.double
	p := &empty
	if s.n > 0 {
		p = (*C.double)(&src[0])
	}
	err = f.callWrite(op, onVar(varID), func(nc C.int) C.int {
		return C.nc_put_vara_double(nc, C.int(varID), &s.start[0], &s.count[0], p)
	})
	if e, ok := err.(*Error); ok && e.Code == C.NC_ERANGE {
		if t, _, terr := f.shape(op, varID); terr == nil {
			e.Msg += fmt.Sprintf(" (a value is outside the range of %s)", t)
		}
	}
	return err
}
