package ops

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/netcdf"
)

// Statistic is what a reduction computes from the values it gathers.
// Missing values are left out; a result with no value to gather is missing
// (a Count is then 0).
type Statistic int

const (
	Maximum Statistic = iota
	Minimum
	Sum
	Mean
	StdDev   // population standard deviation (divides by n), as CDO's timstd and xarray's std
	Variance // population variance, as CDO's timvar
	Count    // the number of values that are not missing
)

var statNames = [...]string{"max", "min", "sum", "mean", "std", "var", "count"}

// statMethods are the CF cell_methods names.
var statMethods = [...]string{"maximum", "minimum", "sum", "mean", "standard_deviation", "variance", ""}

func (s Statistic) String() string { return statNames[s] }

// ParseStatistic reads the name a request uses: max, min, sum, mean, std,
// var or count.
func ParseStatistic(name string) (Statistic, error) {
	for i, n := range statNames {
		if n == name {
			return Statistic(i), nil
		}
	}
	return 0, fmt.Errorf("unknown statistic %q; expected one of %s", name, strings.Join(statNames[:], ", "))
}

// ReduceOptions controls how a reduction reads its input.
type ReduceOptions struct {
	SlabBytes int64 // memory for the slabs in flight (two per read in flight, four when grouping by another variable); default 32 MiB
}

func (o ReduceOptions) slabBytes() int64 {
	if o.SlabBytes <= 0 {
		return 32 << 20
	}
	return o.SlabBytes
}

