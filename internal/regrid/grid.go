// Package regrid moves fields between rectilinear latitude/longitude grids:
// the target grids a request can name (uniform, Gaussian), and the weights
// of bilinear, first-order conservative and nearest-neighbour remapping.
// It is pure arithmetic; reading and writing data is the business of ops.
package regrid

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxCells and MaxPoints bound the size of a target grid and of each of
// its axes: a 0.1° global grid (6.5 million cells) fits, a request for a
// 0.01° one is refused before anything is allocated.
const (
	MaxCells  = 1 << 24
	MaxPoints = 1 << 16
)

// Grid is a rectilinear grid: cell centres and bounds in degrees, in
// storage order (latitude may decrease, longitude may cross the seam).
type Grid struct {
	Lat, Lon             []float64
	LatBounds, LonBounds []float64 // two per cell: lower, upper
}

// NewGrid checks centres and bounds and makes the missing bounds from the
// midpoints between centres, latitude clipped to ±90° (as CDO does for
// grids without bounds).
func NewGrid(lat, lon, latBounds, lonBounds []float64) (*Grid, error) {
	if len(lat) == 0 || len(lon) == 0 {
		return nil, fmt.Errorf("a grid needs at least one latitude and one longitude")
	}
	for _, v := range lat {
		if !(v >= -90 && v <= 90) {
			return nil, fmt.Errorf("latitude %g is outside -90..90", v)
		}
	}
	for _, v := range lon {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("longitude %g is not a number", v)
		}
	}
	if err := monotonic(lat, "latitudes"); err != nil {
		return nil, err
	}
	if err := monotonic(unwrap(lon), "longitudes"); err != nil {
		return nil, err
	}
	// Copies: the caller's slices may be a dataset's coordinates.
	g := &Grid{Lat: clone(lat), Lon: clone(lon), LatBounds: clone(latBounds), LonBounds: clone(lonBounds)}
	if latBounds == nil {
		g.LatBounds = midBounds(lat)
	}
	if lonBounds == nil {
		u := unwrap(lon)
		g.LonBounds = midBounds(u)
		for i := range lon { // back to the frame of each centre
			g.LonBounds[2*i] += lon[i] - u[i]
			g.LonBounds[2*i+1] += lon[i] - u[i]
		}
	}
	for i := range g.LatBounds {
		g.LatBounds[i] = math.Max(-90, math.Min(90, g.LatBounds[i]))
	}
	if len(g.LatBounds) != 2*len(lat) || len(g.LonBounds) != 2*len(lon) {
		return nil, fmt.Errorf("bounds must have two values per cell")
	}
	for i := range lon {
		if w := math.Abs(g.LonBounds[2*i+1] - g.LonBounds[2*i]); !(w <= 360+1e-9) {
			return nil, fmt.Errorf("longitude cell %d is %g° wide", i, w)
		}
	}
	return g, nil
}

func clone(v []float64) []float64 {
	if v == nil {
		return nil
	}
	return append([]float64(nil), v...)
}

func monotonic(v []float64, what string) error {
	for i := 2; i < len(v); i++ {
		if (v[i]-v[i-1])*(v[1]-v[0]) <= 0 {
			return fmt.Errorf("%s are not strictly monotonic", what)
		}
	}
	if len(v) == 2 && v[0] == v[1] {
		return fmt.Errorf("%s repeat", what)
	}
	return nil
}

// unwrap removes the jumps of 360° so that the longitudes increase or
// decrease steadily from the first (350, 355, 0, 5 becomes 350 … 365).
func unwrap(lon []float64) []float64 {
	u := make([]float64, len(lon))
	for i, v := range lon {
		if i == 0 {
			u[0] = v
			continue
		}
		d := math.Mod(v-lon[i-1], 360)
		if d > 180 {
			d -= 360
		} else if d <= -180 {
			d += 360
		}
		u[i] = u[i-1] + d
	}
	return u
}

