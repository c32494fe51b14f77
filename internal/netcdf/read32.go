package netcdf

/*
#include <netcdf.h>
*/
import "C"

// ReadFloat32 is Read into float32: the hyperslab start/count (and stride;
// nil means 1 everywhere) of varID, converted to float by libnetcdf, into
// dst, which must have exactly prod(count) elements. For an NC_FLOAT
// variable nothing is converted, and HDF5 copies the data straight into
// dst: measured, half the time of reading the same values as double. A
// value of another type out of float's range gives NC_ERANGE.
func (f *File) ReadFloat32(varID int, start, count, stride []int, dst []float32) error {
	const op = "read"
	s, err := f.prepare(op, varID, start, count, stride, len(dst))
	if err != nil {
		return err
	}
	var empty C.float
	p := &empty
	if s.n > 0 {
		p = (*C.float)(&dst[0])
	}
	return f.call(op, onVar(varID), func(nc C.int) C.int {
		if s.stride == nil {
			return C.nc_get_vara_float(nc, C.int(varID), &s.start[0], &s.count[0], p)
		}
		return C.nc_get_vars_float(nc, C.int(varID), &s.start[0], &s.count[0], &s.stride[0], p)
	})
}

// WriteFloat32 writes src (len == prod(count)) to the hyperslab of a float
// variable, skipping libnetcdf's float64-to-float conversion, which costs
// as much as the write itself on large outputs.
func (f *File) WriteFloat32(varID int, start, count []int, src []float32) error {
	const op = "write"
	s, err := f.prepare(op, varID, start, count, nil, len(src))
	if err != nil {
		return err
	}
	var empty C.float
	p := &empty
	if s.n > 0 {
		p = (*C.float)(&src[0])
	}
	return f.callWrite(op, onVar(varID), func(nc C.int) C.int {
		return C.nc_put_vara_float(nc, C.int(varID), &s.start[0], &s.count[0], p)
	})
}