// ResolveDims finds the dimensions a request names, by name or by axis
// ("latitude" finds "lat"), as domains do. Repeated names count once.
func ResolveDims(m *Meta, names []string) ([]int, error) {
	var out []int
	for _, name := range names {
		i, err := findDim(m, name)
		if err != nil {
			return nil, fmt.Errorf("axis '%s' is not a dimension of %s (%s)", name, m.Name, listDims(m))
		}
		if !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out, nil
}

func listDims(m *Meta) string {
	names := make([]string, len(m.Dims))
	for i, d := range m.Dims {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}

// Reduce returns stat of a over the named dimensions, which disappear from
// the result; no names reduce over every dimension. A Grouped input is
// reduced over all its points, one result per bin, and takes no names.
// Nothing is read until the result is: then the input is streamed once,
// a slab at a time, and the (small) result is kept.
func Reduce(a Array, stat Statistic, dims []string, opt ReduceOptions) (Array, error) {
	if g, data, ok := Ungroup(a); ok {
		if len(dims) > 0 {
			return nil, fmt.Errorf("%s is grouped into bins of %s and is reduced over all its points in each bin; axes cannot be chosen",
				data.Meta().Name, g.Key.Meta().Name)
		}
		return reduceGroups(g, data, stat, opt), nil
	}
	m := a.Meta()
	var idx []int
	if len(dims) == 0 {
		for i := range m.Dims {
			idx = append(idx, i)
		}
	} else {
		var err error
		if idx, err = ResolveDims(m, dims); err != nil {
			return nil, err
		}
	}
	r := newReduction(a, stat, idx, opt)
	r.meta.Attrs = reducedAttrs(m, stat, r.meta.Type, cellMethod(m, idx, stat, stat == Mean && overLatLon(m, idx)))
	return r, nil
}

// newReduction sets up the reduction of a over the dimensions idx; the
// caller sets weights and attributes.
func newReduction(a Array, stat Statistic, idx []int, opt ReduceOptions) *reduction {
	m := a.Meta()
	r := &reduction{src: a, stat: stat, slabBytes: opt.slabBytes(), reduced: make([]bool, len(m.Dims)), ostride: make([]int, len(m.Dims))}
	for _, i := range idx {
		r.reduced[i] = true
	}
	out := *m
	out.Dims = nil
	for i, d := range m.Dims {
		if !r.reduced[i] {
			out.Dims = append(out.Dims, d)
		}
	}
	step := 1
	for i := len(m.Dims) - 1; i >= 0; i-- {
		if !r.reduced[i] {
			r.ostride[i] = step
			step *= m.Dims[i].Len
		}
	}
	out.Type = reducedType(m.Type, stat)
	r.meta = &out
	return r
}

// overLatLon says whether any of the dimensions idx is a latitude or a
// longitude, where a plain mean is not the area mean.
func overLatLon(m *Meta, idx []int) bool {
	for _, i := range idx {
		if c := m.Dims[i].Coord; c != nil && (c.Axis == cf.AxisX || c.Axis == cf.AxisY) {
			return true
		}
	}
	return false
}

// reducedType is the type a result is written in: counts are integers;
// other statistics of float data stay float, as CDO writes them, and those
// of integer data become double, since a mean has a fraction.
func reducedType(t netcdf.Type, stat Statistic) netcdf.Type {
	switch {
	case stat == Count:
		return netcdf.Int64
	case t == netcdf.Float:
		return netcdf.Float
	}
	return netcdf.Double
}

// cellMethod is the CF cell_methods entry for stat over the dimensions
// idx ("time: mean"); unweighted marks a plain mean over latitude or
// longitude, which CF readers would otherwise take for an area mean.
func cellMethod(m *Meta, idx []int, stat Statistic, unweighted bool) string {
	if stat == Count || len(idx) == 0 {
		return ""
	}
	var b strings.Builder
	for i, d := range m.Dims {
		if slices.Contains(idx, i) {
			b.WriteString(d.Name + ": ")
		}
	}
	b.WriteString(statMethods[stat])
	if unweighted {
		b.WriteString(" (comment: unweighted)")
	}
	return b.String()
}

// reducedAttrs describes a statistic of the variable m: cell_methods gets
// the reduction, a count becomes a number of observations (CF's standard
// name modifier), a variance has squared units, and attributes that no
// longer apply go.
func reducedAttrs(m *Meta, stat Statistic, t netcdf.Type, method string) []netcdf.Attr {
	var out []netcdf.Attr
	hasMethods := false
	for _, a := range m.Attrs {
		switch a.Name {
		case "valid_range", "valid_min", "valid_max", "actual_range", "scale_factor", "add_offset", "cell_measures":
			continue
		case "_FillValue", "missing_value":
			if t != m.Type || stat == Count {
				continue // a fill in another type means nothing; counts are never missing
			}
		case "units":
			s, _ := a.Text()
			switch stat {
			case Count:
				continue
			case Variance:
				a.Value = squaredUnits(s)
			}
		case "standard_name":
			if stat == Count {
				s, _ := a.Text()
				a.Value = strings.TrimSpace(s) + " number_of_observations"
			}
		case "cell_methods":
			if stat == Count {
				continue
			}
			if s, _ := a.Text(); method != "" {
				a.Value = strings.TrimSpace(s + " " + method)
			}
			hasMethods = true
		}
		out = append(out, a)
	}
	if !hasMethods && method != "" {
		out = append(out, netcdf.Attr{Name: "cell_methods", Value: method})
	}
	if stat == Count {
		out = append(out, netcdf.Attr{Name: "units", Value: "1"})
	}
	return out
}

// squaredUnits writes units u squared in UDUNITS syntax.
func squaredUnits(u string) string {
	u = strings.TrimSpace(u)
	if u == "" || u == "1" {
		return u
	}
	if strings.IndexFunc(u, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }) < 0 {
		return u + "^2"
	}
	return "(" + u + ")^2"
}

// reduction is the lazy result of a reduction. The first Read computes the
// whole result, streaming the input once; it is small (the input without
// the reduced dimensions, or one value per bin) and is kept for the Reads
// that follow.
type reduction struct {
	src       Array
	meta      *Meta
	stat      Statistic
	reduced   []bool         // per source dimension
	ostride   []int          // per source dimension: its step in the result, 0 when reduced
	factors   []weightFactor // weights of a weighted mean
	groups    *Grouped       // set when reducing per bin
	slabBytes int64

	mu     sync.Mutex
	result []float64
}

func (r *reduction) Meta() *Meta { return r.meta }

func (r *reduction) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	stride, err := checkSlab(r.meta, start, count, stride, dst)
	if err != nil {
		return err
	}
	res, err := r.compute(ctx)
	if err != nil {
		return err
	}
	copyHyperslab(dst, res, r.meta.Shape(), start, count, stride)
	return nil
}

// compute runs the reduction once; a failed or cancelled run is not kept.
func (r *reduction) compute(ctx context.Context) ([]float64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.result != nil {
		return r.result, nil
	}
	perCell := 1.0
	for i, red := range r.reduced {
		if red {
			perCell *= float64(r.src.Meta().Dims[i].Len)
		}
	}
	acc := newAccumulator(r.stat, int(r.meta.Size()), r.factors != nil, perCell)
	var err error
	if r.groups != nil {
		err = r.streamGroups(ctx, acc)
	} else {
		err = r.stream(ctx, acc)
	}
	if err != nil {
		return nil, err
	}
	res := make([]float64, r.meta.Size())
	acc.finish(res)
	r.result = res
	return res, nil
}

// maxReadBuffer caps a slab below SlabBytes: measured, slabs that stay in
// the CPU cache between the read that fills them and the reduction that
// uses them make a time mean faster than larger ones.
const maxReadBuffer = 4 << 20

