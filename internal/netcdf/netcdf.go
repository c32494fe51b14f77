// Package netcdf is a cgo binding to the C library libnetcdf. It reads local
// files, OPeNDAP (DAP2) URLs and, where libnetcdf was built with byte-range
// support (Debian 12's was not), "#mode=bytes" HTTP URLs; it writes NetCDF-4
// files.
//
// libnetcdf is not thread-safe: concurrent calls crash it even on separate
// files. Every call into it therefore runs under one package-wide mutex. Each
// locked section is a single C call or a short group of them, so goroutines
// working on different files interleave between calls. One Read is one C call
// and holds the lock throughout, so callers wanting fairness read in slabs
// (for example one time step at a time).
//
// A File has no finalizer: it holds a libnetcdf handle (and, when writing,
// unflushed data) until Close, which callers must call.
package netcdf

/*
#cgo pkg-config: netcdf
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <netcdf.h>

// libnetcdf turns off HDF5's printing of error stacks, but a thread-safe
// HDF5 keeps that setting per thread, so Go's other threads print a stack
// for every attribute libnetcdf merely probes for. quiet_hdf5 turns it off
// on the calling thread, once. HDF5 is found at run time (it is loaded as a
// dependency of libnetcdf) so that nothing more is linked; without it this
// does nothing. Called with mu held.
static void quiet_hdf5(void) {
	static __thread int done;
	static int looked;
	static int (*set_auto)(int64_t, void *, void *);
	if (done) {
		return;
	}
	done = 1;
	if (!looked) {
		looked = 1;
		set_auto = (int (*)(int64_t, void *, void *))dlsym(RTLD_DEFAULT, "H5Eset_auto2");
	}
	if (set_auto) {
		set_auto(0, NULL, NULL); // H5E_DEFAULT: this thread's error stack
	}
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// mu serialises every call into libnetcdf, whichever file it concerns.
var mu sync.Mutex

// lock takes mu and keeps the goroutine on one thread, on which HDF5's
// error printing is off, until unlock.
func lock() {
	mu.Lock()
	runtime.LockOSThread()
	C.quiet_hdf5()
}

func unlock() {
	runtime.UnlockOSThread()
	mu.Unlock()
}

// Type is a netCDF external type (values equal to the NC_* constants).
type Type int

// The netCDF atomic types.
const (
	Byte   Type = C.NC_BYTE
	Char   Type = C.NC_CHAR
	Short  Type = C.NC_SHORT
	Int    Type = C.NC_INT
	Float  Type = C.NC_FLOAT
	Double Type = C.NC_DOUBLE
	UByte  Type = C.NC_UBYTE
	UShort Type = C.NC_USHORT
	UInt   Type = C.NC_UINT
	Int64  Type = C.NC_INT64
	UInt64 Type = C.NC_UINT64
	String Type = C.NC_STRING
)

// Global is the variable id (NC_GLOBAL) that addresses global attributes.
const Global = C.NC_GLOBAL

var typeNames = [...]string{
	Byte: "byte", Char: "char", Short: "short", Int: "int", Float: "float",
	Double: "double", UByte: "ubyte", UShort: "ushort", UInt: "uint",
	Int64: "int64", UInt64: "uint64", String: "string",
}

var typeSizes = [...]int{
	Byte: 1, Char: 1, Short: 2, Int: 4, Float: 4, Double: 8,
	UByte: 1, UShort: 2, UInt: 4, Int64: 8, UInt64: 8,
	// An NC_STRING element in memory is a char pointer.
	String: int(unsafe.Sizeof((*C.char)(nil))),
}

func (t Type) valid() bool { return t >= Byte && t <= String }

// String returns the CDL name of t ("float", "ushort", ...), or "Type(N)" for
// types this package does not know (user-defined types).
func (t Type) String() string {
	if t.valid() {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Size returns the bytes per element of t in memory; for String that is the
// size of a C pointer. It is 0 for unknown types.
func (t Type) Size() int {
	if t.valid() {
		return typeSizes[t]
	}
	return 0
}

// Dim is a dimension. Len is the current length, which grows for an
// unlimited dimension as records are written.
type Dim struct {
	ID        int
	Name      string
	Len       int
	Unlimited bool
}

// Attr is one attribute. Value holds exactly one of: string (NC_CHAR text,
// or a single NC_STRING), []string (several NC_STRING), []int8, []uint8,
// []int16, []uint16, []int32, []uint32, []int64, []uint64, []float32,
// []float64.
type Attr struct {
	Name  string
	Value any
}

// Type returns the netCDF type Value maps to (string maps to Char, so a
// single NC_STRING read from a file is written back as text). It is 0 for a
// Value of any other Go type.
func (a Attr) Type() Type {
	switch a.Value.(type) {
	case string:
		return Char
	case []string:
		return String
	case []int8:
		return Byte
	case []uint8:
		return UByte
	case []int16:
		return Short
	case []uint16:
		return UShort
	case []int32:
		return Int
	case []uint32:
		return UInt
	case []int64:
		return Int64
	case []uint64:
		return UInt64
	case []float32:
		return Float
	case []float64:
		return Double
	}
	return 0
}

type number interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 | ~float32 | ~float64
}

func toFloat64s[T number](s []T) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// Float64s returns numeric values converted to float64 (64-bit integers
// beyond 2^53 lose precision); false for text.
func (a Attr) Float64s() ([]float64, bool) {
	switch v := a.Value.(type) {
	case []int8:
		return toFloat64s(v), true
	case []uint8:
		return toFloat64s(v), true
	case []int16:
		return toFloat64s(v), true
	case []uint16:
		return toFloat64s(v), true
	case []int32:
		return toFloat64s(v), true
	case []uint32:
		return toFloat64s(v), true
	case []int64:
		return toFloat64s(v), true
	case []uint64:
		return toFloat64s(v), true
	case []float32:
		return toFloat64s(v), true
	case []float64:
		return append([]float64(nil), v...), true
	}
	return nil, false
}

// Text returns the value of a text attribute: a string, or a []string with
// exactly one element. Several strings have no single text, so it reports
// false for them, as for numbers.
func (a Attr) Text() (string, bool) {
	switch v := a.Value.(type) {
	case string:
		return v, true
	case []string:
		if len(v) == 1 {
			return v[0], true
		}
	}
	return "", false
}

// Var is a variable with its dimensions and attributes.
type Var struct {
	ID    int
	Name  string
	Type  Type
	Dims  []Dim
	Attrs []Attr
}

// Attr returns the attribute called name.
func (v Var) Attr(name string) (Attr, bool) {
	for _, a := range v.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// Shape returns the lengths of v's dimensions, as they were when v was
// inquired (the current length for an unlimited one).
func (v Var) Shape() []int {
	s := make([]int, len(v.Dims))
	for i, d := range v.Dims {
		s[i] = d.Len
	}
	return s
}

// Error is a failure of a libnetcdf call, or of a check made before one.
type Error struct {
	Op   string // what was attempted: "open", "read", "put attribute", ...
	URI  string // the file
	Var  string // the variable, dimension or "var:attr" involved; may be empty
	Code int    // libnetcdf status (NC_E* < 0, errno > 0); 0 for checks made in Go
	Msg  string
}

// ops whose not-found errors read "variable "x" not found in uri".
const (
	opFindVar = "variable"
	opFindDim = "dimension"
)

func (e *Error) Error() string {
	if e.notFoundLookup() {
		return fmt.Sprintf("netcdf: %s %q not found in %s", e.Op, e.Var, e.URI)
	}
	var b strings.Builder
	b.WriteString("netcdf: ")
	b.WriteString(e.Op)
	if e.Var != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.Var))
		if e.URI != "" {
			b.WriteString(" in")
		}
	}
	if e.URI != "" {
		b.WriteString(" ")
		b.WriteString(e.URI)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, fs.ErrNotExist) true when IsNotFound says a
// file is missing, and exposes other positive codes as the errno they are.
func (e *Error) Unwrap() error {
	switch {
	case e.Code == int(syscall.ENOENT) && isURL(e.URI):
		return nil
	case e.Code == C.NC_ENOTFOUND || e.Code == int(syscall.ENOENT):
		return fs.ErrNotExist
	case e.Code > 0:
		return syscall.Errno(e.Code)
	}
	return nil
}

func (e *Error) notFoundLookup() bool {
	return (e.Op == opFindVar && e.Code == C.NC_ENOTVAR) ||
		(e.Op == opFindDim && e.Code == C.NC_EBADDIM)
}

// IsNotFound reports whether err says that something named does not exist:
// a file that Open could not find (a local path, or an OPeNDAP URL the
// server answers 404), a variable (NC_ENOTVAR), or a dimension looked up by
// name.
func IsNotFound(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case int(syscall.ENOENT):
		// For a URL this means libnetcdf could not handle it, not that it
		// is missing.
		return !isURL(e.URI)
	case C.NC_ENOTFOUND, C.NC_ENOTVAR:
		return true
	}
	return e.notFoundLookup()
}

// strerror must be called with mu held: for errno codes it uses strerror(3).
func strerror(rc C.int) string {
	return C.GoString(C.nc_strerror(rc))
}
