package regrid

import (
	"math"
	"strings"
	"testing"
)

func TestGaussianLatitudesAreLegendreRoots(t *testing.T) {
	for _, n := range []int{1, 2, 5, 32, 64, 96, 128, 320} {
		lat, w := GaussianLatitudes(n)
		sum := 0.0
		for k := range lat {
			// A root to within rounding: the Newton step is nil.
			p, dp := legendre(n, math.Sin(lat[k]*math.Pi/180))
			if math.Abs(p/dp) > 1e-15 {
				t.Errorf("n=%d: P_n(sin %g) / P_n' = %g, want 0", n, lat[k], p/dp)
			}
			if k > 0 && lat[k] <= lat[k-1] {
				t.Errorf("n=%d: latitudes not south to north at %d", n, k)
			}
			if lat[k] != -lat[n-1-k] || w[k] != w[n-1-k] {
				t.Errorf("n=%d: not symmetric about the equator at %d", n, k)
			}
			sum += w[k]
		}
		if math.Abs(sum-2) > 1e-13 {
			t.Errorf("n=%d: weights sum to %.16g, want 2", n, sum)
		}
	}
	// The first latitudes of CDO's n32 grid (64 latitudes), as printed by
	// cdo griddes with 15 significant digits.
	lat, _ := GaussianLatitudes(64)
	for k, want := range []float64{87.8637988392326, 85.0965269883174, 82.3129129478863, 1.3953069108195} {
		j := 63 - k
		if k == 3 {
			j = 32
		}
		if math.Abs(lat[j]-want) > 1e-12 {
			t.Errorf("latitude %d of 64 = %.15g, want %.15g", j, lat[j], want)
		}
	}
}

func TestGaussianBoundsGiveExactAreas(t *testing.T) {
	g, err := Gaussian(48)
	if err != nil {
		t.Fatal(err)
	}
	_, w := GaussianLatitudes(48)
	if g.LatBounds[0] != -90 || g.LatBounds[2*48-1] != 90 {
		t.Errorf("bounds do not reach the poles: %g %g", g.LatBounds[0], g.LatBounds[95])
	}
	for j := range g.Lat {
		lo, hi := g.LatBounds[2*j], g.LatBounds[2*j+1]
		if area := math.Sin(hi*math.Pi/180) - math.Sin(lo*math.Pi/180); math.Abs(area-w[j]) > 1e-13 {
			t.Errorf("band %d: area %g, weight %g", j, area, w[j])
		}
		if !(lo < g.Lat[j] && g.Lat[j] < hi) || j > 0 && lo != g.LatBounds[2*j-1] {
			t.Errorf("band %d: [%g, %g] around %g", j, lo, hi, g.Lat[j])
		}
	}
	if len(g.Lon) != 96 || g.Lon[1] != 3.75 || g.LonBounds[0] != -1.875 {
		t.Errorf("longitudes %d from %g, first cell from %g", len(g.Lon), g.Lon[1], g.LonBounds[0])
	}
}

func TestParseGrid(t *testing.T) {
	cases := []struct {
		spec               string
		nlat, nlon         int
		lat0, lon0, dlat   float64
		latLo0, lonLo0     float64
		lastLat, lastLonHi float64
	}{
		{"uniform~2x2", 90, 180, -89, 1, 2, -90, 0, 89, 360},
		{"uniform~.25x.25", 720, 1440, -89.875, 0.125, 0.25, -90, 0, 89.875, 360},
		{"uniform~0.5x1", 360, 360, -89.75, 0.5, 0.5, -90, 0, 89.75, 360},
		{"Uniform~-89:90:2x0:180:2", 90, 180, -89, 0, 2, -90, -1, 89, 359},
		{"uniform~80:5:-10x-180:4:90", 5, 4, 80, -180, -10, 85, -225, 40, 135},
	}
	for _, c := range cases {
		g, err := ParseGrid(c.spec)
		if err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		if len(g.Lat) != c.nlat || len(g.Lon) != c.nlon || g.Lat[0] != c.lat0 || g.Lon[0] != c.lon0 ||
			math.Abs(g.Lat[1]-g.Lat[0]-c.dlat) > 1e-12 || g.LatBounds[0] != c.latLo0 || g.LonBounds[0] != c.lonLo0 ||
			math.Abs(g.Lat[c.nlat-1]-c.lastLat) > 1e-9 || math.Abs(g.LonBounds[2*c.nlon-1]-c.lastLonHi) > 1e-9 {
			t.Errorf("%s: %d×%d, lat %g.. by %g (cell from %g) to %g, lon %g.. (cell from %g, last to %g)", c.spec,
				len(g.Lat), len(g.Lon), g.Lat[0], g.Lat[1]-g.Lat[0], g.LatBounds[0], g.Lat[len(g.Lat)-1],
				g.Lon[0], g.LonBounds[0], g.LonBounds[2*len(g.Lon)-1])
		}
	}
	for spec, nlat := range map[string]int{"T21": 32, "t42": 64, "T63": 96, "T85": 128, "gaussian~64": 64, " gaussian~ 7 ": 7} {
		g, err := ParseGrid(spec)
		if err != nil || len(g.Lat) != nlat || len(g.Lon) != 2*nlat {
			t.Errorf("%q: %v, want a Gaussian grid of %d latitudes", spec, err, nlat)
		}
	}
	for spec, want := range map[string]string{
		"gaussian~0":             "from 1 to",
		"gaussian~ten":           "whole number",
		"gaussian~5000":          "from 1 to",
		"uniform~7x7":            "must divide 180",
		"uniform~0x1":            "must be positive",
		"uniform~2":              "separated by x",
		"uniform~ax2":            "two numbers",
		"uniform~0:0:1x0:1:1":    "must be positive",
		"uniform~0:10:1x0:361:1": "more than once",
		"uniform~85:10:1x0:1:1":  "outside -90..90",
		"uniform~.01x.01":        "more than",
		"r180x90":                "not a grid description",
		"":                       "not a grid description",
		"linear~2x2":             "not a grid description",
	} {
		if _, err := ParseGrid(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", spec, err, want)
		}
	}
}