// inputSlab is one hyperslab of the input in memory; key holds the grouping
// variable's values at the same points when reducing per bin. When raw is
// set, the values are in it as read from the file, in the memory of data,
// which holds nothing: float32, with missing the one value that means
// missing (NaN for none).
type inputSlab struct {
	start, count []int
	data, key    []float64
	raw          []float32
	missing      float64
	err          error
}

// streamSlabs reads src (and key, when it is another array) slab by slab and
// hands each slab to consume, in storage order. Reading goroutines run
// ahead of the caller's, which consumes, so reading and computing overlap:
// as many as readLanes says src can serve at once (one, or as many as the
// reader processes that inflate its chunks in parallel). Slab i is read by
// lane i mod lanes into one of the lane's two buffers, which bounds the
// memory by slabBytes.
func streamSlabs(ctx context.Context, src, key Array, slabBytes int64, consume func(*inputSlab) error) error {
	return streamSlabsRaw(ctx, src, key, slabBytes, false, consume)
}

// streamSlabsRaw is streamSlabs that, when raw is true and src is a file's
// float variable that only needs widening to float64, hands consume the
// float32 values (inputSlab.raw) instead: the widening is then done as
// the values are used, sparing a pass through memory.
func streamSlabsRaw(ctx context.Context, src, key Array, slabBytes int64, raw bool, consume func(*inputSlab) error) error {
	shape := src.Meta().Shape()
	var rawSrc *fileArray
	if fa, ok := src.(*fileArray); ok && raw && key == nil {
		if _, ok := fa.raw32(); ok {
			rawSrc = fa
		}
	}
	lanes := readLanes(src)
	buffers := 2 * int64(lanes)
	if key != nil && key != src {
		buffers *= 2
	}
	plan := planSlabs(shape, max(1, min(slabBytes/buffers, maxReadBuffer)/8))
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type lane struct {
		jobs       chan [2][]int // start and count
		free, full chan *inputSlab
	}
	ls := make([]lane, lanes)
	for i := range ls {
		ls[i] = lane{jobs: make(chan [2][]int, 1), free: make(chan *inputSlab, 2), full: make(chan *inputSlab, 2)}
		ls[i].free <- nil // buffers are made when first needed
		ls[i].free <- nil
	}
	var wg sync.WaitGroup
	wg.Add(1 + lanes)
	go func() {
		defer wg.Done()
		defer func() {
			for _, l := range ls {
				close(l.jobs)
			}
		}()
		i := 0
		plan.each(func(start, count []int) bool {
			select {
			case ls[i%lanes].jobs <- [2][]int{start, count}:
				i++
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	for _, l := range ls {
		go func() {
			defer wg.Done()
			defer close(l.full)
			// Measured: a reader on its own OS thread is faster, with far
			// fewer page faults in libnetcdf.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for job := range l.jobs {
				var s *inputSlab
				select {
				case s = <-l.free:
				case <-ctx.Done():
					return
				}
				if s == nil {
					s = &inputSlab{data: make([]float64, plan.elems)}
					if key != nil && key != src {
						s.key = make([]float64, plan.elems)
					}
				}
				n := product(job[1])
				s.start, s.count = job[0], job[1]
				if rawSrc != nil {
					s.raw = unsafe.Slice((*float32)(unsafe.Pointer(&s.data[0])), n)
					s.missing, _ = rawSrc.raw32()
					s.err = rawSrc.readRaw32(ctx, s.start, s.count, s.raw)
				} else {
					s.err = src.Read(ctx, s.start, s.count, nil, s.data[:n])
				}
				if s.err == nil && s.key != nil {
					s.err = key.Read(ctx, s.start, s.count, nil, s.key[:n])
				}
				l.full <- s // never blocks: a lane has two buffers
				if s.err != nil {
					return
				}
			}
		}()
	}
	var err error
	for i := 0; ; i++ {
		l := ls[i%lanes]
		s, ok := <-l.full
		if !ok {
			break // slab i does not exist, or its lane stopped early
		}
		if err == nil {
			if err = s.err; err == nil {
				n := product(s.count)
				s.data = s.data[:n]
				if s.key != nil {
					s.key = s.key[:n]
				}
				err = consume(s)
				s.data = s.data[:cap(s.data)]
				if s.key != nil {
					s.key = s.key[:cap(s.key)]
				}
			}
			if err != nil {
				cancel()
			}
		}
		l.free <- s
	}
	cancel()
	wg.Wait()
	if err == nil {
		err = parent.Err() // the readers may have stopped early for it
	}
	return err
}

// slabPlan cuts an array into hyperslabs of whole rows of dimension k:
// rows at a time, for each index of the dimensions before k. Reading
// whole leading-dimension steps keeps every read contiguous in the file.
type slabPlan struct {
	shape []int
	k     int
	rows  int
	elems int // largest slab
}

func planSlabs(shape []int, maxElems int64) slabPlan {
	nd := len(shape)
	if nd == 0 {
		return slabPlan{elems: 1}
	}
	k := 0
	for ; k < nd-1; k++ {
		if int64(product(shape[k+1:])) <= maxElems {
			break
		}
	}
	inner := product(shape[k+1:])
	rows := int(min(int64(shape[k]), max(1, maxElems/int64(inner))))
	return slabPlan{shape: shape, k: k, rows: rows, elems: rows * inner}
}

// each calls fn with every slab in storage order until it returns false.
// Each call gets its own start and count slices.
func (p slabPlan) each(fn func(start, count []int) bool) {
	nd := len(p.shape)
	if nd == 0 {
		fn(nil, nil)
		return
	}
	for _, n := range p.shape {
		if n == 0 {
			return
		}
	}
	outer := make([]int, p.k)
	for {
		for r := 0; r < p.shape[p.k]; r += p.rows {
			start, count := make([]int, nd), make([]int, nd)
			for i := 0; i < p.k; i++ {
				start[i], count[i] = outer[i], 1
			}
			start[p.k], count[p.k] = r, min(p.rows, p.shape[p.k]-r)
			for i := p.k + 1; i < nd; i++ {
				count[i] = p.shape[i]
			}
			if !fn(start, count) {
				return
			}
		}
		i := p.k - 1
		for ; i >= 0; i-- {
			if outer[i]++; outer[i] < p.shape[i] {
				break
			}
			outer[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// stream feeds the input to acc a row (a run of the last dimension) at a
// time: a row either lands on as many result cells (the last dimension is
// kept) or on one (it is reduced).
func (r *reduction) stream(ctx context.Context, acc accumulator) error {
	nd := len(r.reduced)
	racc, raw := acc.(rawAccumulator)
	return streamSlabsRaw(ctx, r.src, nil, r.slabBytes, raw, func(s *inputSlab) error {
		if nd == 0 {
			if s.raw != nil {
				racc.kept32(0, s.raw, nil, 1, s.missing)
			} else {
				acc.kept(0, s.data, nil, 1)
			}
			return nil
		}
		last := nd - 1
		n := s.count[last]
		total := len(s.data)
		if s.raw != nil {
			total = len(s.raw)
		}
		idx := make([]int, last) // position in the slab over the dimensions before the last
		for off := 0; off < total; off += n {
			base, w, wsum := 0, 1.0, float64(n)
			var wv []float64
			for d := 0; d < last; d++ {
				base += (s.start[d] + idx[d]) * r.ostride[d]
			}
			for i := range r.factors {
				f := &r.factors[i]
				o := 0
				for j, d := range f.dims {
					if d != last {
						o += (s.start[d] + idx[d]) * f.strides[j]
					}
				}
				if f.dims[len(f.dims)-1] == last {
					wv = f.w[o+s.start[last] : o+s.start[last]+n]
					if n == len(f.w)/len(f.rowSums) {
						wsum = f.rowSums[o/n]
					} else {
						wsum = weightedSum(wv, nil)
					}
				} else {
					w *= f.w[o]
				}
			}
			switch {
			case s.raw != nil && r.reduced[last]:
				racc.reduced32(base, s.raw[off:off+n], wv, wsum, w, s.missing)
			case s.raw != nil:
				racc.kept32(base+s.start[last], s.raw[off:off+n], wv, w, s.missing)
			case r.reduced[last]:
				acc.reduced(base, s.data[off:off+n], wv, wsum, w)
			default:
				acc.kept(base+s.start[last], s.data[off:off+n], wv, w)
			}
			for d := last - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < s.count[d] {
					break
				}
				idx[d] = 0
			}
		}
		return ctx.Err()
	})
}

// copyHyperslab copies the hyperslab start/count/stride of a dense array
// of the given shape into dst.
func copyHyperslab(dst, src []float64, shape, start, count, stride []int) {
	nd := len(shape)
	if nd == 0 {
		dst[0] = src[0]
		return
	}
	steps := make([]int, nd)
	steps[nd-1] = 1
	for i := nd - 2; i >= 0; i-- {
		steps[i] = steps[i+1] * shape[i+1]
	}
	idx := make([]int, nd)
	for k := range dst {
		o := 0
		for i := range idx {
			o += (start[i] + idx[i]*stride[i]) * steps[i]
		}
		dst[k] = src[o]
		for i := nd - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < count[i] {
				break
			}
			idx[i] = 0
		}
	}
}
