package dap

import (
	"fmt"

	"github.com/computewps/computewps/internal/netcdf"
)

// dapType is a DAP2 base type.
type dapType uint8

const (
	tByte dapType = iota + 1
	tInt16
	tUInt16
	tInt32
	tUInt32
	tFloat32
	tFloat64
	tString
)

var dapTypeNames = [...]string{
	tByte: "Byte", tInt16: "Int16", tUInt16: "UInt16", tInt32: "Int32",
	tUInt32: "UInt32", tFloat32: "Float32", tFloat64: "Float64", tString: "String",
}

func (t dapType) String() string { return dapTypeNames[t] }

// arraySize is the XDR size of one element of an array: Bytes are packed,
// 16-bit integers take a full XDR unit. It is 0 for String (variable).
func (t dapType) arraySize() int64 {
	switch t {
	case tByte:
		return 1
	case tInt16, tUInt16, tInt32, tUInt32, tFloat32:
		return 4
	case tFloat64:
		return 8
	}
	return 0
}

// dapTypeOf maps a netCDF type to the DAP2 type it is served as.
//
// DAP2 has no signed byte (its Byte is unsigned), so NC_BYTE becomes Int16,
// as Hyrax and THREDDS do, which keeps negative values. DAP2 has no 64-bit
// integers either, so NC_INT64 and NC_UINT64 become Float64: exact up to
// 2^53, rounded beyond. NC_CHAR variables become Strings (see variable).
// NC_STRING and user-defined types are not served: the netcdf package cannot
// read them.
func dapTypeOf(t netcdf.Type) (dapType, bool) {
	switch t {
	case netcdf.Byte, netcdf.Short:
		return tInt16, true
	case netcdf.UByte:
		return tByte, true
	case netcdf.UShort:
		return tUInt16, true
	case netcdf.Int:
		return tInt32, true
	case netcdf.UInt:
		return tUInt32, true
	case netcdf.Float:
		return tFloat32, true
	case netcdf.Double, netcdf.Int64, netcdf.UInt64:
		return tFloat64, true
	case netcdf.Char:
		return tString, true
	}
	return 0, false
}

// dim is a DAP dimension: a name and a length.
type dim struct {
	name string
	len  int
}

// variable is a netCDF variable as DAP2 sees it.
type variable struct {
	name string
	id   int
	nc   netcdf.Type
	typ  dapType
	// dims are the DAP dimensions. For a char variable the last netCDF
	// dimension is not one of them: it is the length of each String.
	dims []dim
	// strDim is that last dimension of a char variable; nil for a scalar
	// char, which holds a single character.
	strDim *dim
	attrs  []netcdf.Attr
	// maps are the coordinate variables of dims when the variable is served
	// as a Grid; nil otherwise.
	maps []*variable
}

// rank is the number of DAP dimensions; 0 for a scalar.
func (v *variable) rank() int { return len(v.dims) }

func (v *variable) isGrid() bool { return v.maps != nil }

// dataset is the DAP2 view of one NetCDF file.
type dataset struct {
	name      string // the last element of the dataset path
	vars      []*variable
	byName    map[string]*variable
	globals   []netcdf.Attr
	unlimited string // the record dimension, if any
	skipped   []string
}

// newDataset builds the DAP2 view of a file from its variables, dimensions
// and global attributes.
func newDataset(name string, vars []netcdf.Var, dims []netcdf.Dim, globals []netcdf.Attr) *dataset {
	ds := &dataset{name: name, byName: make(map[string]*variable, len(vars)), globals: globals}
	for _, d := range dims {
		if d.Unlimited && ds.unlimited == "" {
			ds.unlimited = d.Name
		}
	}
	for _, nv := range vars {
		t, ok := dapTypeOf(nv.Type)
		if !ok {
			ds.skipped = append(ds.skipped, fmt.Sprintf("%s (%s)", nv.Name, nv.Type))
			continue
		}
		v := &variable{name: nv.Name, id: nv.ID, nc: nv.Type, typ: t, attrs: nv.Attrs}
		nd := nv.Dims
		if t == tString && len(nd) > 0 {
			last := nd[len(nd)-1]
			v.strDim = &dim{last.Name, last.Len}
			nd = nd[:len(nd)-1]
		}
		v.dims = make([]dim, len(nd))
		for i, d := range nd {
			v.dims[i] = dim{d.Name, d.Len}
		}
		ds.vars = append(ds.vars, v)
		ds.byName[v.name] = v
	}
	for _, v := range ds.vars {
		v.maps = ds.gridMaps(v)
	}
	return ds
}

// coordinate returns the coordinate variable of dimension d: a numeric
// variable named d with d as its only dimension.
func (ds *dataset) coordinate(d dim) *variable {
	c := ds.byName[d.name]
	if c == nil || c.typ == tString || len(c.dims) != 1 || c.dims[0] != d {
		return nil
	}
	return c
}

// gridMaps returns the maps of v if v is a Grid: a numeric variable, not
// itself a coordinate variable, whose dimensions are distinct and all have
// coordinate variables. A repeated dimension would give a Grid two maps of
// the same name, which DAP2 cannot express.
func (ds *dataset) gridMaps(v *variable) []*variable {
	if v.typ == tString || len(v.dims) == 0 || (len(v.dims) == 1 && v.dims[0].name == v.name) {
		return nil
	}
	maps := make([]*variable, len(v.dims))
	seen := make(map[string]bool, len(v.dims))
	for i, d := range v.dims {
		c := ds.coordinate(d)
		if c == nil || seen[d.name] {
			return nil
		}
		seen[d.name] = true
		maps[i] = c
	}
	return maps
}
