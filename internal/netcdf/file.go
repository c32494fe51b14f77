package netcdf

/*
#include <stdlib.h>
#include <netcdf.h>
*/
import "C"

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"unsafe"
)

// File is an open netCDF dataset. Its methods may be called from several
// goroutines. It must be closed with Close; nothing closes it otherwise.
type File struct {
	ncid     C.int
	uri      string
	writable bool
	closed   bool // guarded by mu, as is every use of ncid
}

// Open opens uri read-only. uri is passed to nc_open unchanged: a local path
// (without "file://"), an OPeNDAP URL, or an HTTP URL ending in
// "#mode=bytes" for byte-range reads (when libnetcdf was built with them).
func Open(uri string) (*File, error) {
	if uri == "" {
		return nil, &Error{Op: "open", Msg: "empty path"}
	}
	return open(uri, "open", false, func(path *C.char, id *C.int) C.int {
		return C.nc_open(path, C.NC_NOWRITE, id)
	})
}

// Create creates a NetCDF-4 (HDF5) file at path, replacing any file there,
// and leaves it in define mode.
func Create(path string) (*File, error) {
	if path == "" {
		return nil, &Error{Op: "create", Msg: "empty path"}
	}
	return open(path, "create", true, func(p *C.char, id *C.int) C.int {
		return C.nc_create(p, C.NC_NETCDF4|C.NC_CLOBBER, id)
	})
}

func open(uri, op string, writable bool, fn func(*C.char, *C.int) C.int) (*File, error) {
	cs := C.CString(uri)
	defer C.free(unsafe.Pointer(cs))
	var id C.int
	lock()
	rc := fn(cs, &id)
	var msg string
	if rc != C.NC_NOERR {
		msg = strerror(rc)
	}
	unlock()
	if rc != C.NC_NOERR {
		e := &Error{Op: op, URI: uri, Code: int(rc), Msg: msg}
		switch {
		case rc == C.int(syscall.ENOENT) && isURL(uri):
			// libnetcdf treats a URL it cannot handle as a local path: an
			// "#mode=bytes" URL does so when built without byte-range support.
			e.Msg = "libnetcdf opened the URL as a local path (" + msg +
				"); byte-range (#mode=bytes) support may be missing from this build"
		case rc == C.int(syscall.ENOENT) || rc == C.NC_ENOTFOUND:
			e.Msg = "file does not exist (" + msg + ")"
		}
		return nil, e
	}
	return &File{ncid: id, uri: uri, writable: writable}, nil
}

func isURL(uri string) bool { return strings.Contains(uri, "://") }

// URI returns the path or URL the file was opened or created with.
func (f *File) URI() string { return f.uri }

// Close closes the file, flushing data being written. It is idempotent. The
// File counts as closed even if nc_close fails, since libnetcdf has then
// released the handle anyway or left it unusable.
func (f *File) Close() error {
	lock()
	defer unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if rc := C.nc_close(f.ncid); rc != C.NC_NOERR {
		return &Error{Op: "close", URI: f.uri, Code: int(rc), Msg: strerror(rc)}
	}
	return nil
}

// noVar marks an error that concerns the whole file.
const noVar = -2

// subject says what an error is about: a variable (by id, named lazily from
// the file), an attribute of one, or a name given outright.
type subject struct {
	varID int
	attr  string
	name  string
}

func onFile() subject                 { return subject{varID: noVar} }
func onVar(id int) subject            { return subject{varID: id} }
func onAttr(id int, a string) subject { return subject{varID: id, attr: a} }
func named(s string) subject          { return subject{varID: noVar, name: s} }

// label names s for an error message. Called with mu held and f open.
func (f *File) label(s subject) string {
	if s.name != "" {
		return s.name
	}
	v := ""
	if s.varID >= 0 {
		v = fmt.Sprintf("varid %d", s.varID)
		if s.varID <= maxCInt {
			var buf [C.NC_MAX_NAME + 1]C.char
			if C.nc_inq_varname(f.ncid, C.int(s.varID), &buf[0]) == C.NC_NOERR {
				v = C.GoString(&buf[0])
			}
		}
	}
	if s.attr != "" && s.varID != noVar {
		return v + ":" + s.attr
	}
	return v
}