// midBounds puts the bounds half-way between centres and half a spacing
// beyond the ends; one centre gets a 1° cell.
func midBounds(c []float64) []float64 {
	n := len(c)
	b := make([]float64, 2*n)
	if n == 1 {
		b[0], b[1] = c[0]-0.5, c[0]+0.5
		return b
	}
	for i := 0; i < n; i++ {
		lo, hi := 0.0, 0.0
		if i > 0 {
			lo = (c[i-1] + c[i]) / 2
		} else {
			lo = c[0] - (c[1]-c[0])/2
		}
		if i < n-1 {
			hi = (c[i] + c[i+1]) / 2
		} else {
			hi = c[n-1] + (c[n-1]-c[n-2])/2
		}
		b[2*i], b[2*i+1] = lo, hi
	}
	return b
}

// Uniform is the grid of cdms2's createUniformGrid: nlat latitudes from
// lat0 by dlat, nlon longitudes from lon0 by dlon, each cell a spacing wide.
func Uniform(lat0 float64, nlat int, dlat float64, lon0 float64, nlon int, dlon float64) (*Grid, error) {
	if nlat < 1 || nlon < 1 {
		return nil, fmt.Errorf("the numbers of latitudes and longitudes must be positive")
	}
	if dlat == 0 && nlat > 1 || dlon == 0 && nlon > 1 || math.IsNaN(dlat) || math.IsNaN(dlon) {
		return nil, fmt.Errorf("the spacing must not be zero")
	}
	if float64(nlon)*math.Abs(dlon) > 360+1e-9 {
		return nil, fmt.Errorf("%d longitudes %g° apart go round the globe more than once", nlon, math.Abs(dlon))
	}
	if nlat > MaxPoints || nlon > MaxPoints || nlat*nlon > MaxCells {
		return nil, fmt.Errorf("%d×%d cells is more than the %d (and %d a side) a target grid may have", nlat, nlon, MaxCells, MaxPoints)
	}
	lat, lon := make([]float64, nlat), make([]float64, nlon)
	lb, xb := make([]float64, 2*nlat), make([]float64, 2*nlon)
	for j := range lat {
		lat[j] = lat0 + float64(j)*dlat
		lb[2*j], lb[2*j+1] = lat[j]-math.Abs(dlat)/2, lat[j]+math.Abs(dlat)/2
		if dlat < 0 {
			lb[2*j], lb[2*j+1] = lb[2*j+1], lb[2*j]
		}
	}
	for i := range lon {
		lon[i] = lon0 + float64(i)*dlon
		xb[2*i], xb[2*i+1] = lon[i]-dlon/2, lon[i]+dlon/2
	}
	return NewGrid(lat, lon, lb, xb)
}

// Global is the uniform global grid of cells dlat by dlon degrees, centred
// from -90+dlat/2 and from dlon/2: Global(2, 2) is 90×180 with the first
// cell centred at (-89°, 1°).
func Global(dlat, dlon float64) (*Grid, error) {
	if !(dlat > 0 && dlon > 0) {
		return nil, fmt.Errorf("the spacing must be positive")
	}
	nlat, okLat := divides(180, dlat)
	nlon, okLon := divides(360, dlon)
	if !okLat || !okLon {
		return nil, fmt.Errorf("%g° must divide 180 and %g° must divide 360", dlat, dlon)
	}
	return Uniform(-90+dlat/2, nlat, dlat, dlon/2, nlon, dlon)
}

// divides reports whether step divides span into a whole number of cells,
// forgiving the rounding of decimal steps such as 0.1.
func divides(span, step float64) (int, bool) {
	n := span / step
	r := math.Round(n)
	return int(r), r >= 1 && math.Abs(n-r) < 1e-6*r && r <= MaxCells
}

