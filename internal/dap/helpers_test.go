package dap_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/computewps/computewps/internal/dap/daptest"
	"github.com/computewps/computewps/internal/netcdf"
)

func TestMain(m *testing.M) {
	code := daptest.Run(m)
	removeBigFile()
	os.Exit(code)
}

// The CF fixture: large enough that libnetcdf fetches tas and pr by
// hyperslab instead of prefetching them whole.
const (
	nTime = 8
	nLat  = 36
	nLon  = 72
)

// tasValue is exact in float32.
func tasValue(t, y, x int) float64 { return 200 + float64(t) + float64(y)/2 + float64(x)/4 }

func prValue(t, y, x int) int { return (t*1000+y*37+x)%30000 - 15000 }

// cfCDL returns a CF file with an unlimited time, a Grid, a time-bounds
// Array, a packed short, scalars, text and one variable of every type.
func cfCDL() string {
	var b strings.Builder
	b.WriteString(`netcdf cf {
dimensions:
	time = UNLIMITED ;
	lat = 36 ;
	lon = 72 ;
	bnds = 2 ;
	station = 3 ;
	name_len = 8 ;
variables:
	double time(time) ;
		time:standard_name = "time" ;
		time:units = "days since 2000-01-01 00:00:00" ;
		time:calendar = "noleap" ;
		time:bounds = "time_bnds" ;
		time:axis = "T" ;
	double time_bnds(time, bnds) ;
	double lat(lat) ;
		lat:units = "degrees_north" ;
		lat:standard_name = "latitude" ;
	float lon(lon) ;
		lon:units = "degrees_east" ;
	float tas(time, lat, lon) ;
		tas:standard_name = "air_temperature" ;
		tas:units = "K" ;
		tas:_FillValue = 1.e+20f ;
		tas:missing_value = 1.e+20f ;
		tas:valid_range = 150.f, 350.f ;
		tas:cell_methods = "time: mean" ;
	short pr(time, lat, lon) ;
		pr:scale_factor = 1.e-05 ;
		pr:add_offset = 0.3 ;
		pr:_FillValue = -32767s ;
		pr:units = "kg m-2 s-1" ;
	int count(time) ;
	double height ;
		height:units = "m" ;
	float level ;
		level:note = "a float scalar" ;
	char station_name(station, name_len) ;
		station_name:long_name = "station \"name\"" ;
	char label(name_len) ;
	char initial ;
	byte quality(station) ;
		quality:_FillValue = -127b ;
		quality:flag_values = -1b, 0b, 1b ;
	ubyte ub(station) ;
		ub:_FillValue = 255UB ;
	ushort us(station) ;
		us:valid_max = 65534US ;
	uint ui(station) ;
	int64 i64(station) ;
		i64:_FillValue = -9007199254740992LL ;
	uint64 u64(station) ;
	string note(station) ;

// global attributes:
		:Conventions = "CF-1.7" ;
		:title = "Quotes \" and backslashes \\ in \"ComputeWPS\" \\o/" ;
		:history = "2000-01-01: created\nby a test" ;
		:comment = "tab\tand unicode: é °" ;
		:not_a_number = NaN ;
		:numbers = 1, 2, 3 ;
		:empty = "" ;
data:
`)
	list := func(name string, n int, f func(i int) string) {
		fmt.Fprintf(&b, " %s = ", name)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f(i))
		}
		b.WriteString(" ;\n")
	}
	list("time", nTime, func(i int) string { return fmt.Sprint(float64(i) + 0.5) })
	list("time_bnds", 2*nTime, func(i int) string { return fmt.Sprint(i/2 + i%2) })
	list("lat", nLat, func(i int) string { return fmt.Sprint(-87.5 + 5*float64(i)) })
	list("lon", nLon, func(i int) string { return fmt.Sprint(2.5 + 5*float64(i)) })
	list("tas", nTime*nLat*nLon, func(i int) string {
		if i == 5 {
			return "_"
		}
		return fmt.Sprint(tasValue(i/(nLat*nLon), i/nLon%nLat, i%nLon))
	})
	list("pr", nTime*nLat*nLon, func(i int) string {
		if i == 7 {
			return "_"
		}
		return fmt.Sprint(prValue(i/(nLat*nLon), i/nLon%nLat, i%nLon))
	})
	list("count", nTime, func(i int) string { return fmt.Sprint(i * 1000) })
	b.WriteString(` height = 2 ;
 level = 850.5 ;
 station_name = "Paris", "Tromsø", "A" ;
 label = "dataset" ;
 initial = "Z" ;
 quality = -1, _, 1 ;
 ub = 0, 128, 255 ;
 us = 1, 40000, 65535 ;
 ui = 0, 3000000000, 4294967295 ;
 i64 = -9007199254740992, 0, 9007199254740992 ;
 u64 = 0, 1, 18014398509481984 ;
 note = "not", "served", "by DAP2" ;
}
`)
	return b.String()
}

