package ops

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/netcdf"
)

// Grouped is data whose points are grouped by the bin their Key value
// falls in. It reads as the data itself; a reduction of it (Reduce) gives
// one value per bin along a new dimension, like xarray's groupby_bins.
type Grouped struct {
	Array           // the data
	Key   Array     // same dimensions as the data
	Edges []float64 // ascending; bin i holds Edges[i] < key <= Edges[i+1]
}

// GroupByBins groups the points of data by the bin of key they fall in.
// Bins are closed on the right, as in xarray and pandas: a value equal to
// the first edge is in no bin.
func GroupByBins(data, key Array, edges []float64) (*Grouped, error) {
	if len(edges) < 2 {
		return nil, fmt.Errorf("bins need at least two edges (n+1 edges make n bins), got %d", len(edges))
	}
	for i, e := range edges {
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return nil, fmt.Errorf("invalid bin value %v", e)
		}
		if i > 0 && e <= edges[i-1] {
			return nil, fmt.Errorf("bins must be in ascending order, but %v follows %v", e, edges[i-1])
		}
	}
	if err := sameDims(data.Meta(), key.Meta()); err != nil {
		return nil, err
	}
	return &Grouped{Array: data, Key: key, Edges: append([]float64(nil), edges...)}, nil
}

func sameDims(a, b *Meta) error {
	ok := len(a.Dims) == len(b.Dims)
	for i := 0; ok && i < len(a.Dims); i++ {
		ok = a.Dims[i].Name == b.Dims[i].Name && a.Dims[i].Len == b.Dims[i].Len
	}
	if !ok {
		return fmt.Errorf("%s (%s) cannot be grouped by %s (%s): their dimensions differ", a.Name, listDims(a), b.Name, listDims(b))
	}
	return nil
}

// Regroup returns other data grouped like g, for example g's data with a
// condition applied.
func (g *Grouped) Regroup(data Array) (*Grouped, error) {
	return GroupByBins(data, g.Key, g.Edges)
}

// Ungroup finds the grouping of a, seeing through a rename or fillna
// applied to a grouped result, and returns it with the data to reduce
// (renamed or filled the same way).
func Ungroup(a Array) (*Grouped, Array, bool) {
	switch t := a.(type) {
	case *Grouped:
		return t, t.Array, true
	case *renamed:
		if g, data, ok := Ungroup(t.Array); ok {
			return g, Rename(data, t.meta.Name), true
		}
	case *filled:
		if g, data, ok := Ungroup(t.Array); ok {
			return g, FillNA(data, t.value), true
		}
	}
	return nil, nil, false
}

// reduceGroups sets up stat of data over every point in each bin of g.
// The result has one dimension, <key>_bins, whose coordinate is the middle
// of each bin with the edges as bounds.
func reduceGroups(g *Grouped, data Array, stat Statistic, opt ReduceOptions) *reduction {
	m, km := data.Meta(), g.Key.Meta()
	n := len(g.Edges) - 1
	name := km.Name + "_bins"
	c := &cf.Coord{Name: name, Type: netcdf.Double, Values: make([]float64, n)}
	bnds := make([]float64, 2*n)
	for i := range n {
		c.Values[i] = (g.Edges[i] + g.Edges[i+1]) / 2
		bnds[2*i], bnds[2*i+1] = g.Edges[i], g.Edges[i+1]
	}
	c.SetBounds(bnds)
	c.Attrs = []netcdf.Attr{{Name: "long_name", Value: km.Name + " bins"}}
	if u := textOf(km.Attrs, "units"); u != "" {
		c.Attrs = append(c.Attrs, netcdf.Attr{Name: "units", Value: u})
	}
	all := make([]int, len(m.Dims))
	for i := range all {
		all[i] = i
	}
	out := *m
	out.Dims = []Dim{{Name: name, Len: n, Coord: c}}
	out.Type = reducedType(m.Type, stat)
	method := cellMethod(m, all, stat, false)
	if method != "" {
		method += " (comment: over each bin of " + km.Name + ")"
	}
	out.Attrs = reducedAttrs(m, stat, out.Type, method)
	return &reduction{src: data, meta: &out, stat: stat, groups: g, slabBytes: opt.slabBytes()}
}

// streamGroups reads the data and the key together and sends each value
// to the bin of its key.
func (r *reduction) streamGroups(ctx context.Context, acc accumulator) error {
	key := r.groups.Key
	if key == r.src {
		key = nil // grouping a variable by its own values: read it once
	}
	edges := r.groups.Edges
	cells := make([]int32, 4096)
	return streamSlabs(ctx, r.src, key, r.slabBytes, func(s *inputSlab) error {
		k := s.key
		if k == nil {
			k = s.data
		}
		for off := 0; off < len(s.data); off += len(cells) {
			n := min(len(cells), len(s.data)-off)
			binOf(cells[:n], k[off:off+n], edges)
			acc.scatter(cells[:n], s.data[off:off+n])
		}
		return ctx.Err()
	})
}

// binOf finds the bin of each key value: i when edges[i] < v <= edges[i+1],
// -1 when v is in none or missing.
func binOf(cells []int32, keys, edges []float64) {
	last := len(edges) - 1
	for i, v := range keys[:len(cells)] {
		if !(v > edges[0] && v <= edges[last]) { // NaN too
			cells[i] = -1
			continue
		}
		cells[i] = int32(sort.SearchFloat64s(edges, v) - 1)
	}
}
