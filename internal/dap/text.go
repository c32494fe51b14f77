package dap

import (
	"bufio"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/computewps/computewps/internal/netcdf"
)

// Error is a DAP2 error. Code is both the DAP error code and the HTTP
// status of the response that carries it.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("dap: %d: %s", e.Code, e.Message) }

func errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// writeErrorObject writes e as a DAP2 error object.
func writeErrorObject(w *bufio.Writer, e *Error) {
	fmt.Fprintf(w, "Error {\n    code = %d;\n    message = %s;\n};\n", e.Code, quoteDAP(e.Message))
}

// quoteDAP quotes s for a DAS or an error object: DAP2 escapes only '"' and
// '\' inside quotes.
func quoteDAP(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// escName writes a netCDF name as a DAP2 identifier: characters that
// libnetcdf's DDS and DAS scanners would not take as part of a name, or
// that mean something in a constraint, become %XX. Constraints name
// variables the same way, and the constraint parser undoes it.
func escName(s string) string {
	ok := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '+' || c == '.'
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; ok(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

const indent = "    "

// writeDDS writes the DDS of the constrained dataset.
func writeDDS(w *bufio.Writer, name string, nodes []*node) {
	w.WriteString("Dataset {\n")
	for _, n := range nodes {
		writeDecl(w, indent, n)
	}
	w.WriteString("} ")
	w.WriteString(escName(name))
	w.WriteString(";\n")
}

func writeDecl(w *bufio.Writer, pre string, n *node) {
	switch n.kind {
	case atomic:
		w.WriteString(pre)
		w.WriteString(n.v.typ.String())
		w.WriteByte(' ')
		w.WriteString(escName(n.name))
		for i, d := range n.v.dims {
			fmt.Fprintf(w, "[%s = %d]", escName(d.name), n.slab[i].count)
		}
		w.WriteString(";\n")
	case grid:
		w.WriteString(pre + "Grid {\n" + pre + "  ARRAY:\n")
		writeDecl(w, pre+indent, n.members[0])
		w.WriteString(pre + "  MAPS:\n")
		for _, m := range n.members[1:] {
			writeDecl(w, pre+indent, m)
		}
		w.WriteString(pre + "} " + escName(n.name) + ";\n")
	case structure:
		w.WriteString(pre + "Structure {\n")
		for _, m := range n.members {
			writeDecl(w, pre+indent, m)
		}
		w.WriteString(pre + "} " + escName(n.name) + ";\n")
	}
}

// writeDAS writes every variable's attributes, the global ones under
// NC_GLOBAL, and DODS_EXTRA naming the record dimension, from which
// libnetcdf makes it unlimited again.
func writeDAS(w *bufio.Writer, ds *dataset) {
	w.WriteString("Attributes {\n")
	for _, v := range ds.vars {
		w.WriteString(indent + escName(v.name) + " {\n")
		writeAttrs(w, indent+indent, v.attrs)
		if unsigned(v.nc) && !hasAttr(v.attrs, "_Unsigned") {
			// libnetcdf gives DAP2's unsigned types the signed netCDF type
			// of the same size, keeping the bits; this convention tells
			// its users (xarray, netCDF4-python, CDO) to read them unsigned.
			w.WriteString(indent + indent + "String _Unsigned \"true\";\n")
		}
		if v.typ == tString {
			// libnetcdf turns a String back into chars along a dimension of
			// this length and name rather than one of 64 it names itself.
			// It reads them only as attributes of the variable, not in the
			// nested DODS container other servers send, which it takes for
			// global attributes. A scalar char has no dimension to name:
			// it comes back as one of length 1.
			fmt.Fprintf(w, "%sInt32 DODS.strlen %d;\n", indent+indent, v.strLen())
			if v.strDim != nil {
				fmt.Fprintf(w, "%sString DODS.dimName %s;\n", indent+indent, quoteDAP(escName(v.strDim.name)))
			}
		}
		w.WriteString(indent + "}\n")
	}
	w.WriteString(indent + "NC_GLOBAL {\n")
	writeAttrs(w, indent+indent, ds.globals)
	w.WriteString(indent + "}\n")
	if ds.unlimited != "" {
		fmt.Fprintf(w, "%sDODS_EXTRA {\n%sString Unlimited_Dimension %s;\n%s}\n",
			indent, indent+indent, quoteDAP(escName(ds.unlimited)), indent)
	}
	w.WriteString("}\n")
}

func unsigned(t netcdf.Type) bool {
	return t == netcdf.UByte || t == netcdf.UShort || t == netcdf.UInt
}

func hasAttr(attrs []netcdf.Attr, name string) bool {
	for _, a := range attrs {
		if a.Name == name {
			return true
		}
	}
	return false
}

func writeAttrs(w *bufio.Writer, pre string, attrs []netcdf.Attr) {
	for _, a := range attrs {
		t, vals := attrValues(a)
		if len(vals) == 0 {
			// A DAS attribute has at least one value; an empty numeric
			// netCDF attribute has nothing to say.
			continue
		}
		w.WriteString(pre + t.String() + " " + escName(a.Name) + " " + strings.Join(vals, ", ") + ";\n")
	}
}

// attrValues returns the DAP2 type of an attribute, mapped as variables are
// (so a _FillValue keeps its variable's type), and its values as DAS text.
func attrValues(a netcdf.Attr) (dapType, []string) {
	switch v := a.Value.(type) {
	case string:
		return tString, []string{quoteDAP(v)}
	case []string:
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = quoteDAP(s)
		}
		return tString, out
	case []int8:
		return tInt16, formatInts(v)
	case []uint8:
		return tByte, formatInts(v)
	case []int16:
		return tInt16, formatInts(v)
	case []uint16:
		return tUInt16, formatInts(v)
	case []int32:
		return tInt32, formatInts(v)
	case []uint32:
		return tUInt32, formatInts(v)
	case []int64:
		return tFloat64, formatFloats(v, 64)
	case []uint64:
		return tFloat64, formatFloats(v, 64)
	case []float32:
		return tFloat32, formatFloats(v, 32)
	case []float64:
		return tFloat64, formatFloats(v, 64)
	}
	return tString, nil
}

type integer interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32
}

func formatInts[T integer](s []T) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.FormatInt(int64(v), 10)
	}
	return out
}

func formatFloats[T integer | ~int64 | ~uint64 | ~float32 | ~float64](s []T, bits int) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = formatFloat(float64(v), bits)
	}
	return out
}

// formatFloat writes the shortest text that reads back as the same value of
// the given size.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}