func TestMethodOf(t *testing.T) {
	cases := []struct {
		tool, method string
		want         Method
	}{
		{"regrid2", "linear", Conservative}, // regrid2 is area-weighted whatever the method
		{"", "", Conservative},              // the cwt default Gridder
		{"esmf", "linear", Bilinear},
		{"ESMF", "bilinear", Bilinear},
		{"xesmf", "conservative", Conservative},
		{"esmf", "conserve", Conservative},
		{"esmf", "nearest", Nearest},
		{"xesmf", "nearest_s2d", Nearest},
		{"esmf", "", Bilinear},
	}
	for _, c := range cases {
		if got, err := MethodOf(c.tool, c.method); err != nil || got != c.want {
			t.Errorf("%q/%q: %v %v, want %v", c.tool, c.method, got, err, c.want)
		}
	}
	if _, err := MethodOf("esmf", "patch"); err == nil || !strings.Contains(err.Error(), "unknown regridding method 'patch'") {
		t.Errorf("patch: %v", err)
	}
	if _, err := MethodOf("scipy", "linear"); err == nil || !strings.Contains(err.Error(), "unknown regridding tool 'scipy'; known tools: regrid2, esmf, xesmf") {
		t.Errorf("scipy: %v", err)
	}
}

func TestFromDomain(t *testing.T) {
	g, err := FromDomain([]Range{
		{Name: "time", Start: 0, End: 10, Step: 1},
		{Name: "latitude", Start: -30, End: 30, Step: 2, Values: true},
		{Name: "lon", Start: 100, End: 0, Step: 5, Values: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Lat) != 31 || g.Lat[30] != 30 || g.LatBounds[0] != -31 || len(g.Lon) != 21 || g.Lon[1] != 95 {
		t.Errorf("lat %v\nlon %v", g.Lat, g.Lon)
	}
	if _, err := FromDomain([]Range{{Name: "lat", Values: true}}); err == nil || !strings.Contains(err.Error(), "both lat and lon") {
		t.Errorf("domain without lon: %v", err)
	}
	if _, err := FromDomain([]Range{{Name: "lat", Values: true}, {Name: "lon", Start: 0, End: 3}}); err == nil || !strings.Contains(err.Error(), "coordinate values") {
		t.Errorf("domain with indices: %v", err)
	}
}

// field fills a grid with f(lat, lon).
func field(g *Grid, f func(lat, lon float64) float64) []float64 {
	v := make([]float64, len(g.Lat)*len(g.Lon))
	for j, y := range g.Lat {
		for i, x := range g.Lon {
			v[j*len(g.Lon)+i] = f(y, x)
		}
	}
	return v
}

func remap(t *testing.T, src, dst *Grid, m Method, in []float64) []float64 {
	t.Helper()
	p, err := NewPlan(src, dst, m)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(dst.Lat)*len(dst.Lon))
	s0, s1 := p.SourceRows(0, len(dst.Lat))
	nx := len(src.Lon)
	if err := p.Apply(out, 0, len(dst.Lat), in[s0*nx:s1*nx], s0); err != nil {
		t.Fatal(err)
	}
	return out
}

// areaMean is the area-weighted mean over the cells that are not missing.
func areaMean(g *Grid, v []float64) float64 {
	num, den := 0.0, 0.0
	for j := range g.Lat {
		band := math.Abs(math.Sin(g.LatBounds[2*j+1]*math.Pi/180) - math.Sin(g.LatBounds[2*j]*math.Pi/180))
		for i := range g.Lon {
			a := band * math.Abs(g.LonBounds[2*i+1]-g.LonBounds[2*i])
			if x := v[j*len(g.Lon)+i]; !math.IsNaN(x) {
				num += a * x
				den += a
			}
		}
	}
	return num / den
}

func mustGrid(t *testing.T, spec string) *Grid {
	t.Helper()
	g, err := ParseGrid(spec)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConservativeKeepsTheGlobalMean(t *testing.T) {
	wavy := func(lat, lon float64) float64 {
		return 280 + 30*math.Cos(lat*math.Pi/180) + 5*math.Sin(3*lon*math.Pi/180)*math.Cos(2*lat*math.Pi/180) + lon/100
	}
	// A source whose longitudes run -180..180 and whose latitudes run
	// north to south, to targets of every kind.
	src, err := Uniform(88.5, 60, -3, -180, 96, 3.75)
	if err != nil {
		t.Fatal(err)
	}
	in := field(src, wavy)
	for _, spec := range []string{"uniform~2x2", "uniform~5x7.5", "T42", "gaussian~7", "uniform~.5x.5"} {
		dst := mustGrid(t, spec)
		out := remap(t, src, dst, Conservative, in)
		a, b := areaMean(src, in), areaMean(dst, out)
		if math.Abs(a-b) > 1e-6*math.Abs(a) {
			t.Errorf("%s: area mean %.10g before, %.10g after", spec, a, b)
		}
		for k, x := range out {
			if math.IsNaN(x) {
				t.Fatalf("%s: target %d missing on a global source", spec, k)
			}
		}
	}
}

func TestConservativeRenormalisesOverPresentCells(t *testing.T) {
	src := mustGrid(t, "uniform~1x1")
	dst := mustGrid(t, "uniform~2x2")
	in := field(src, func(lat, lon float64) float64 { return 1 })
	in[0] = math.NaN() // the cell at (-89.5, 0.5): one of the four under target (−89, 1)
	in[1], in[360], in[361] = 2, 3, 4
	out := remap(t, src, dst, Conservative, in)
	// The three present cells, weighted by area: the two at -88.5 are larger.
	a1 := math.Sin(-89*math.Pi/180) - math.Sin(-90*math.Pi/180)
	a2 := math.Sin(-88*math.Pi/180) - math.Sin(-89*math.Pi/180)
	if want := (2*a1 + 3*a2 + 4*a2) / (a1 + 2*a2); math.Abs(out[0]-want) > 1e-12 {
		t.Errorf("target with one missing source = %.15g, want %.15g", out[0], want)
	}
	in[1], in[360], in[361] = math.NaN(), math.NaN(), math.NaN()
	if out = remap(t, src, dst, Conservative, in); !math.IsNaN(out[0]) || math.IsNaN(out[1]) {
		t.Errorf("target with every source missing = %g, its neighbour %g", out[0], out[1])
	}
}

func TestBilinearAcrossTheSeam(t *testing.T) {
	// A 5° global source and a target with points between 355° and 360°,
	// on a -180..180 frame and a 0..360 frame.
	src := mustGrid(t, "uniform~5x5")
	f := func(lat, lon float64) float64 { return math.Cos(lon*math.Pi/180) + lat/90 }
	in := field(src, f)
	for _, spec := range []string{"uniform~-30:5:10x356:9:1", "uniform~-30:5:10x-4:9:1"} {
		dst := mustGrid(t, spec)
		out := remap(t, src, dst, Bilinear, in)
		for j, y := range dst.Lat {
			for i, x := range dst.Lon {
				// Linear between the source columns at 357.5 and 2.5 (362.5).
				xx := math.Mod(x+360, 360)
				if xx < 180 {
					xx += 360
				}
				fr := (xx - 357.5) / 5
				want := (1-fr)*f(y, 357.5) + fr*f(y, 2.5)
				if xx > 362.5 || xx < 357.5 {
					continue
				}
				if got := out[j*len(dst.Lon)+i]; math.Abs(got-want) > 1e-12 {
					t.Errorf("%s: (%g, %g) = %.15g, want %.15g", spec, y, x, got, want)
				}
			}
		}
	}
	// Away from the poles bilinear reproduces a field linear in lat and lon.
	lin := func(lat, lon float64) float64 { return 3*lat - 0.5*lon }
	dst := mustGrid(t, "uniform~-60:61:2x10:100:3.3")
	out := remap(t, src, dst, Bilinear, field(src, lin))
	for j, y := range dst.Lat {
		for i, x := range dst.Lon {
			if got := out[j*len(dst.Lon)+i]; math.Abs(got-lin(y, x)) > 1e-9 {
				t.Fatalf("(%g, %g) = %g, want %g", y, x, got, lin(y, x))
			}
		}
	}
}

func TestBilinearMissingCornerAndPoles(t *testing.T) {
	src := mustGrid(t, "uniform~10x10") // centres ±85
	in := field(src, func(lat, lon float64) float64 { return 1 })
	in[9*36+1] = math.NaN() // (5, 15)
	dst := mustGrid(t, "uniform~-89:90:2x0:180:2")
	out := remap(t, src, dst, Bilinear, in)
	at := func(lat, lon float64) float64 { return out[int((lat+89)/2)*180+int(lon/2)] }
	for _, p := range [][2]float64{{1, 6}, {9, 24}, {5, 16}, {7, 12}} {
		if !math.IsNaN(at(p[0], p[1])) {
			t.Errorf("(%g, %g) has the missing source as a corner but is %g", p[0], p[1], at(p[0], p[1]))
		}
	}
	for _, p := range [][2]float64{{-1, 6}, {11, 16}, {5, 26}, {-89, 0}, {89, 358}, {87, 100}} {
		if v := at(p[0], p[1]); math.Abs(v-1) > 1e-12 {
			t.Errorf("(%g, %g) = %g, want 1", p[0], p[1], v)
		}
	}
	// A latitude band is not extrapolated towards the poles.
	band, _ := Uniform(-25, 6, 10, 5, 36, 10)
	out = remap(t, band, dst, Bilinear, field(band, func(lat, lon float64) float64 { return 1 }))
	if v := out[int((-29+89)/2)*180]; math.Abs(v-1) > 1e-12 {
		t.Errorf("inside the outermost cells: %g, want 1", v)
	}
	if v := out[int((-31+89)/2)*180]; !math.IsNaN(v) {
		t.Errorf("outside the band: %g, want missing", v)
	}
}

func TestNearest(t *testing.T) {
	src := mustGrid(t, "uniform~10x10")
	in := field(src, func(lat, lon float64) float64 { return lat*1000 + lon })
	dst := mustGrid(t, "uniform~-88:30:6x1:60:6")
	out := remap(t, src, dst, Nearest, in)
	for j, y := range dst.Lat {
		for i, x := range dst.Lon {
			// Brute force over every source centre.
			best, want := math.Inf(1), 0.0
			for _, sy := range src.Lat {
				for _, sx := range src.Lon {
					if d := arc(y, x, sy, sx); d < best {
						best, want = d, sy*1000+sx
					}
				}
			}
			if got := out[j*len(dst.Lon)+i]; got != want {
				t.Errorf("(%g, %g) = %g, want %g", y, x, got, want)
			}
		}
	}
	// Outside a regional source: missing, not the edge value.
	box, _ := Uniform(-25, 6, 10, 5, 9, 10)
	out = remap(t, box, dst, Nearest, field(box, func(lat, lon float64) float64 { return 1 }))
	if !math.IsNaN(out[0]) || out[10*60+1] != 1 {
		t.Errorf("regional source: %g at (-88, 1), %g at (-28, 7)", out[0], out[10*60+1])
	}
}

// FuzzParseGrid: grid strings come from requests.
func FuzzParseGrid(f *testing.F) {
	for _, s := range []string{"uniform~2x2", "uniform~.25x.25", "uniform~-89:90:2x0:180:2", "gaussian~64", "T42", "uniform~1e-300x1", "gaussian~-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGrid(s)
		if err != nil {
			return
		}
		if len(g.Lat)*len(g.Lon) > MaxCells || len(g.LatBounds) != 2*len(g.Lat) || len(g.LonBounds) != 2*len(g.Lon) {
			t.Fatalf("%q: %d×%d grid with %d and %d bounds", s, len(g.Lat), len(g.Lon), len(g.LatBounds), len(g.LonBounds))
		}
		for _, b := range g.LatBounds {
			if !(b >= -90 && b <= 90) {
				t.Fatalf("%q: latitude bound %g", s, b)
			}
		}
	})
}

func BenchmarkParseLargestGaussian(b *testing.B) {
	for b.Loop() {
		if _, err := ParseGrid("gaussian~2896"); err != nil {
			b.Fatal(err)
		}
	}
}