// writeCF writes the CF fixture with ncgen as dir/cf.nc.
func writeCF(t *testing.T, dir string) string {
	t.Helper()
	return ncgen(t, dir, "cf", cfCDL())
}

func ncgen(t *testing.T, dir, name, cdl string) string {
	t.Helper()
	bin, err := exec.LookPath("ncgen")
	if err != nil {
		t.Fatal("ncgen is not on PATH: run scripts/setup.sh test to install netcdf-bin")
	}
	src := filepath.Join(dir, name+".cdl")
	nc := filepath.Join(dir, name+".nc")
	if err := os.WriteFile(src, []byte(cdl), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-k", "nc4", "-o", nc, src).CombinedOutput(); err != nil {
		t.Fatalf("ncgen: %v\n%s", err, out)
	}
	return nc
}

func ncdump(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("ncdump")
	if err != nil {
		t.Fatal("ncdump is not on PATH: run scripts/setup.sh test to install netcdf-bin")
	}
	return bin
}

// servedType is the type libnetcdf reports for a variable of type t read
// through this server: the package's DAP2 mapping, then libnetcdf's, which
// gives DAP2 unsigned types the signed netCDF type of the same size.
func servedType(t netcdf.Type) netcdf.Type {
	switch t {
	case netcdf.Byte:
		return netcdf.Short
	case netcdf.UByte:
		return netcdf.Byte
	case netcdf.UShort:
		return netcdf.Short
	case netcdf.UInt:
		return netcdf.Int
	case netcdf.Int64, netcdf.UInt64:
		return netcdf.Double
	}
	return t
}

// servedValue is value v of a variable of type t as ncdump prints it: in
// the type libnetcdf reports, so the bits of unsigned values read as
// signed. Reading as double (File.Read) gives v itself: libnetcdf converts
// from the DAP2 type.
func servedValue(t netcdf.Type, v float64) float64 {
	switch t {
	case netcdf.UByte:
		return float64(int8(uint8(v)))
	case netcdf.UShort:
		return float64(int16(uint16(v)))
	case netcdf.UInt:
		return float64(int32(uint32(v)))
	}
	return v
}

func convert[S, D int8 | int16 | int32 | float64 | uint8 | uint16 | uint32 | int64 | uint64](s []S) []D {
	out := make([]D, len(s))
	for i, v := range s {
		out[i] = D(v)
	}
	return out
}

// servedAttr is attribute a as libnetcdf reports it, mapped like values.
func servedAttr(a netcdf.Attr) netcdf.Attr {
	switch v := a.Value.(type) {
	case []int8:
		a.Value = convert[int8, int16](v)
	case []uint8:
		a.Value = convert[uint8, int8](v)
	case []uint16:
		a.Value = convert[uint16, int16](v)
	case []uint32:
		a.Value = convert[uint32, int32](v)
	case []int64:
		a.Value = convert[int64, float64](v)
	case []uint64:
		a.Value = convert[uint64, float64](v)
	}
	return a
}

// extraAttr reports attributes libnetcdf adds to what the file has: the DAP
// hints it shows (DODS.strlen, DODS_EXTRA.Unlimited_Dimension), and the
// _Unsigned this server adds to unsigned variables.
func extraAttr(name string, unsigned bool) bool {
	return strings.HasPrefix(name, "DODS") || unsigned && name == "_Unsigned"
}

