// Package cf is the part of the CF conventions ComputeWPS needs: datasets,
// coordinate variables and their axes, bounds, missing values, and time in
// every CF calendar.
package cf

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/computewps/computewps/internal/netcdf"
)

// Dataset is an open NetCDF file or OPeNDAP dataset.
type Dataset struct {
	URI   string
	file  *netcdf.File
	dims  []netcdf.Dim
	vars  []netcdf.Var
	attrs []netcdf.Attr
}

// Open opens uri (a local path, an OPeNDAP URL or an HTTP URL with
// #mode=bytes) and reads its metadata.
func Open(uri string) (*Dataset, error) {
	f, err := netcdf.Open(uri)
	if err != nil {
		return nil, err
	}
	d := &Dataset{URI: uri, file: f}
	if d.dims, err = f.Dims(); err == nil {
		if d.vars, err = f.Vars(); err == nil {
			d.attrs, err = f.Attrs()
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the underlying file.
func (d *Dataset) Close() error { return d.file.Close() }

// File gives access to the underlying file for reading data.
func (d *Dataset) File() *netcdf.File { return d.file }

// Attrs returns the global attributes.
func (d *Dataset) Attrs() []netcdf.Attr { return d.attrs }

// Var returns a variable by name; the error lists the data variables.
func (d *Dataset) Var(name string) (netcdf.Var, error) {
	for _, v := range d.vars {
		if v.Name == name {
			return v, nil
		}
	}
	return netcdf.Var{}, fmt.Errorf("variable %q is not in %s; it holds %s", name, d.URI, strings.Join(d.DataVars(), ", "))
}

// DataVars lists the variables that are neither coordinates nor bounds.
func (d *Dataset) DataVars() []string {
	skip := map[string]bool{}
	for _, dim := range d.dims {
		skip[dim.Name] = true
	}
	for _, v := range d.vars {
		if b, ok := textAttr(v, "bounds"); ok {
			skip[b] = true
		}
		if b, ok := textAttr(v, "climatology"); ok {
			skip[b] = true
		}
	}
	var names []string
	for _, v := range d.vars {
		if !skip[v.Name] {
			names = append(names, v.Name)
		}
	}
	sort.Strings(names)
	return names
}

// Coord is a coordinate of one dimension: its values, bounds and metadata.
type Coord struct {
	Name        string
	Axis        Axis
	Type        netcdf.Type
	Values      []float64
	Attrs       []netcdf.Attr
	bounds      *bounds // two per value (lower, upper); nil when there are none
	BoundsName  string
	BoundsAttrs []netcdf.Attr
	Time        *TimeUnits // set for a time axis whose units parse
	Synthetic   bool       // the file has no coordinate variable: Values are indices
}

// Len is the number of points.
func (c *Coord) Len() int { return len(c.Values) }

// Attr returns an attribute of the coordinate variable.
func (c *Coord) Attr(name string) (netcdf.Attr, bool) {
	for _, a := range c.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return netcdf.Attr{}, false
}

// Units returns the units attribute, or "".
func (c *Coord) Units() string {
	if a, ok := c.Attr("units"); ok {
		s, _ := a.Text()
		return strings.TrimSpace(s)
	}
	return ""
}

// Take returns the coordinate at the given indices; shift, when not nil,
// is added to each value and its bounds (longitudes moved by 360°). Bounds
// not read yet are read later, and then only at those indices.
func (c *Coord) Take(idx []int, shift []float64) *Coord {
	out := *c
	out.Values = make([]float64, len(idx))
	for k, i := range idx {
		s := 0.0
		if shift != nil {
			s = shift[k]
		}
		out.Values[k] = c.Values[i] + s
	}
	if c.bounds != nil {
		out.bounds = c.bounds.take(idx, shift)
	}
	return &out
}

// Bounds returns the cell bounds, two per point (lower, upper), or nil
// when the coordinate has none (or they could not be read).
func (c *Coord) Bounds() []float64 {
	if c.bounds == nil {
		return nil
	}
	return c.bounds.get()
}

// SetBounds gives the coordinate bounds, two per point, or none with nil.
func (c *Coord) SetBounds(b []float64) {
	c.bounds = nil
	if b != nil {
		c.bounds = &bounds{values: b, loaded: true}
	}
}

// bounds are read from the file on first use, and only the rows needed: a
// long time axis keeps its bounds in thousands of tiny chunks, and a
// subset needs a few of them.
type bounds struct {
	once   sync.Once
	loaded bool // values are set (no reading)
	values []float64
	// Not loaded: rows idx of the bounds variable, moved by shift, read
	// with read (rows [start, start+count) into dst), or picked from from.
	read  func(start, count int, dst []float64) error
	from  *bounds
	idx   []int
	shift []float64 // nil: none
}

func (b *bounds) get() []float64 {
	if b.loaded {
		return b.values
	}
	b.once.Do(func() { b.values = b.load() })
	return b.values
}

// take makes the bounds of rows idx (and shift) without reading anything.
func (b *bounds) take(idx []int, shift []float64) *bounds {
	if b.loaded || b.read == nil {
		return &bounds{from: b, idx: idx, shift: shift}
	}
	// Compose with our own selection, so the file is read once, at the end.
	t := &bounds{read: b.read, idx: make([]int, len(idx))}
	if b.shift != nil || shift != nil {
		t.shift = make([]float64, len(idx))
	}
	for k, i := range idx {
		t.idx[k] = b.idx[i]
		if b.shift != nil {
			t.shift[k] += b.shift[i]
		}
		if shift != nil {
			t.shift[k] += shift[k]
		}
	}
	return t
}

func (b *bounds) load() []float64 {
	out := make([]float64, 2*len(b.idx))
	if b.read != nil {
		// A run of consecutive rows at a time.
		for k := 0; k < len(b.idx); {
			n := 1
			for k+n < len(b.idx) && b.idx[k+n] == b.idx[k]+n {
				n++
			}
			if err := b.read(b.idx[k], n, out[2*k:2*(k+n)]); err != nil {
				return nil
			}
			k += n
		}
	} else {
		src := b.from.get()
		if src == nil {
			return nil
		}
		for k, i := range b.idx {
			out[2*k], out[2*k+1] = src[2*i], src[2*i+1]
		}
	}
	for k := range b.shift {
		out[2*k] += b.shift[k]
		out[2*k+1] += b.shift[k]
	}
	return out
}

// Coord reads the coordinate of a dimension. A dimension without a
// coordinate variable gets index values.
func (d *Dataset) Coord(dim netcdf.Dim) (*Coord, error) {
	var cv *netcdf.Var
	for i := range d.vars {
		v := &d.vars[i]
		if v.Name == dim.Name && len(v.Dims) == 1 && v.Dims[0].Name == dim.Name {
			cv = v
			break
		}
	}
	if cv == nil {
		c := &Coord{Name: dim.Name, Axis: AxisByName(dim.Name), Type: netcdf.Int, Values: make([]float64, dim.Len), Synthetic: true}
		for i := range c.Values {
			c.Values[i] = float64(i)
		}
		if c.Axis == AxisT {
			c.Axis = AxisNone // an index is not a time
		}
		return c, nil
	}
	c := &Coord{Name: cv.Name, Axis: DetectAxis(*cv), Type: cv.Type, Attrs: cv.Attrs, Values: make([]float64, dim.Len)}
	if cv.Type == netcdf.Char || cv.Type == netcdf.String {
		return nil, fmt.Errorf("coordinate %q in %s holds text, which is not supported", cv.Name, d.URI)
	}
	if dim.Len > 0 {
		if err := d.file.Read(cv.ID, []int{0}, []int{dim.Len}, nil, c.Values); err != nil {
			return nil, err
		}
	}
	if c.Axis == AxisT {
		cal := ""
		if a, ok := cv.Attr("calendar"); ok {
			cal, _ = a.Text()
		}
		tu, err := ParseTimeUnits(c.Units(), cal)
		if err != nil {
			return nil, fmt.Errorf("time coordinate %q in %s: %v", cv.Name, d.URI, err)
		}
		c.Time = &tu
	}
	if b, ok := textAttr(*cv, "bounds"); ok {
		if err := d.readBounds(c, b, dim); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (d *Dataset) readBounds(c *Coord, name string, dim netcdf.Dim) error {
	for _, v := range d.vars {
		if v.Name != name {
			continue
		}
		// Only the usual [n][2] layout; anything else is ignored rather than misread.
		if len(v.Dims) != 2 || v.Dims[0].Name != dim.Name || v.Dims[1].Len != 2 {
			return nil
		}
		f, id := d.file, v.ID
		c.bounds = &bounds{idx: identity(dim.Len), read: func(start, count int, dst []float64) error {
			return f.Read(id, []int{start, 0}, []int{count, 2}, nil, dst)
		}}
		c.BoundsName = v.Name
		c.BoundsAttrs = v.Attrs
		return nil
	}
	return nil
}

func identity(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// MissingValues returns the values of a variable that mean "no data":
// its _FillValue and missing_value attributes.
func MissingValues(v netcdf.Var) []float64 {
	var out []float64
	for _, name := range []string{"_FillValue", "missing_value"} {
		if a, ok := v.Attr(name); ok {
			if f, ok := a.Float64s(); ok {
				for _, x := range f {
					if !math.IsNaN(x) {
						out = append(out, x)
					}
				}
			}
		}
	}
	return out
}
