package regrid

import (
	"fmt"
	"math"
	"strings"
)

// Method is how values are carried from the source grid to the target.
type Method int

const (
	// Bilinear interpolates between the four surrounding source centres;
	// a target is missing when any of the four is.
	Bilinear Method = iota
	// Conservative averages the source cells a target cell overlaps,
	// weighted by the overlap area, over the cells that are not missing.
	Conservative
	// Nearest takes the source cell whose centre is nearest on the sphere.
	Nearest
)

func (m Method) String() string {
	return [...]string{"bilinear", "conservative", "nearest"}[m]
}

// Tools are the regridding tools a gridder may name; the first is the
// default, as in the cwt client.
var Tools = []string{"regrid2", "esmf", "xesmf"}

// Methods are the method names a gridder may give.
var Methods = []string{"linear", "bilinear", "conservative", "nearest"}

var methodNames = map[string]Method{
	"linear": Bilinear, "bilinear": Bilinear,
	"conservative": Conservative, "conserve": Conservative, "conservative_normed": Conservative,
	"nearest": Nearest, "nearest_s2d": Nearest,
}

// MethodOf maps a gridder's tool and method to a Method. regrid2 (CDAT's
// own regridder, the cwt default) is always conservative, whatever the
// method; esmf and xesmf take the method, linear by default. An empty tool
// is regrid2 and cdms2 is taken as regrid2, which is what cdms2 uses.
func MethodOf(tool, method string) (Method, error) {
	t := strings.ToLower(strings.TrimSpace(tool))
	mn := strings.ToLower(strings.TrimSpace(method))
	m, ok := methodNames[mn]
	if mn == "" {
		m, ok = Bilinear, true
	}
	if !ok {
		return 0, fmt.Errorf("unknown regridding method '%s'; known methods: %s", method, strings.Join(Methods, ", "))
	}
	switch t {
	case "", "regrid2", "cdms2":
		return Conservative, nil
	case "esmf", "xesmf":
		return m, nil
	}
	return 0, fmt.Errorf("unknown regridding tool '%s'; known tools: %s", tool, strings.Join(Tools, ", "))
}

// Range is one dimension of a domain used as a target grid: coordinate
// values from Start to End, both included, Step degrees apart.
type Range struct {
	Name             string
	Start, End, Step float64
	Values           bool // the domain gives coordinate values (not indices or timestamps)
}

// FromDomain makes the target grid a domain describes, as the reference
// service did with cdms2: its latitude and longitude dimensions give the
// first and last cell centres (both included) and the spacing in degrees
// (the step, 1 when not given). Other dimensions (time, level) are ignored.
func FromDomain(dims []Range) (*Grid, error) {
	var lat, lon *Range
	for i := range dims {
		switch strings.ToLower(dims[i].Name) {
		case "lat", "latitude", "y":
			lat = &dims[i]
		case "lon", "longitude", "x":
			lon = &dims[i]
		}
	}
	if lat == nil || lon == nil {
		return nil, fmt.Errorf("a domain used as a grid must give both lat and lon")
	}
	for _, r := range []*Range{lat, lon} {
		if !r.Values {
			return nil, fmt.Errorf("the %s of a domain used as a grid must be coordinate values (crs \"values\")", r.Name)
		}
	}
	axis := func(r *Range) (float64, int, float64) {
		step := r.Step
		if step <= 0 {
			step = 1
		}
		if r.End < r.Start {
			step = -step
		}
		n := int(math.Floor((r.End-r.Start)/step+1e-9)) + 1
		return r.Start, n, step
	}
	y0, ny, dy := axis(lat)
	x0, nx, dx := axis(lon)
	if float64(ny)*float64(nx) > MaxCells {
		return nil, fmt.Errorf("%d×%d cells is more than the %d a target grid may have", ny, nx, MaxCells)
	}
	return Uniform(y0, ny, dy, x0, nx, dx)
}