// sameAttrs compares attributes, NaN equal to NaN.
func sameAttrs(t *testing.T, what string, got, want []netcdf.Attr, unsigned bool) {
	t.Helper()
	var kept []netcdf.Attr
	sawUnsigned := false
	for _, a := range got {
		if a.Name == "_Unsigned" && unsigned {
			sawUnsigned = true
			if a.Value != "true" {
				t.Errorf("%s: _Unsigned = %#v, want \"true\"", what, a.Value)
			}
		}
		if !extraAttr(a.Name, unsigned) {
			kept = append(kept, a)
		}
	}
	if unsigned && !sawUnsigned {
		t.Errorf("%s: no _Unsigned attribute", what)
	}
	var served []netcdf.Attr
	for _, a := range want {
		served = append(served, servedAttr(a))
	}
	if len(kept) != len(served) {
		t.Errorf("%s: attributes\n got %#v\nwant %#v", what, kept, served)
		return
	}
	for i := range kept {
		g, w := kept[i], served[i]
		gf, _ := g.Float64s()
		wf, _ := w.Float64s()
		if g.Name != w.Name || reflect.TypeOf(g.Value) != reflect.TypeOf(w.Value) ||
			(gf == nil && !reflect.DeepEqual(g.Value, w.Value)) || !sameFloats(gf, wf) {
			t.Errorf("%s: attribute %d = %#v, want %#v", what, i, g, w)
		}
	}
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

// readAll reads a whole numeric variable.
func readAll(t *testing.T, f *netcdf.File, v netcdf.Var) []float64 {
	t.Helper()
	shape := v.Shape()
	n := 1
	for _, s := range shape {
		n *= s
	}
	out := make([]float64, n)
	if err := f.Read(v.ID, make([]int, len(shape)), shape, nil, out); err != nil {
		t.Fatalf("read %s from %s: %v", v.Name, f.URI(), err)
	}
	return out
}

// servedVar reports whether this server serves variables of type t.
func servedVar(t netcdf.Type) bool { return t != netcdf.String }

// compareDataset checks that got (a file read through the server, or
// regenerated from what ncdump printed, printed says which) holds every
// variable of want with the same dimensions, attributes and values, after
// the documented type mapping, and want's global attributes.
func compareDataset(t *testing.T, got, want *netcdf.File, printed bool) {
	t.Helper()
	wantVars, err := want.Vars()
	if err != nil {
		t.Fatal(err)
	}
	gotVars, err := got.Vars()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]netcdf.Var{}
	for _, v := range gotVars {
		byName[v.Name] = v
	}
	served := 0
	for _, w := range wantVars {
		g, ok := byName[w.Name]
		if !servedVar(w.Type) {
			if ok {
				t.Errorf("variable %s of type %s is served", w.Name, w.Type)
			}
			continue
		}
		served++
		if !ok {
			t.Errorf("variable %s is missing from %s", w.Name, got.URI())
			continue
		}
		if g.Type != servedType(w.Type) {
			t.Errorf("%s: type %s, want %s (from %s)", w.Name, g.Type, servedType(w.Type), w.Type)
		}
		if w.Type == netcdf.Char && len(w.Dims) == 0 {
			// A scalar char has no dimension to name; libnetcdf makes one.
			w.Dims = []netcdf.Dim{{Name: "maxStrlen1", Len: 1}}
		}
		if len(g.Dims) != len(w.Dims) {
			t.Errorf("%s: dimensions %+v, want %+v", w.Name, g.Dims, w.Dims)
			continue
		}
		for i := range g.Dims {
			if g.Dims[i].Name != w.Dims[i].Name || g.Dims[i].Len != w.Dims[i].Len || g.Dims[i].Unlimited != w.Dims[i].Unlimited {
				t.Errorf("%s: dimension %d is %+v, want %+v", w.Name, i, g.Dims[i], w.Dims[i])
			}
		}
		unsigned := w.Type == netcdf.UByte || w.Type == netcdf.UShort || w.Type == netcdf.UInt
		sameAttrs(t, w.Name, g.Attrs, w.Attrs, unsigned)
		if w.Type == netcdf.Char {
			gs, err1 := got.ReadText(g.ID)
			ws, err2 := want.ReadText(w.ID)
			if err1 != nil || err2 != nil || !reflect.DeepEqual(gs, ws) {
				t.Errorf("%s: text %q (%v), want %q (%v)", w.Name, gs, err1, ws, err2)
			}
			continue
		}
		gv, wv := readAll(t, got, g), readAll(t, want, w)
		for i := range wv {
			if printed {
				wv[i] = servedValue(w.Type, wv[i])
			}
		}
		if !sameFloats(gv, wv) {
			t.Errorf("%s: values differ: got %v..., want %v...", w.Name, head(gv), head(wv))
		}
	}
	if served != len(gotVars) {
		t.Errorf("%s has %d variables, want %d", got.URI(), len(gotVars), served)
	}
	wantGlobals, err1 := want.Attrs()
	gotGlobals, err2 := got.Attrs()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	sameAttrs(t, "global", gotGlobals, wantGlobals, false)
}

func head(s []float64) []float64 { return s[:min(len(s), 8)] }
