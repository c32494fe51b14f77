package ops

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/regrid"
)

// cdoGrid writes g as a CDO grid description, centres and bounds
// included, so CDO remaps to exactly the cells we do.
func cdoGrid(t testing.TB, g *regrid.Grid) string {
	t.Helper()
	var b strings.Builder
	list := func(name string, v []float64) {
		fmt.Fprintf(&b, "%s =", name)
		for _, x := range v {
			fmt.Fprintf(&b, " %.17g", x)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "gridtype = lonlat\nxsize = %d\nysize = %d\n", len(g.Lon), len(g.Lat))
	list("xvals", g.Lon)
	list("xbounds", g.LonBounds)
	list("yvals", g.Lat)
	list("ybounds", g.LatBounds)
	path := filepath.Join(t.TempDir(), "grid.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// regridToFile regrids a variable of a file and writes the result as a
// user would get it.
func regridToFile(t *testing.T, in, name string, dst *regrid.Grid, m regrid.Method) string {
	t.Helper()
	a := open(t, in, name)
	src, _, _, err := GridOf(a.Meta())
	if err != nil {
		t.Fatal(err)
	}
	p, err := regrid.NewPlan(src, dst, m)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Regrid(a, p)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "ours.nc")
	if _, err := Write(context.Background(), out, Dataset{r}, WriteOptions{SlabBytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	return out
}

const fill = 1e19 // anything above is the fill value

// sameGridValues compares two files' variable and coordinates within rel;
// accept, when not nil, may excuse a differing value (a tie).
func sameGridValues(t *testing.T, ours, ref, name string, rel float64, accept func(k int, want float64) bool) {
	t.Helper()
	got, gs := readFile(t, ours, name)
	want, ws := readFile(t, ref, name)
	if fmt.Sprint(gs) != fmt.Sprint(ws) {
		t.Fatalf("shape %v, CDO %v", gs, ws)
	}
	for _, c := range []string{"lat", "lon"} {
		gc, _ := readFile(t, ours, c)
		wc, _ := readFile(t, ref, c)
		for i := range wc {
			if math.Abs(gc[i]-wc[i]) > 1e-9 {
				t.Fatalf("%s[%d] = %.12g, CDO %.12g", c, i, gc[i], wc[i])
			}
		}
	}
	bad, excused, missing := 0, 0, 0
	for k := range want {
		g, w := got[k], want[k]
		if w > fill {
			missing++
		}
		if (g > fill) != (w > fill) || w < fill && math.Abs(g-w) > rel*math.Abs(w) {
			if accept != nil && accept(k, w) {
				excused++
				continue
			}
			if bad++; bad <= 5 {
				t.Errorf("value %d (index %v) = %.9g, CDO %.9g", k, unravel(k, gs), g, w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d values differ from CDO's", bad, len(want))
	}
	t.Logf("%d values, %d missing in both, %d ties", len(want), missing, excused)
}

func unravel(k int, shape []int) []int {
	idx := make([]int, len(shape))
	for i := len(shape) - 1; i >= 0; i-- {
		idx[i] = k % shape[i]
		k /= shape[i]
	}
	return idx
}

func mustParse(t testing.TB, spec string) *regrid.Grid {
	t.Helper()
	g, err := regrid.ParseGrid(spec)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var (
	fineOnce sync.Once
	finePath string
	fineErr  error
)

// fineFile is a 1°×1.25° global field, latitudes north to south and
// longitudes -180..180 with bounds, float32, with a missing patch over
// "land" in some steps: the layout of many reanalyses.
func fineFile(t *testing.T) string {
	t.Helper()
	fineOnce.Do(func() {
		finePath = filepath.Join(sampleData(t), "fine.nc")
		fineErr = writeFine(finePath)
	})
	if fineErr != nil {
		t.Fatal(fineErr)
	}
	return finePath
}

func fineValue(d int, lat, lon float64) float64 {
	if d%2 == 1 && lat > 20 && lat < 45 && lon > -10 && lon < 30 {
		return math.NaN()
	}
	r := math.Pi / 180
	return float64(float32(250 + 40*math.Cos(lat*r) + 8*math.Sin(3*lon*r+float64(d))*math.Cos(2*lat*r) + 3*math.Sin(7*lat*r)*math.Cos(5*lon*r)))
}

func writeFine(path string) error {
	const nt, ny, nx = 4, 180, 288
	f, err := netcdf.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	text := func(n, v string) netcdf.Attr { return netcdf.Attr{Name: n, Value: v} }
	td, _ := f.DefDim("time", 0)
	yd, _ := f.DefDim("lat", ny)
	xd, _ := f.DefDim("lon", nx)
	bd, _ := f.DefDim("bnds", 2)
	tid, _ := f.DefVar("time", netcdf.Double, []int{td})
	f.PutAttr(tid, text("units", "days since 2000-01-01"))
	f.PutAttr(tid, text("calendar", "standard"))
	yid, _ := f.DefVar("lat", netcdf.Double, []int{yd})
	f.PutAttr(yid, text("units", "degrees_north"))
	f.PutAttr(yid, text("bounds", "lat_bnds"))
	ybid, _ := f.DefVar("lat_bnds", netcdf.Double, []int{yd, bd})
	xid, _ := f.DefVar("lon", netcdf.Double, []int{xd})
	f.PutAttr(xid, text("units", "degrees_east"))
	f.PutAttr(xid, text("bounds", "lon_bnds"))
	xbid, _ := f.DefVar("lon_bnds", netcdf.Double, []int{xd, bd})
	vid, err := f.DefVar("ts", netcdf.Float, []int{td, yd, xd})
	if err != nil {
		return err
	}
	f.PutAttr(vid, netcdf.Attr{Name: "_FillValue", Value: []float32{1e20}})
	if err := f.EndDef(); err != nil {
		return err
	}
	lat, lon := make([]float64, ny), make([]float64, nx)
	lb, xb := make([]float64, 2*ny), make([]float64, 2*nx)
	for j := range lat {
		lat[j] = 89.5 - float64(j)
		lb[2*j], lb[2*j+1] = lat[j]+0.5, lat[j]-0.5
	}
	for i := range lon {
		lon[i] = -180 + 1.25*float64(i)
		xb[2*i], xb[2*i+1] = lon[i]-0.625, lon[i]+0.625
	}
	for _, w := range []struct {
		id   int
		s, c []int
		v    []float64
	}{{yid, []int{0}, []int{ny}, lat}, {xid, []int{0}, []int{nx}, lon}, {ybid, []int{0, 0}, []int{ny, 2}, lb}, {xbid, []int{0, 0}, []int{nx, 2}, xb}} {
		if err := f.Write(w.id, w.s, w.c, w.v); err != nil {
			return err
		}
	}
	slab := make([]float64, ny*nx)
	for d := 0; d < nt; d++ {
		for j := range lat {
			for i := range lon {
				v := fineValue(d, lat[j], lon[i])
				if math.IsNaN(v) {
					v = float64(float32(1e20))
				}
				slab[j*nx+i] = v
			}
		}
		if err := f.Write(tid, []int{d}, []int{1}, []float64{float64(d)}); err != nil {
			return err
		}
		if err := f.Write(vid, []int{d, 0, 0}, []int{1, ny, nx}, slab); err != nil {
			return err
		}
	}
	return nil
}

func TestRegridMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	pr := filepath.Join(dir, "pr_mon_360day.nc")
	tas := filepath.Join(dir, "tas_day_2000.nc")
	fine := fineFile(t)
	u2 := mustParse(t, "uniform~2x2")
	t42 := mustParse(t, "T42")
	cases := []struct {
		name, in, v, op string
		dst             *regrid.Grid
		m               regrid.Method
	}{
		{"bilinear pr to uniform~2x2", pr, "pr", "remapbil", u2, regrid.Bilinear},
		{"bilinear tas to uniform~2x2", tas, "tas", "remapbil", u2, regrid.Bilinear},
		{"bilinear pr to T42", pr, "pr", "remapbil", t42, regrid.Bilinear},
		{"bilinear fine to uniform~2x2", fine, "ts", "remapbil", u2, regrid.Bilinear},
		{"bilinear fine to T42", fine, "ts", "remapbil", t42, regrid.Bilinear},
		{"conservative pr to uniform~2x2", pr, "pr", "remapcon", u2, regrid.Conservative},
		{"conservative tas to T42", tas, "tas", "remapcon", t42, regrid.Conservative},
		{"conservative fine to uniform~2x2", fine, "ts", "remapcon", u2, regrid.Conservative},
		{"conservative fine to T42", fine, "ts", "remapcon", t42, regrid.Conservative},
		{"conservative fine to uniform~.5x.5", fine, "ts", "remapcon", mustParse(t, "uniform~.5x.5"), regrid.Conservative},
		{"nearest pr to uniform~2x2", pr, "pr", "remapnn", u2, regrid.Nearest},
		{"nearest fine to T42", fine, "ts", "remapnn", t42, regrid.Nearest},
		{"nearest tas to T63", tas, "tas", "remapnn", mustParse(t, "T63"), regrid.Nearest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ours := regridToFile(t, c.in, c.v, c.dst, c.m)
			ref := filepath.Join(t.TempDir(), "cdo.nc")
			cdo(t, "-f", "nc4", c.op+","+cdoGrid(t, c.dst), c.in, ref)
			var accept func(int, float64) bool
			if c.m == regrid.Nearest {
				accept = nearestTie(t, c.in, c.v, c.dst)
			}
			sameGridValues(t, ours, ref, c.v, 1e-5, accept)
		})
	}
}

// nearestTie excuses a nearest-neighbour value that differs from CDO's
// only because two source centres are equally near the target: which one
// wins is then a matter of rounding.
func nearestTie(t *testing.T, in, name string, dst *regrid.Grid) func(int, float64) bool {
	src, _, _, err := GridOf(open(t, in, name).Meta())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := readFile(t, in, name)
	ny, nx := len(src.Lat), len(src.Lon)
	return func(k int, want float64) bool {
		it := k % len(dst.Lon)
		jt := k / len(dst.Lon) % len(dst.Lat)
		step := k / (len(dst.Lon) * len(dst.Lat))
		y, x := dst.Lat[jt], dst.Lon[it]
		d := make([]float64, ny*nx)
		best := math.Inf(1)
		for j := range src.Lat {
			for i := range src.Lon {
				d[j*nx+i] = distance(y, x, src.Lat[j], src.Lon[i])
				best = math.Min(best, d[j*nx+i])
			}
		}
		near := 0
		ok := false
		for s, ds := range d {
			if ds <= best*(1+1e-9)+1e-12 {
				near++
				v := data[step*ny*nx+s]
				ok = ok || v == want || math.Abs(v-want) <= 1e-6*math.Abs(want)
			}
		}
		return near > 1 && ok
	}
}

func distance(lat1, lon1, lat2, lon2 float64) float64 {
	r := math.Pi / 180
	c := math.Sin(lat1*r)*math.Sin(lat2*r) + math.Cos(lat1*r)*math.Cos(lat2*r)*math.Cos((lon2-lon1)*r)
	return math.Acos(math.Max(-1, math.Min(1, c)))
}

// CDO's own names for the grids we offer describe the same points:
// r180x90 is uniform~-89:90:2x0:180:2 (uniform~2x2 is offset by 1° in
// longitude) and n32 is T42 = gaussian~64, north to south.
func TestCDONamedGrids(t *testing.T) {
	dir := sampleData(t)
	pr := filepath.Join(dir, "pr_mon_360day.nc")
	ours := regridToFile(t, pr, "pr", mustParse(t, "uniform~-89:90:2x0:180:2"), regrid.Bilinear)
	ref := filepath.Join(t.TempDir(), "r180x90.nc")
	cdo(t, "-f", "nc4", "remapbil,r180x90", pr, ref)
	sameGridValues(t, ours, ref, "pr", 1e-5, nil)

	n32 := filepath.Join(t.TempDir(), "n32.nc")
	cdo(t, "-f", "nc4", "const,1,n32", n32)
	lat, _ := readFile(t, n32, "lat")
	lon, _ := readFile(t, n32, "lon")
	g := mustParse(t, "T42")
	if len(lat) != len(g.Lat) || len(lon) != len(g.Lon) {
		t.Fatalf("n32 is %d×%d, T42 %d×%d", len(lat), len(lon), len(g.Lat), len(g.Lon))
	}
	for j := range lat {
		if math.Abs(lat[j]-g.Lat[len(lat)-1-j]) > 1e-10 {
			t.Errorf("n32 latitude %d = %.15g, ours %.15g", j, lat[j], g.Lat[len(lat)-1-j])
		}
	}
	for i := range lon {
		if math.Abs(lon[i]-g.Lon[i]) > 1e-10 {
			t.Errorf("n32 longitude %d = %.15g, ours %.15g", i, lon[i], g.Lon[i])
		}
	}
	// CDO puts the edges of n32's cells half-way between latitudes; ours
	// bound each band by the Gaussian weights, so that its area is exact.
	// With CDO's cells (our NewGrid's default bounds) remapcon agrees.
	mid, err := regrid.NewGrid(g.Lat, g.Lon, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ours = regridToFile(t, pr, "pr", mid, regrid.Conservative)
	cdo(t, "-f", "nc4", "remapcon,n32", pr, ref)
	got, _ := readFile(t, ours, "pr")
	want, _ := readFile(t, ref, "pr")
	for k := range want {
		i, j, step := k%128, k/128%64, k/(128*64)
		w, v := want[k], got[(step*64+63-j)*128+i]
		if (v > fill) != (w > fill) || w < fill && math.Abs(v-w) > 1e-5*math.Abs(w) {
			t.Fatalf("remapcon,n32 value %d = %g, ours on the same cells %g", k, w, v)
		}
	}
}

// A field that depends on longitude only, regridded bilinearly, is as
// smooth across 0°/360° as anywhere else.
func TestRegridNoSeam(t *testing.T) {
	dir := sampleData(t)
	tas := open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas")
	src, _, _, _ := GridOf(tas.Meta())
	dst := mustParse(t, "uniform~-30:3:30x-10:20:1") // 350°..9° through the seam
	p, err := regrid.NewPlan(src, dst, regrid.Bilinear)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Regrid(tas, p)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 3*20)
	if err := r.Read(context.Background(), []int{0, 0, 0}, []int{1, 3, 20}, nil, got); err != nil {
		t.Fatal(err)
	}
	// tas varies with longitude as 2 sin(lon): between source columns the
	// result is the chord, so second differences are zero except at the
	// columns, and the same on both sides of the seam.
	for j := 0; j < 3; j++ {
		row := got[j*20 : j*20+20]
		for i := 1; i < 19; i++ {
			x := dst.Lon[i]
			d2 := row[i-1] - 2*row[i] + row[i+1]
			onColumn := math.Mod(x+360, 5) == 0
			if !onColumn && math.Abs(d2) > 1e-4 {
				t.Errorf("lat %g lon %g: second difference %g off a source column", dst.Lat[j], x, d2)
			}
			if math.IsNaN(row[i]) {
				t.Errorf("lat %g lon %g is missing", dst.Lat[j], x)
			}
		}
	}
}

func TestRegridReadsAnySlab(t *testing.T) {
	dir := sampleData(t)
	pr := open(t, filepath.Join(dir, "pr_mon_360day.nc"), "pr")
	src, _, _, _ := GridOf(pr.Meta())
	for _, m := range []regrid.Method{regrid.Bilinear, regrid.Conservative, regrid.Nearest} {
		p, err := regrid.NewPlan(src, mustParse(t, "T21"), m)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Regrid(pr, p)
		if err != nil {
			t.Fatal(err)
		}
		all := readAll(t, r)
		shape := r.Meta().Shape()
		if fmt.Sprint(shape) != "[24 32 64]" {
			t.Fatalf("shape %v", shape)
		}
		// A strided piece equals the same elements of the whole, also
		// when fields are read a few rows at a time.
		for _, budget := range []int{regridBudget, 5 * 72} {
			saved := regridBudget
			regridBudget = budget
			start, count, stride := []int{3, 5, 7}, []int{4, 6, 9}, []int{5, 4, 6}
			part := make([]float64, product(count))
			err := r.Read(context.Background(), start, count, stride, part)
			banded := readAll(t, r)
			regridBudget = saved
			if err != nil {
				t.Fatal(err)
			}
			for a := 0; a < 4; a++ {
				for b := 0; b < 6; b++ {
					for c := 0; c < 9; c++ {
						w := all[((3+5*a)*32+5+4*b)*64+7+6*c]
						g := part[(a*6+b)*9+c]
						if g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
							t.Fatalf("%v, budget %d: [%d %d %d] = %g, whole read %g", m, budget, a, b, c, g, w)
						}
					}
				}
			}
			for k := range all {
				if all[k] != banded[k] && !(math.IsNaN(all[k]) && math.IsNaN(banded[k])) {
					t.Fatalf("%v, budget %d: value %d = %g, %g in one piece", m, budget, k, banded[k], all[k])
				}
			}
		}
	}
}

func TestRegridStopsWhenCancelled(t *testing.T) {
	dir := sampleData(t)
	tas := open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas")
	src, _, _, _ := GridOf(tas.Meta())
	p, _ := regrid.NewPlan(src, mustParse(t, "uniform~2x2"), regrid.Bilinear)
	r, err := Regrid(tas, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	buf := make([]float64, 365*90*180)
	if err := r.Read(ctx, []int{0, 0, 0}, []int{365, 90, 180}, nil, buf); err != context.Canceled {
		t.Errorf("read with a cancelled context: %v", err)
	}
}

// The conservative result keeps the area-weighted global mean of every
// step (no values missing), with areas from the cell bounds.
func TestRegridConservesTheMean(t *testing.T) {
	dir := sampleData(t)
	tas := open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas")
	src, _, _, _ := GridOf(tas.Meta())
	for _, spec := range []string{"uniform~2x2", "T63", "uniform~7.5x10"} {
		dst := mustParse(t, spec)
		p, _ := regrid.NewPlan(src, dst, regrid.Conservative)
		r, err := Regrid(tas, p)
		if err != nil {
			t.Fatal(err)
		}
		before, after := make([]float64, 36*72), make([]float64, len(dst.Lat)*len(dst.Lon))
		for _, step := range []int{0, 200} {
			tas.Read(context.Background(), []int{step, 0, 0}, []int{1, 36, 72}, nil, before)
			r.Read(context.Background(), []int{step, 0, 0}, []int{1, len(dst.Lat), len(dst.Lon)}, nil, after)
			a, b := gridMean(src, before), gridMean(dst, after)
			if math.Abs(a-b) > 1e-6*math.Abs(a) {
				t.Errorf("%s step %d: mean %.10g before, %.10g after", spec, step, a, b)
			}
		}
	}
}

func gridMean(g *regrid.Grid, v []float64) float64 {
	r := math.Pi / 180
	num, den := 0.0, 0.0
	for j := range g.Lat {
		band := math.Abs(math.Sin(g.LatBounds[2*j+1]*r) - math.Sin(g.LatBounds[2*j]*r))
		for i := range g.Lon {
			a := band * math.Abs(g.LonBounds[2*i+1]-g.LonBounds[2*i])
			num += a * v[j*len(g.Lon)+i]
			den += a
		}
	}
	return num / den
}

func TestRegridOutputCoordinates(t *testing.T) {
	dir := sampleData(t)
	out := regridToFile(t, filepath.Join(dir, "pr_mon_360day.nc"), "pr", mustParse(t, "T21"), regrid.Conservative)
	f, err := netcdf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, want := range map[string]string{"lat": "degrees_north latitude Y lat_bnds", "lon": "degrees_east longitude X lon_bnds"} {
		v, err := f.Var(name)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range []string{"units", "standard_name", "axis", "bounds"} {
			at, _ := v.Attr(a)
			s, _ := at.Text()
			got = append(got, s)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s attributes %v, want %s", name, got, want)
		}
	}
	b, _ := readFile(t, out, "lat_bnds")
	if b[0] != -90 || b[len(b)-1] != 90 {
		t.Errorf("latitude bounds from %g to %g", b[0], b[len(b)-1])
	}
	if v, _ := f.Var("pr"); fmt.Sprint(v.Shape()) != "[24 32 64]" {
		t.Errorf("pr shape %v", v.Shape())
	}
}

func TestGridOfRefusesOtherData(t *testing.T) {
	dir := sampleData(t)
	tas := open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas")
	sub, err := Take(tas, map[string][]int{"lon": {3}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := GridOf(sub.Meta()); err != nil {
		t.Errorf("a single longitude is still a grid: %v", err)
	}
	m := *tas.Meta()
	m.Dims = append([]Dim(nil), m.Dims...)
	m.Dims[2].Coord = nil
	if _, _, _, err := GridOf(&m); err == nil || !strings.Contains(err.Error(), "no latitude and longitude") {
		t.Errorf("no longitude: %v", err)
	}
}

// BenchmarkRegridBilinear2deg regrids the 1° benchmark year to 2°
// (CDO's r180x90) and writes it, against BenchmarkCDORemapbil2deg.
func BenchmarkRegridBilinear2deg(b *testing.B) {
	dst := mustParse(b, "uniform~-89:90:2x0:180:2")
	benchOurs(b, func(a Array) (Array, error) {
		src, _, _, err := GridOf(a.Meta())
		if err != nil {
			return nil, err
		}
		p, err := regrid.NewPlan(src, dst, regrid.Bilinear)
		if err != nil {
			return nil, err
		}
		return Regrid(a, p)
	})
}

func BenchmarkCDORemapbil2deg(b *testing.B) { benchCDO(b, "remapbil,r180x90") }