const maxCInt = 1<<31 - 1

// call runs fn with mu held, once f is known to be open, and turns a failing
// status into an *Error about s.
func (f *File) call(op string, s subject, fn func(ncid C.int) C.int) error {
	lock()
	defer unlock()
	if f.closed {
		return &Error{Op: op, URI: f.uri, Msg: "file is closed"}
	}
	rc := fn(f.ncid)
	if rc == C.NC_NOERR {
		return nil
	}
	return &Error{Op: op, URI: f.uri, Var: f.label(s), Code: int(rc), Msg: strerror(rc)}
}

// callWrite is call for operations that modify the file. libnetcdf reports
// writes to a NetCDF-4 file opened read-only only as "HDF error".
func (f *File) callWrite(op string, s subject, fn func(ncid C.int) C.int) error {
	if !f.writable {
		return f.invalid(op, s, "file is open read-only")
	}
	return f.call(op, s, fn)
}

// invalid reports a check that failed in Go, before any data reached C.
// Naming the variable still asks libnetcdf, under the lock.
func (f *File) invalid(op string, s subject, format string, args ...any) error {
	lock()
	defer unlock()
	e := &Error{Op: op, URI: f.uri, Msg: fmt.Sprintf(format, args...)}
	if f.closed {
		e.Msg = "file is closed"
	} else {
		e.Var = f.label(s)
	}
	return e
}

// checkVarID rejects ids that cannot be a variable before they are narrowed
// to a C int.
func (f *File) checkVarID(op string, id int, global bool) error {
	if id >= 0 && id <= maxCInt || global && id == Global {
		return nil
	}
	return f.invalid(op, onFile(), "invalid variable id %d", id)
}

func goName(buf []C.char) string { return C.GoString(&buf[0]) }

// dimIDs lists the dimension ids of the root group in ascending order, and
// the set of unlimited ones.
func (f *File) dimIDs(op string) ([]int, map[int]bool, error) {
	var ids, unlim []C.int
	err := f.call(op, onFile(), func(nc C.int) C.int {
		var n, nu C.int
		if rc := C.nc_inq_dimids(nc, &n, nil, 0); rc != C.NC_NOERR {
			return rc
		}
		ids = make([]C.int, n+1) // +1 so &ids[0] exists when n == 0
		if rc := C.nc_inq_dimids(nc, &n, &ids[0], 0); rc != C.NC_NOERR {
			return rc
		}
		ids = ids[:n]
		if rc := C.nc_inq_unlimdims(nc, &nu, nil); rc != C.NC_NOERR {
			return rc
		}
		unlim = make([]C.int, nu+1)
		if rc := C.nc_inq_unlimdims(nc, &nu, &unlim[0]); rc != C.NC_NOERR {
			return rc
		}
		unlim = unlim[:nu]
		return C.NC_NOERR
	})
	if err != nil {
		return nil, nil, err
	}
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	slices.Sort(out)
	u := make(map[int]bool, len(unlim))
	for _, id := range unlim {
		u[int(id)] = true
	}
	return out, u, nil
}

func (f *File) dim(op string, id int, unlim map[int]bool) (Dim, error) {
	var name [C.NC_MAX_NAME + 1]C.char
	var n C.size_t
	err := f.call(op, named(fmt.Sprintf("dimid %d", id)), func(nc C.int) C.int {
		return C.nc_inq_dim(nc, C.int(id), &name[0], &n)
	})
	if err != nil {
		return Dim{}, err
	}
	return Dim{ID: id, Name: goName(name[:]), Len: int(n), Unlimited: unlim[id]}, nil
}

