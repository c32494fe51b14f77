package netcdf

/*
#include <stdlib.h>
#include <netcdf.h>
*/
import "C"

import (
	"unsafe"
)

// DefDim defines a dimension and returns its id; length 0 makes it unlimited.
func (f *File) DefDim(name string, length int) (int, error) {
	const op = "define dimension"
	if length < 0 {
		return 0, f.invalid(op, named(name), "negative length %d", length)
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var id C.int
	err := f.callWrite(op, named(name), func(nc C.int) C.int {
		return C.nc_def_dim(nc, cs, C.size_t(length), &id)
	})
	return int(id), err
}

// DefVar defines a variable of type t over the dimensions dimIDs (none for a
// scalar) and returns its id.
func (f *File) DefVar(name string, t Type, dimIDs []int) (int, error) {
	const op = "define variable"
	if !t.valid() {
		return 0, f.invalid(op, named(name), "invalid type %d", int(t))
	}
	ids := make([]C.int, len(dimIDs)+1)
	for i, d := range dimIDs {
		if d < 0 || d > maxCInt {
			return 0, f.invalid(op, named(name), "invalid dimension id %d", d)
		}
		ids[i] = C.int(d)
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var id C.int
	err := f.callWrite(op, named(name), func(nc C.int) C.int {
		return C.nc_def_var(nc, cs, C.nc_type(t), C.int(len(dimIDs)), &ids[0], &id)
	})
	return int(id), err
}

// SetDeflate sets zlib compression at level 0..9 (0: none) and the shuffle
// filter for varID. Only in define mode.
func (f *File) SetDeflate(varID int, shuffle bool, level int) error {
	const op = "set deflate"
	if err := f.checkVarID(op, varID, false); err != nil {
		return err
	}
	if level < 0 || level > 9 {
		return f.invalid(op, onVar(varID), "deflate level %d is not in 0..9", level)
	}
	deflate := 0
	if level > 0 {
		deflate = 1
	}
	return f.callWrite(op, onVar(varID), func(nc C.int) C.int {
		return C.nc_def_var_deflate(nc, C.int(varID), cbool(shuffle), C.int(deflate), C.int(level))
	})
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// SetChunking sets the chunk lengths of varID, one per dimension, or
// contiguous storage if chunks is nil. Only in define mode.
func (f *File) SetChunking(varID int, chunks []int) error {
	const op = "set chunking"
	if chunks == nil {
		if err := f.checkVarID(op, varID, false); err != nil {
			return err
		}
		return f.callWrite(op, onVar(varID), func(nc C.int) C.int {
			return C.nc_def_var_chunking(nc, C.int(varID), C.NC_CONTIGUOUS, nil)
		})
	}
	cs := make([]C.size_t, len(chunks)+1)
	for i, c := range chunks {
		if c < 1 {
			return f.invalid(op, onVar(varID), "chunk length %d in dimension %d is not positive", c, i)
		}
		cs[i] = C.size_t(c)
	}
	// libnetcdf reads one chunk length per dimension of the variable.
	_, lens, err := f.shape(op, varID)
	if err != nil {
		return err
	}
	if len(lens) != len(chunks) {
		return f.invalid(op, onVar(varID), "variable has %d dimensions but chunks has %d elements", len(lens), len(chunks))
	}
	return f.callWrite(op, onVar(varID), func(nc C.int) C.int {
		return C.nc_def_var_chunking(nc, C.int(varID), C.NC_CHUNKED, &cs[0])
	})
}

// PutAttr writes attribute a of varID, or a global one if varID is Global.
// Every Value kind listed on Attr is accepted; a string is written as NC_CHAR
// and a []string as NC_STRING. A _FillValue must have the variable's type.
func (f *File) PutAttr(varID int, a Attr) error {
	const op = "put attribute"
	if err := f.checkVarID(op, varID, true); err != nil {
		return err
	}
	at := onAttr(varID, a.Name)
	if a.Name == "" {
		return f.invalid(op, at, "empty attribute name")
	}
	cname := C.CString(a.Name)
	defer C.free(unsafe.Pointer(cname))
	vid := C.int(varID)

	var put func(nc C.int) C.int
	switch v := a.Value.(type) {
	case string:
		text := C.CString(v)
		defer C.free(unsafe.Pointer(text))
		put = func(nc C.int) C.int {
			return C.nc_put_att_text(nc, vid, cname, C.size_t(len(v)), text)
		}
	case []string:
		// The array of C strings lives in C memory: it holds pointers.
		n := max(len(v), 1)
		arr := (**C.char)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
		defer C.free(unsafe.Pointer(arr))
		ptrs := unsafe.Slice(arr, n)
		for i, s := range v {
			ptrs[i] = C.CString(s)
		}
		defer func() {
			for i := range v {
				C.free(unsafe.Pointer(ptrs[i]))
			}
		}()
		put = func(nc C.int) C.int {
			return C.nc_put_att_string(nc, vid, cname, C.size_t(len(v)), arr)
		}
	case []int8:
		put = putNumAtt(vid, cname, Byte, v)
	case []uint8:
		put = putNumAtt(vid, cname, UByte, v)
	case []int16:
		put = putNumAtt(vid, cname, Short, v)
	case []uint16:
		put = putNumAtt(vid, cname, UShort, v)
	case []int32:
		put = putNumAtt(vid, cname, Int, v)
	case []uint32:
		put = putNumAtt(vid, cname, UInt, v)
	case []int64:
		put = putNumAtt(vid, cname, Int64, v)
	case []uint64:
		put = putNumAtt(vid, cname, UInt64, v)
	case []float32:
		put = putNumAtt(vid, cname, Float, v)
	case []float64:
		put = putNumAtt(vid, cname, Double, v)
	default:
		return f.invalid(op, at, "unsupported attribute value type %T", a.Value)
	}
	return f.callWrite(op, at, put)
}

// putNumAtt writes values of their own netCDF type t, so nothing is
// converted; the slice holds no Go pointers and may be passed to C.
func putNumAtt[T number](vid C.int, name *C.char, t Type, v []T) func(C.int) C.int {
	return func(nc C.int) C.int {
		var p unsafe.Pointer
		if len(v) > 0 {
			p = unsafe.Pointer(&v[0])
		}
		return C.nc_put_att(nc, vid, name, C.nc_type(t), C.size_t(len(v)), p)
	}
}

// EndDef leaves define mode. Writing data also leaves it implicitly for a
// NetCDF-4 file.
func (f *File) EndDef() error {
	return f.callWrite("end define mode", onFile(), func(nc C.int) C.int {
		return C.nc_enddef(nc)
	})
}

// SetChunkCache sets the HDF5 chunk cache of varID to bytes (0 turns it
// off), keeping its slot count and preemption. Turning it off speeds up
// unfiltered variables read once but slows deflated ones several times; see
// Deflated. Formats without a chunk cache (classic files, DAP2) ignore it.
func (f *File) SetChunkCache(varID int, bytes int) error {
	const op = "set chunk cache"
	if err := f.checkVarID(op, varID, false); err != nil {
		return err
	}
	if bytes < 0 {
		return f.invalid(op, onVar(varID), "negative cache size %d", bytes)
	}
	return f.call(op, onVar(varID), func(nc C.int) C.int {
		var (
			size, nelems C.size_t
			preempt      C.float
		)
		rc := C.nc_get_var_chunk_cache(nc, C.int(varID), &size, &nelems, &preempt)
		if rc == C.NC_NOERR {
			rc = C.nc_set_var_chunk_cache(nc, C.int(varID), C.size_t(bytes), nelems, preempt)
		}
		if rc == C.NC_ENOTNC4 {
			return C.NC_NOERR
		}
		return rc
	})
}

// Deflated reports whether varID is stored deflated or shuffled
// (nc_inq_var_deflate), so callers can choose its chunk cache. Variables of
// classic files never are.
func (f *File) Deflated(varID int) (bool, error) {
	const op = "inquire deflate"
	if err := f.checkVarID(op, varID, false); err != nil {
		return false, err
	}
	var shuffle, deflate, level C.int
	err := f.call(op, onVar(varID), func(nc C.int) C.int {
		rc := C.nc_inq_var_deflate(nc, C.int(varID), &shuffle, &deflate, &level)
		if rc == C.NC_ENOTNC4 {
			return C.NC_NOERR
		}
		return rc
	})
	return err == nil && (shuffle != 0 || deflate != 0), err
}
