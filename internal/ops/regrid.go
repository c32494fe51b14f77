package ops

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/regrid"
)

// ErrNoGrid is returned by GridOf for a variable without latitude and
// longitude dimensions.
var ErrNoGrid = errors.New("no latitude and longitude dimensions")

// GridOf finds the latitude and longitude dimensions of a variable (by
// their CF axis, in degrees) and returns their grid and positions.
func GridOf(m *Meta) (g *regrid.Grid, lat, lon int, err error) {
	lat, lon = -1, -1
	for i, d := range m.Dims {
		c := d.Coord
		if c == nil || c.Synthetic || !isDegrees(c) {
			continue
		}
		switch c.Axis {
		case cf.AxisY:
			lat = i
		case cf.AxisX:
			lon = i
		}
	}
	if lat < 0 || lon < 0 {
		return nil, -1, -1, fmt.Errorf("variable %q has %w", m.Name, ErrNoGrid)
	}
	y, x := m.Dims[lat].Coord, m.Dims[lon].Coord
	g, err = regrid.NewGrid(y.Values, x.Values, y.Bounds(), x.Bounds())
	if err != nil {
		return nil, -1, -1, fmt.Errorf("variable %q: the grid of %s and %s is not usable: %v", m.Name, y.Name, x.Name, err)
	}
	return g, lat, lon, nil
}

// regridArray is its source remapped to another grid, field by field.
type regridArray struct {
	src      Array
	meta     *Meta
	plan     *regrid.Plan
	lat, lon int // positions of the grid's dimensions, the same in source and result
}

// Regrid returns a on plan's target grid. The plan must have been made
// from a's grid (GridOf); the other dimensions are kept.
func Regrid(a Array, plan *regrid.Plan) (Array, error) {
	sm := a.Meta()
	_, lat, lon, err := GridOf(sm)
	if err != nil {
		return nil, err
	}
	if sm.Dims[lat].Len != len(plan.Src.Lat) || sm.Dims[lon].Len != len(plan.Src.Lon) {
		return nil, fmt.Errorf("ops: regrid plan made for a %d×%d grid, %s is %d×%d",
			len(plan.Src.Lat), len(plan.Src.Lon), sm.Name, sm.Dims[lat].Len, sm.Dims[lon].Len)
	}
	m := *sm
	m.Dims = append([]Dim(nil), sm.Dims...)
	m.Dims[lat] = Dim{Name: sm.Dims[lat].Name, Len: len(plan.Dst.Lat), Coord: regridCoord(sm.Dims[lat].Coord.Name, plan.Dst.Lat, plan.Dst.LatBounds, cf.AxisY)}
	m.Dims[lon] = Dim{Name: sm.Dims[lon].Name, Len: len(plan.Dst.Lon), Coord: regridCoord(sm.Dims[lon].Coord.Name, plan.Dst.Lon, plan.Dst.LonBounds, cf.AxisX)}
	if isIntType(m.Type) {
		// Interpolated values are fractional. Packing attributes stay: the
		// values are still in the packed units, and so is the fill value.
		m.Type = netcdf.Float
	}
	m.Attrs = nil
	for _, at := range sm.Attrs {
		switch at.Name {
		case "actual_range", "cell_measures", "coordinates":
			continue // they describe the source grid
		}
		m.Attrs = append(m.Attrs, at)
	}
	return &regridArray{src: a, meta: &m, plan: plan, lat: lat, lon: lon}, nil
}

// regridCoord is a latitude or longitude coordinate with its CF attributes.
func regridCoord(name string, values, bounds []float64, axis cf.Axis) *cf.Coord {
	std, units, ax := "latitude", "degrees_north", "Y"
	if axis == cf.AxisX {
		std, units, ax = "longitude", "degrees_east", "X"
	}
	text := func(n, v string) netcdf.Attr { return netcdf.Attr{Name: n, Value: v} }
	c := &cf.Coord{
		Name: name, Axis: axis, Type: netcdf.Double, Values: values, BoundsName: name + "_bnds",
		Attrs: []netcdf.Attr{text("standard_name", std), text("long_name", std), text("units", units), text("axis", ax)},
	}
	c.SetBounds(bounds)
	return c
}

func (r *regridArray) Meta() *Meta { return r.meta }

// regridBudget bounds the source values read at once (16 MiB): a field
// larger than that is read in bands of rows. Tests lower it.
var regridBudget = 1 << 21