// Dims returns all dimensions, in id order.
func (f *File) Dims() ([]Dim, error) {
	const op = "inquire dimensions"
	ids, unlim, err := f.dimIDs(op)
	if err != nil {
		return nil, err
	}
	dims := make([]Dim, 0, len(ids))
	for _, id := range ids {
		d, err := f.dim(op, id, unlim)
		if err != nil {
			return nil, err
		}
		dims = append(dims, d)
	}
	return dims, nil
}

// Dim returns the dimension called name.
func (f *File) Dim(name string) (Dim, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var id C.int
	err := f.call(opFindDim, named(name), func(nc C.int) C.int {
		return C.nc_inq_dimid(nc, cs, &id)
	})
	if err != nil {
		return Dim{}, err
	}
	_, unlim, err := f.dimIDs(opFindDim)
	if err != nil {
		return Dim{}, err
	}
	return f.dim(opFindDim, int(id), unlim)
}

// Vars returns all variables with their dimensions and attributes, in id
// order.
func (f *File) Vars() ([]Var, error) {
	const op = "inquire variables"
	var ids []C.int
	err := f.call(op, onFile(), func(nc C.int) C.int {
		var n C.int
		if rc := C.nc_inq_varids(nc, &n, nil); rc != C.NC_NOERR {
			return rc
		}
		ids = make([]C.int, n+1)
		if rc := C.nc_inq_varids(nc, &n, &ids[0]); rc != C.NC_NOERR {
			return rc
		}
		ids = ids[:n]
		return C.NC_NOERR
	})
	if err != nil {
		return nil, err
	}
	all, err := f.Dims()
	if err != nil {
		return nil, err
	}
	dims := make(map[int]Dim, len(all))
	for _, d := range all {
		dims[d.ID] = d
	}
	vars := make([]Var, 0, len(ids))
	for _, id := range ids {
		v, err := f.varInfo(op, int(id), dims, nil)
		if err != nil {
			return nil, err
		}
		vars = append(vars, v)
	}
	slices.SortFunc(vars, func(a, b Var) int { return a.ID - b.ID })
	return vars, nil
}

// Var returns the variable called name. A missing variable gives an error
// for which IsNotFound is true and which names the variable and the file.
func (f *File) Var(name string) (Var, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var id C.int
	err := f.call(opFindVar, named(name), func(nc C.int) C.int {
		return C.nc_inq_varid(nc, cs, &id)
	})
	if err != nil {
		return Var{}, err
	}
	_, unlim, err := f.dimIDs(opFindVar)
	if err != nil {
		return Var{}, err
	}
	return f.varInfo(opFindVar, int(id), map[int]Dim{}, unlim)
}

// varInfo inquires variable id. Its dimensions come from dims when there,
// otherwise from the file (unlim then says which are unlimited).
func (f *File) varInfo(op string, id int, dims map[int]Dim, unlim map[int]bool) (Var, error) {
	var (
		name   [C.NC_MAX_NAME + 1]C.char
		xtype  C.nc_type
		dimids []C.int
		natts  C.int
	)
	err := f.call(op, onVar(id), func(nc C.int) C.int {
		var nd C.int
		if rc := C.nc_inq_varndims(nc, C.int(id), &nd); rc != C.NC_NOERR {
			return rc
		}
		dimids = make([]C.int, nd+1)
		rc := C.nc_inq_var(nc, C.int(id), &name[0], &xtype, &nd, &dimids[0], &natts)
		dimids = dimids[:nd]
		return rc
	})
	if err != nil {
		return Var{}, err
	}
	v := Var{ID: id, Name: goName(name[:]), Type: Type(xtype), Dims: make([]Dim, len(dimids))}
	for i, did := range dimids {
		d, ok := dims[int(did)]
		if !ok {
			if d, err = f.dim(op, int(did), unlim); err != nil {
				return Var{}, err
			}
			dims[d.ID] = d
		}
		v.Dims[i] = d
	}
	if v.Attrs, err = f.attrs(op, id, int(natts)); err != nil {
		return Var{}, err
	}
	return v, nil
}