// Gaussian is the Gaussian grid of nlat latitudes (south to north) and
// 2·nlat longitudes from 0°, with latitude bounds at the partial sums of
// the Gaussian weights so that each band's area is exactly its weight.
func Gaussian(nlat int) (*Grid, error) {
	if nlat < 1 || 2*nlat*nlat > MaxCells {
		return nil, fmt.Errorf("a Gaussian grid needs from 1 to %d latitudes", int(math.Sqrt(MaxCells/2)))
	}
	lat, w := GaussianLatitudes(nlat)
	lb := make([]float64, 2*nlat)
	// Accumulate from the south pole to the equator and mirror, so the
	// bounds are symmetric, the outermost ±90° and the middle one 0.
	s := -1.0
	for j := 0; j < (nlat+1)/2; j++ {
		lo := math.Asin(math.Max(-1, s)) * 180 / math.Pi
		s += w[j]
		hi := math.Asin(math.Min(1, s)) * 180 / math.Pi
		switch {
		case nlat%2 == 1 && j == nlat/2:
			hi = -lo
		case nlat%2 == 0 && j == nlat/2-1:
			hi = 0
		}
		lb[2*j], lb[2*j+1] = lo, hi
		lb[2*(nlat-1-j)], lb[2*(nlat-1-j)+1] = -hi, -lo
	}
	nlon := 2 * nlat
	dlon := 360 / float64(nlon)
	lon, xb := make([]float64, nlon), make([]float64, 2*nlon)
	for i := range lon {
		lon[i] = float64(i) * dlon
		xb[2*i], xb[2*i+1] = lon[i]-dlon/2, lon[i]+dlon/2
	}
	return NewGrid(lat, lon, lb, xb)
}

// ParseGrid reads a grid description as the cwt client and the reference
// service wrote it: uniform~DLATxDLON, uniform~LAT0:NLAT:DLATxLON0:NLON:DLON,
// gaussian~NLAT, or a spectral truncation name (T21, T42, T63, T85, …).
func ParseGrid(spec string) (*Grid, error) {
	s := strings.TrimSpace(spec)
	if n, ok := truncations[strings.ToUpper(s)]; ok {
		return Gaussian(n)
	}
	kind, arg, ok := strings.Cut(s, "~")
	if !ok {
		return nil, errUnknownGrid
	}
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "gaussian":
		n, err := strconv.Atoi(strings.TrimSpace(arg))
		if err != nil {
			return nil, fmt.Errorf("gaussian~N needs a whole number of latitudes, got %q", arg)
		}
		return Gaussian(n)
	case "uniform":
		latSpec, lonSpec, ok := strings.Cut(strings.ToLower(arg), "x")
		if !ok {
			return nil, fmt.Errorf("uniform~ needs a latitude and a longitude part separated by x, got %q", arg)
		}
		if strings.Contains(latSpec, ":") || strings.Contains(lonSpec, ":") {
			y0, ny, dy, err := parseAxis(latSpec)
			if err != nil {
				return nil, fmt.Errorf("latitude %q: %v", latSpec, err)
			}
			x0, nx, dx, err := parseAxis(lonSpec)
			if err != nil {
				return nil, fmt.Errorf("longitude %q: %v", lonSpec, err)
			}
			return Uniform(y0, ny, dy, x0, nx, dx)
		}
		dy, err1 := parseFloat(latSpec)
		dx, err2 := parseFloat(lonSpec)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("uniform~DLATxDLON needs two numbers, got %q", arg)
		}
		return Global(dy, dx)
	}
	return nil, errUnknownGrid
}

var errUnknownGrid = fmt.Errorf("not a grid description: use uniform~DLATxDLON, uniform~LAT0:NLAT:DLATxLON0:NLON:DLON, " +
	"gaussian~NLAT or T21, T42, T63, T85; a domain or variable named as the grid must be in the request's domain or variable input")

// truncations are the Gaussian grids of the usual triangular spectral
// truncations (the quadratic grids).
var truncations = map[string]int{
	"T21": 32, "T31": 48, "T42": 64, "T63": 96, "T85": 128,
	"T106": 160, "T127": 192, "T159": 240, "T255": 384,
}

func parseAxis(s string) (start float64, n int, delta float64, err error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("want START:N:DELTA")
	}
	if start, err = parseFloat(parts[0]); err != nil {
		return
	}
	if n, err = strconv.Atoi(strings.TrimSpace(parts[1])); err != nil {
		return 0, 0, 0, fmt.Errorf("the count %q is not a whole number", parts[1])
	}
	delta, err = parseFloat(parts[2])
	return
}

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}
