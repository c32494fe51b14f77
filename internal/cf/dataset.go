// Package cf is the part of the CF conventions ComputeWPS needs: datasets,
// coordinate variables and their axes, bounds, missing values, and time in
// every CF calendar.
package cf

import (
	"fmt"
	"math"
	"sort"
	"strings"

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
	Bounds      []float64 // two per value (lower, upper), nil when there are none
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
// is added to each value and its bounds (longitudes moved by 360°).
func (c *Coord) Take(idx []int, shift []float64) *Coord {
	out := *c
	out.Values = make([]float64, len(idx))
	if c.Bounds != nil {
		out.Bounds = make([]float64, 2*len(idx))
	}
	for k, i := range idx {
		s := 0.0
		if shift != nil {
			s = shift[k]
		}
		out.Values[k] = c.Values[i] + s
		if c.Bounds != nil {
			out.Bounds[2*k] = c.Bounds[2*i] + s
			out.Bounds[2*k+1] = c.Bounds[2*i+1] + s
		}
	}
	return &out
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
		c.Bounds = make([]float64, 2*dim.Len)
		if dim.Len > 0 {
			if err := d.file.Read(v.ID, []int{0, 0}, []int{dim.Len, 2}, nil, c.Bounds); err != nil {
				return err
			}
		}
		c.BoundsName = v.Name
		c.BoundsAttrs = v.Attrs
		return nil
	}
	return nil
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