// Attrs returns the global attributes.
func (f *File) Attrs() ([]Attr, error) {
	const op = "inquire global attributes"
	var n C.int
	err := f.call(op, onFile(), func(nc C.int) C.int {
		return C.nc_inq_natts(nc, &n)
	})
	if err != nil {
		return nil, err
	}
	return f.attrs(op, Global, int(n))
}

// attrs reads the n attributes of varID. Attributes of types outside the
// atomic ones (user-defined types) are skipped: Attr has no Value for them.
func (f *File) attrs(op string, varID, n int) ([]Attr, error) {
	out := make([]Attr, 0, n)
	for i := 0; i < n; i++ {
		a, ok, err := f.attr(op, varID, i)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// attr reads attribute number i of varID in one locked section.
func (f *File) attr(op string, varID, i int) (Attr, bool, error) {
	var (
		a    Attr
		ok   bool
		name [C.NC_MAX_NAME + 1]C.char
	)
	vid := C.int(varID)
	err := f.call(op, onVar(varID), func(nc C.int) C.int {
		if rc := C.nc_inq_attname(nc, vid, C.int(i), &name[0]); rc != C.NC_NOERR {
			return rc
		}
		var (
			xtype C.nc_type
			n     C.size_t
		)
		if rc := C.nc_inq_att(nc, vid, &name[0], &xtype, &n); rc != C.NC_NOERR {
			return rc
		}
		a.Name = goName(name[:])
		var rc C.int
		a.Value, ok, rc = getAtt(nc, vid, &name[0], Type(xtype), int(n))
		return rc
	})
	return a, ok, err
}

// getAtt reads an attribute's value as its external type. Called with mu held.
func getAtt(nc, vid C.int, name *C.char, t Type, n int) (any, bool, C.int) {
	switch t {
	case Char:
		if n == 0 {
			return "", true, C.NC_NOERR
		}
		buf := make([]byte, n)
		rc := C.nc_get_att_text(nc, vid, name, (*C.char)(unsafe.Pointer(&buf[0])))
		// C writers often count the terminating NUL in the length.
		for len(buf) > 0 && buf[len(buf)-1] == 0 {
			buf = buf[:len(buf)-1]
		}
		return string(buf), true, rc
	case String:
		if n == 0 {
			return []string{}, true, C.NC_NOERR
		}
		// C memory: libnetcdf stores its own pointers here.
		p := (**C.char)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
		defer C.free(unsafe.Pointer(p))
		if rc := C.nc_get_att_string(nc, vid, name, p); rc != C.NC_NOERR {
			return nil, true, rc
		}
		ptrs := unsafe.Slice(p, n)
		out := make([]string, n)
		for i, s := range ptrs {
			if s != nil {
				out[i] = C.GoString(s)
			}
		}
		C.nc_free_string(C.size_t(n), p)
		if n == 1 {
			return out[0], true, C.NC_NOERR
		}
		return out, true, C.NC_NOERR
	case Byte:
		return getNumAtt[int8](nc, vid, name, n)
	case UByte:
		return getNumAtt[uint8](nc, vid, name, n)
	case Short:
		return getNumAtt[int16](nc, vid, name, n)
	case UShort:
		return getNumAtt[uint16](nc, vid, name, n)
	case Int:
		return getNumAtt[int32](nc, vid, name, n)
	case UInt:
		return getNumAtt[uint32](nc, vid, name, n)
	case Int64:
		return getNumAtt[int64](nc, vid, name, n)
	case UInt64:
		return getNumAtt[uint64](nc, vid, name, n)
	case Float:
		return getNumAtt[float32](nc, vid, name, n)
	case Double:
		return getNumAtt[float64](nc, vid, name, n)
	}
	return nil, false, C.NC_NOERR
}

// getNumAtt reads n values with no conversion (nc_get_att uses the
// attribute's own type), straight into Go memory that holds no pointers.
func getNumAtt[T number](nc, vid C.int, name *C.char, n int) (any, bool, C.int) {
	s := make([]T, n)
	if n == 0 {
		return s, true, C.NC_NOERR
	}
	return s, true, C.nc_get_att(nc, vid, name, unsafe.Pointer(&s[0]))
}
