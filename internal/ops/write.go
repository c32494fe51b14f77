package ops

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/netcdf"
)

// WriteOptions controls how a result is written.
type WriteOptions struct {
	SlabBytes int64                   // memory for one slab; default 32 MiB
	Global    []netcdf.Attr           // global attributes set on top of the source's
	History   string                  // a line prepended to the history attribute
	Progress  func(done, total int64) // called after each slab with elements written
	Deflate   int                     // deflate level, 0 for none
}

// Dataset is the result of an operation: one or more variables whose
// dimensions of the same name agree.
type Dataset []Array

// Write streams the variables of ds to a new NetCDF-4 file at path, a slab
// at a time. The file appears at path only when it is complete; on error
// nothing is left. It returns the size of the file in bytes.
func Write(ctx context.Context, path string, ds Dataset, opt WriteOptions) (size int64, err error) {
	defer func() { err = hideOutputPath(err, path) }()
	if opt.SlabBytes <= 0 {
		opt.SlabBytes = 32 << 20
	}
	tmp := path + ".part"
	f, err := netcdf.Create(tmp)
	if err != nil {
		return 0, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if len(ds) == 0 {
		return 0, fmt.Errorf("ops: nothing to write")
	}
	w := &writer{f: f, ds: ds, opt: opt}
	if err := w.define(); err != nil {
		return 0, err
	}
	if err := w.writeCoords(); err != nil {
		return 0, err
	}
	for _, v := range w.vars {
		if err := w.writeData(ctx, v); err != nil {
			return 0, err
		}
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, err
	}
	ok = true
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// hideOutputPath rewrites libnetcdf errors about the output file so that
// they name the file but not the server's directory layout.
func hideOutputPath(err error, path string) error {
	var ne *netcdf.Error
	if errors.As(err, &ne) && (ne.URI == path || ne.URI == path+".part") {
		return fmt.Errorf("writing %s: %s", filepath.Base(path), ne.Msg)
	}
	return err
}

type writer struct {
	f      *netcdf.File
	ds     Dataset
	opt    WriteOptions
	dims   []Dim          // every dimension, in order of first use
	dimIDs map[string]int // netCDF ids by name
	coords []coordVar
	vars   []dataVar
	total  int64 // elements of all variables, for progress
	done   int64
}

type dataVar struct {
	a    Array
	id   int
	fill float64
}

type coordVar struct {
	c      *cf.Coord
	id     int
	bndsID int // -1 when there are no bounds
}

func (w *writer) define() error {
	w.dimIDs = map[string]int{}
	for _, a := range w.ds {
		m := a.Meta()
		for _, d := range m.Dims {
			if i := indexOfDim(w.dims, d.Name); i >= 0 {
				if w.dims[i].Len != d.Len {
					return fmt.Errorf("variables disagree on dimension %q: %d points against %d", d.Name, w.dims[i].Len, d.Len)
				}
				continue
			}
			w.dims = append(w.dims, d)
		}
		w.total += m.Size()
	}
	bndsDim := -1
	for _, d := range w.dims {
		length := d.Len
		if d.Coord != nil && d.Coord.Axis == cf.AxisT {
			length = 0 // unlimited, like CDO, so files can be appended to
		}
		id, err := w.f.DefDim(d.Name, length)
		if err != nil {
			return err
		}
		w.dimIDs[d.Name] = id
	}
	for _, d := range w.dims {
		c := d.Coord
		if c == nil || c.Synthetic {
			continue
		}
		cv := coordVar{c: c, bndsID: -1}
		t := c.Type
		if isIntType(t) && !integral(c.Values) {
			t = netcdf.Double
		}
		id, err := w.f.DefVar(c.Name, t, []int{w.dimIDs[d.Name]})
		if err != nil {
			return err
		}
		cv.id = id
		bname := c.BoundsName
		if bname == "" {
			bname = c.Name + "_bnds"
		}
		for _, at := range c.Attrs {
			if at.Name == "_FillValue" || at.Name == "bounds" {
				continue
			}
			if err := w.f.PutAttr(id, at); err != nil {
				return err
			}
		}
		if c.Bounds() != nil {
			if bndsDim < 0 {
				name := "bnds"
				if indexOfDim(w.dims, name) >= 0 {
					name = "nv2"
				}
				if bndsDim, err = w.f.DefDim(name, 2); err != nil {
					return err
				}
			}
			if err := w.f.PutAttr(id, netcdf.Attr{Name: "bounds", Value: bname}); err != nil {
				return err
			}
			if cv.bndsID, err = w.f.DefVar(bname, t, []int{w.dimIDs[d.Name], bndsDim}); err != nil {
				return err
			}
			for _, at := range c.BoundsAttrs {
				if at.Name != "_FillValue" {
					if err := w.f.PutAttr(cv.bndsID, at); err != nil {
						return err
					}
				}
			}
		}
		w.coords = append(w.coords, cv)
	}
	for _, a := range w.ds {
		v, err := w.defineVar(a.Meta())
		if err != nil {
			return err
		}
		v.a = a
		w.vars = append(w.vars, v)
	}
	for _, at := range globalAttrs(w.ds[0].Meta().Global, w.opt) {
		if err := w.f.PutAttr(netcdf.Global, at); err != nil {
			return err
		}
	}
	return w.f.EndDef()
}

func indexOfDim(dims []Dim, name string) int {
	for i, d := range dims {
		if d.Name == name {
			return i
		}
	}
	return -1
}

func (w *writer) defineVar(m *Meta) (dataVar, error) {
	ids := make([]int, len(m.Dims))
	for i, d := range m.Dims {
		ids[i] = w.dimIDs[d.Name]
	}
	id, err := w.f.DefVar(m.Name, m.Type, ids)
	if err != nil {
		return dataVar{}, err
	}
	v := dataVar{id: id}
	fill, hasFill := fillOf(m)
	v.fill = fill
	for _, at := range m.Attrs {
		switch at.Name {
		case "_FillValue", "missing_value", "coordinates", "cell_measures":
			// Fill is rewritten below in the variable's type; the others
			// name variables this file does not carry.
			continue
		}
		if err := w.f.PutAttr(id, at); err != nil {
			return v, err
		}
	}
	if hasFill {
		if err := w.f.PutAttr(id, typedAttr("_FillValue", m.Type, fill)); err != nil {
			return v, err
		}
	}
	if len(m.Dims) > 0 {
		if w.opt.Deflate > 0 {
			if err := w.f.SetDeflate(id, true, w.opt.Deflate); err != nil {
				return v, err
			}
		}
		if chunks := chunkShape(m); chunks != nil {
			if err := w.f.SetChunking(id, chunks); err != nil {
				return v, err
			}
		}
	}
	return v, nil
}

// fillOf returns the fill value to write: the source's _FillValue or
// missing_value, else 1e20 for floating-point data (CMIP's convention).
func fillOf(m *Meta) (float64, bool) {
	for _, name := range []string{"_FillValue", "missing_value"} {
		for _, a := range m.Attrs {
			if a.Name == name {
				if f, ok := a.Float64s(); ok && len(f) > 0 {
					return f[0], true
				}
			}
		}
	}
	if m.Type == netcdf.Float || m.Type == netcdf.Double {
		return 1e20, true
	}
	return 0, false
}

func typedAttr(name string, t netcdf.Type, v float64) netcdf.Attr {
	var val any
	switch t {
	case netcdf.Byte:
		val = []int8{int8(v)}
	case netcdf.UByte:
		val = []uint8{uint8(v)}
	case netcdf.Short:
		val = []int16{int16(v)}
	case netcdf.UShort:
		val = []uint16{uint16(v)}
	case netcdf.Int:
		val = []int32{int32(v)}
	case netcdf.UInt:
		val = []uint32{uint32(v)}
	case netcdf.Int64:
		val = []int64{int64(v)}
	case netcdf.UInt64:
		val = []uint64{uint64(v)}
	case netcdf.Float:
		val = []float32{float32(v)}
	default:
		val = []float64{v}
	}
	return netcdf.Attr{Name: name, Value: val}
}

func globalAttrs(src []netcdf.Attr, opt WriteOptions) []netcdf.Attr {
	set := map[string]bool{}
	for _, a := range opt.Global {
		set[a.Name] = true
	}
	var out []netcdf.Attr
	history := opt.History
	for _, a := range src {
		if set[a.Name] {
			continue
		}
		if a.Name == "history" && history != "" {
			if old, ok := a.Text(); ok && strings.TrimSpace(old) != "" {
				history += "\n" + old
			}
			continue
		}
		out = append(out, a)
	}
	if history != "" {
		out = append(out, netcdf.Attr{Name: "history", Value: history})
	}
	return append(out, opt.Global...)
}

// chunkShape makes chunks of one step of the first dimension when the
// variable has more than one dimension, so a time step is one chunk.
func chunkShape(m *Meta) []int {
	if len(m.Dims) < 2 {
		return nil
	}
	c := m.Shape()
	c[0] = 1
	if product(c) > 4<<20 { // too large for one chunk: let the library decide
		return nil
	}
	return c
}

func isIntType(t netcdf.Type) bool {
	switch t {
	case netcdf.Float, netcdf.Double:
		return false
	}
	return true
}

func integral(v []float64) bool {
	for _, x := range v {
		if x != math.Trunc(x) {
			return false
		}
	}
	return true
}

func (w *writer) writeCoords() error {
	for _, cv := range w.coords {
		n := cv.c.Len()
		if err := w.f.Write(cv.id, []int{0}, []int{n}, cv.c.Values); err != nil {
			return err
		}
		if cv.bndsID >= 0 {
			if err := w.f.Write(cv.bndsID, []int{0, 0}, []int{n, 2}, cv.c.Bounds()); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeData copies one variable slab by slab: whole rows of the first
// dimension whose remaining dimensions fit in SlabBytes, else rows of the
// next dimension down.
func (w *writer) writeData(ctx context.Context, v dataVar) error {
	m := v.a.Meta()
	shape := m.Shape()
	nd := len(shape)
	if nd == 0 {
		buf := make([]float64, 1)
		if err := v.a.Read(ctx, nil, nil, nil, buf); err != nil {
			return err
		}
		return w.put(v, nil, nil, buf)
	}
	k := 0
	for ; k < nd-1; k++ {
		if int64(8*product(shape[k+1:])) <= w.opt.SlabBytes {
			break
		}
	}
	rowElems := product(shape[k+1:])
	rows := max(1, int(w.opt.SlabBytes/int64(8*rowElems)))
	rows = min(rows, shape[k])
	buf := make([]float64, rows*rowElems)
	outer := make([]int, k) // index over dims before k
	for {
		for r := 0; r < shape[k]; r += rows {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(rows, shape[k]-r)
			start := make([]int, nd)
			count := make([]int, nd)
			for i := 0; i < k; i++ {
				start[i], count[i] = outer[i], 1
			}
			start[k], count[k] = r, n
			for i := k + 1; i < nd; i++ {
				start[i], count[i] = 0, shape[i]
			}
			slab := buf[:n*rowElems]
			if err := v.a.Read(ctx, start, count, nil, slab); err != nil {
				return err
			}
			if err := w.put(v, start, count, slab); err != nil {
				return err
			}
			w.done += int64(len(slab))
			if w.opt.Progress != nil {
				w.opt.Progress(w.done, w.total)
			}
		}
		i := k - 1
		for ; i >= 0; i-- {
			outer[i]++
			if outer[i] < shape[i] {
				break
			}
			outer[i] = 0
		}
		if i < 0 {
			return nil
		}
	}
}

func (w *writer) put(v dataVar, start, count []int, data []float64) error {
	if v.a.Meta().Type == netcdf.Float && len(data) > 0 {
		return w.putFloat32(v, start, count, data)
	}
	for i, x := range data {
		if math.IsNaN(x) {
			data[i] = v.fill
		}
	}
	if err := w.f.Write(v.id, start, count, data); err != nil {
		return fmt.Errorf("writing %s: %w", v.a.Meta().Name, err)
	}
	return nil
}

// putFloat32 narrows a slab to float32 in place (the i-th float32 lands
// in bytes the loop has already read) and writes it without libnetcdf's
// conversion, which measured as costly as the write itself.
func (w *writer) putFloat32(v dataVar, start, count []int, data []float64) error {
	f32 := unsafe.Slice((*float32)(unsafe.Pointer(&data[0])), len(data))
	fill := float32(v.fill)
	for i, x := range data {
		switch {
		case math.IsNaN(x):
			f32[i] = fill
		case math.Abs(x) > math.MaxFloat32 && !math.IsInf(x, 0):
			return fmt.Errorf("writing %s: the value %g is outside the range of float", v.a.Meta().Name, x)
		default:
			f32[i] = float32(x)
		}
	}
	if err := w.f.WriteFloat32(v.id, start, count, f32); err != nil {
		return fmt.Errorf("writing %s: %w", v.a.Meta().Name, err)
	}
	return nil
}