// Read remaps the fields under the requested hyperslab one at a time: for
// each index of the other dimensions it reads the source rows the
// requested target rows need, every longitude, and applies the weights.
// Goroutines read ahead while this one computes, so reading and
// arithmetic overlap, as many as the source serves reads at once (the
// fields arrive in any order); memory is a few source fields (or bands of
// rows) more than that.
func (r *regridArray) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	stride, err := checkSlab(r.meta, start, count, stride, dst)
	if err != nil {
		return err
	}
	if product(count) == 0 {
		return nil
	}
	s := r.newSlab(start, count, stride)
	n := s.fields() * len(s.bands)
	if n == 1 {
		buf := make([]float64, s.bufLen)
		if err := r.read(ctx, s, 0, 1, buf); err != nil {
			return err
		}
		return r.remap(s, 0, buf, dst, make([]float64, s.fieldLen))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Items are read in batches of fields that follow each other in the
	// file, several a call, which spares libnetcdf's cost per call.
	type batch struct {
		k, m int // items k to k+m
		buf  []float64
		err  error
	}
	size := 1
	if s.batchable(r) {
		size = max(1, min(n, regridBatchValues/s.bufLen))
	}
	var mu sync.Mutex
	next := 0
	claim := func() (k, m int) {
		mu.Lock()
		defer mu.Unlock()
		k, m = next, min(size, n-next)
		if m > 1 {
			m = s.runLength(k, m)
		}
		next += m
		return k, m
	}
	// Three buffers let reading run ahead; two suffice for large ones.
	// A source that serves several reads at once gets one more for each.
	lanes := min(readLanes(r.src), (n+size-1)/size)
	depth := 3
	if size*s.bufLen > 1<<19 {
		depth = 2
	}
	depth += lanes - 1
	free, ready := make(chan []float64, depth), make(chan batch, depth)
	for i := 0; i < depth; i++ {
		free <- make([]float64, size*s.bufLen)
	}
	var wg sync.WaitGroup
	wg.Add(lanes)
	for range lanes {
		go func() {
			defer wg.Done()
			// Reads go through libnetcdf's lock; a locked thread keeps the
			// library's state warm (measured faster on compressed data).
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for {
				var buf []float64
				select {
				case buf = <-free:
				case <-ctx.Done():
					return
				}
				k, m := claim()
				if m == 0 {
					return
				}
				err := r.read(ctx, s, k, m, buf)
				ready <- batch{k, m, buf, err} // never blocks: depth buffers, depth places
				if err != nil {
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(ready)
	}()
	field := make([]float64, s.fieldLen)
	for b := range ready {
		for j := 0; j < b.m && b.err == nil; j++ {
			b.err = r.remap(s, b.k+j, b.buf[j*s.bufLen:(j+1)*s.bufLen], dst, field)
		}
		if b.err != nil {
			cancel()
			for range ready { // let the readers finish
			}
			return b.err
		}
		free <- b.buf
	}
	return ctx.Err()
}

// regridBatchValues bounds the source values one read-ahead call reads
// (1 MiB; two 1° fields): measured faster than a field a call, or 4 MiB.
const regridBatchValues = 1 << 17

// regridSlab is one Read's geometry: the requested target rows in bands,
// the source rows each band needs, and where fields go in the caller's
// buffer.
type regridSlab struct {
	start, count, stride []int
	bands                []regridBand
	bufLen, fieldLen     int // source and target values of the largest band
	dstStride            []int
	outer                []int // the dimensions other than lat and lon
}

// regridBand is a run of requested rows j0 ≤ j < j1, target rows
// [t0, t1), computed from source rows [s0, s1).
type regridBand struct {
	j0, j1, t0, t1, s0, s1 int
}

func (r *regridArray) newSlab(start, count, stride []int) *regridSlab {
	nd := len(count)
	s := &regridSlab{start: start, count: count, stride: stride, dstStride: make([]int, nd)}
	for i := nd - 1; i >= 0; i-- {
		s.dstStride[i] = 1
		if i < nd-1 {
			s.dstStride[i] = s.dstStride[i+1] * count[i+1]
		}
		if i != r.lat && i != r.lon {
			s.outer = append([]int{i}, s.outer...)
		}
	}
	nxS := len(r.plan.Src.Lon)
	row := func(j int) int { return start[r.lat] + j*stride[r.lat] }
	for j0 := 0; j0 < count[r.lat]; {
		b := regridBand{j0: j0, t0: row(j0)}
		b.s0, b.s1 = r.plan.SourceRows(b.t0, b.t0+1)
		j1 := j0 + 1
		for ; j1 < count[r.lat]; j1++ {
			lo, hi := b.s0, b.s1
			for t := row(j1-1) + 1; t <= row(j1); t++ {
				if a, z := r.plan.SourceRows(t, t+1); a < z {
					if hi == lo {
						lo, hi = a, z
					}
					lo, hi = min(lo, a), max(hi, z)
				}
			}
			if (hi-lo)*nxS > regridBudget {
				break
			}
			b.s0, b.s1 = lo, hi
		}
		b.j1, b.t1 = j1, row(j1-1)+1
		s.bands = append(s.bands, b)
		s.bufLen = max(s.bufLen, (b.s1-b.s0)*nxS)
		s.fieldLen = max(s.fieldLen, (b.t1-b.t0)*len(r.plan.Dst.Lon))
		j0 = j1
	}
	return s
}

// fields is the number of fields under the slab.
func (s *regridSlab) fields() int {
	n := 1
	for _, i := range s.outer {
		n *= s.count[i]
	}
	return n
}

// position gives item k's field index along each other dimension, as an
// offset in count, and its band.
func (s *regridSlab) position(k int) ([]int, *regridBand) {
	b := &s.bands[k%len(s.bands)]
	k /= len(s.bands)
	pos := make([]int, len(s.count))
	for i := len(s.outer) - 1; i >= 0; i-- {
		d := s.outer[i]
		pos[d] = k % s.count[d]
		k /= s.count[d]
	}
	return pos, b
}

// read reads the source rows of items k to k+m into buf, one after the
// other; a band beyond the source reads nothing. Several items (m > 1)
// must be a run that runLength allowed.
func (r *regridArray) read(ctx context.Context, s *regridSlab, k, m int, buf []float64) error {
	pos, b := s.position(k)
	if b.s1 == b.s0 {
		return nil
	}
	nd := len(pos)
	st, ct, sd := make([]int, nd), make([]int, nd), make([]int, nd)
	for i := range ct {
		ct[i], sd[i] = 1, 1
	}
	for _, d := range s.outer {
		st[d] = s.start[d] + pos[d]*s.stride[d]
	}
	st[r.lat], ct[r.lat] = b.s0, b.s1-b.s0
	ct[r.lon] = len(r.plan.Src.Lon)
	var stride []int
	if m > 1 {
		d := s.outer[len(s.outer)-1]
		ct[d], sd[d] = m, s.stride[d]
		stride = sd
	}
	return r.src.Read(ctx, st, ct, stride, buf[:product(ct)])
}

// batchable says whether items may be read several at a time: each field
// is one band, and the other dimensions come before latitude and
// longitude, so that fields along the last of them follow each other in
// the source and in a buffer.
func (s *regridSlab) batchable(r *regridArray) bool {
	if len(s.bands) != 1 || len(s.outer) == 0 {
		return false
	}
	return s.outer[len(s.outer)-1] < min(r.lat, r.lon)
}

// runLength is how many of the m items from k lie along the last other
// dimension without wrapping to its next row.
func (s *regridSlab) runLength(k, m int) int {
	pos, _ := s.position(k)
	d := s.outer[len(s.outer)-1]
	return min(m, s.count[d]-pos[d])
}

// remap applies the plan to item k, read into src, and puts the
// requested targets into dst.
func (r *regridArray) remap(s *regridSlab, k int, src, dst, field []float64) error {
	pos, b := s.position(k)
	nxS, nxT := len(r.plan.Src.Lon), len(r.plan.Dst.Lon)
	src = src[:(b.s1-b.s0)*nxS]
	if r.lon < r.lat { // stored (lon, lat): make it (lat, lon)
		ny := b.s1 - b.s0
		t := make([]float64, len(src))
		for i := 0; i < nxS; i++ {
			for j := 0; j < ny; j++ {
				t[j*nxS+i] = src[i*ny+j]
			}
		}
		src = t
	}
	field = field[:(b.t1-b.t0)*nxT]
	if b.s1 == b.s0 {
		for i := range field {
			field[i] = math.NaN()
		}
	} else if err := r.plan.Apply(field, b.t0, b.t1, src, b.s0); err != nil {
		return err
	}
	base := 0
	for _, d := range s.outer {
		base += pos[d] * s.dstStride[d]
	}
	lat, lon := r.lat, r.lon
	x0, nx, dx := s.start[lon], s.count[lon], s.stride[lon]
	for j := b.j0; j < b.j1; j++ {
		row := field[(j-b.j0)*s.stride[lat]*nxT:]
		d := base + j*s.dstStride[lat]
		if dx == 1 && s.dstStride[lon] == 1 {
			copy(dst[d:d+nx], row[x0:x0+nx])
			continue
		}
		for m := 0; m < nx; m++ {
			dst[d+m*s.dstStride[lon]] = row[x0+m*dx]
		}
	}
	return nil
}
