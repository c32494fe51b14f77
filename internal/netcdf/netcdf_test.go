package netcdf

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	nTime = 5
	nLat  = 4
	nLon  = 5
)

var fill32 = float32(1e20)

// globalAttrs has one attribute of every Value kind.
var globalAttrs = []Attr{
	{"title", "round trip"},
	{"strings", []string{"a", "bc", ""}},
	{"one_string", []string{"only"}},
	{"i8", []int8{-128, 0, 127}},
	{"u8", []uint8{0, 255}},
	{"i16", []int16{-32768, 32767}},
	{"u16", []uint16{65535}},
	{"i32", []int32{math.MinInt32, 7}},
	{"u32", []uint32{math.MaxUint32}},
	{"i64", []int64{math.MinInt64, math.MaxInt64}},
	{"u64", []uint64{math.MaxUint64}},
	{"f32", []float32{1.5, -0.25}},
	{"f64", []float64{math.Pi, math.Inf(1)}},
	{"empty_text", ""},
	{"empty_ints", []int32{}},
	{"nul_terminated", "abc\x00"},
}

// tasValue is exactly representable as float32, so float64 round trips are exact.
func tasValue(t, y, x int) float64 { return float64(float32(200+t*10+y) + float32(x)/4) }

func qualityValue(t, y int) float64 { return float64(t*100 - y) }

// writeRoundTrip creates the round-trip file, writing tas as several
// hyperslabs so that the unlimited dimension grows, with time step 3 left to
// the fill value.
func writeRoundTrip(t *testing.T, path string) {
	t.Helper()
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	def := func(id int, err error) int {
		t.Helper()
		must(err)
		return id
	}
	dt := def(f.DefDim("time", 0))
	dy := def(f.DefDim("lat", nLat))
	dx := def(f.DefDim("lon", nLon))
	vt := def(f.DefVar("time", Double, []int{dt}))
	vy := def(f.DefVar("lat", Double, []int{dy}))
	vx := def(f.DefVar("lon", Double, []int{dx}))
	tas := def(f.DefVar("tas", Float, []int{dt, dy, dx}))
	q := def(f.DefVar("quality", Short, []int{dt, dy}))
	sc := def(f.DefVar("height", Double, nil))
	must(f.PutAttr(vt, Attr{"units", "days since 2000-01-01"}))
	must(f.PutAttr(vy, Attr{"units", "degrees_north"}))
	must(f.PutAttr(tas, Attr{"_FillValue", []float32{fill32}}))
	must(f.PutAttr(tas, Attr{"units", "K"}))
	must(f.PutAttr(q, Attr{"valid_range", []int16{-1000, 1000}}))
	must(f.SetDeflate(tas, true, 4))
	must(f.SetChunking(tas, []int{1, nLat, nLon}))
	must(f.SetChunking(vy, nil))
	for _, a := range globalAttrs {
		must(f.PutAttr(Global, a))
	}
	must(f.EndDef())

	lat := []float64{-45, -15, 15, 45}
	must(f.Write(vy, []int{0}, []int{nLat}, lat))
	must(f.Write(vx, []int{0}, []int{nLon}, []float64{0, 72, 144, 216, 288}))
	must(f.Write(sc, nil, nil, []float64{2}))
	slab := func(t0, nt int) []float64 {
		var s []float64
		for ti := t0; ti < t0+nt; ti++ {
			for y := range nLat {
				for x := range nLon {
					s = append(s, tasValue(ti, y, x))
				}
			}
		}
		return s
	}
	must(f.Write(tas, []int{0, 0, 0}, []int{2, nLat, nLon}, slab(0, 2)))
	must(f.Write(tas, []int{2, 0, 0}, []int{1, nLat, nLon}, slab(2, 1)))
	// Skipping step 3 grows time to 5 and leaves step 3 filled.
	must(f.Write(tas, []int{4, 0, 0}, []int{1, nLat, nLon}, slab(4, 1)))
	// An inner hyperslab overwriting part of step 0.
	must(f.Write(tas, []int{0, 1, 1}, []int{1, 2, 3}, []float64{1, 2, 3, 4, 5, 6}))
	must(f.Write(vt, []int{0}, []int{nTime}, []float64{0, 1, 2, 3, 4}))
	for ti := range nTime {
		row := make([]float64, nLat)
		for y := range row {
			row[y] = qualityValue(ti, y)
		}
		must(f.Write(q, []int{ti, 0}, []int{1, nLat}, row))
	}
	must(f.Close())
	must(f.Close()) // idempotent
}

// expectedTas is tas as writeRoundTrip leaves it, in C order.
func expectedTas() []float64 {
	var e []float64
	for ti := range nTime {
		for y := range nLat {
			for x := range nLon {
				v := tasValue(ti, y, x)
				if ti == 3 {
					v = float64(fill32)
				}
				if ti == 0 && y >= 1 && y <= 2 && x >= 1 && x <= 3 {
					v = float64((y-1)*3 + x)
				}
				e = append(e, v)
			}
		}
	}
	return e
}

func at(a []float64, t, y, x int) float64 { return a[(t*nLat+y)*nLon+x] }

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rt.nc")
	writeRoundTrip(t, path)

	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.URI() != path {
		t.Errorf("URI() = %q, want %q", f.URI(), path)
	}

	dims, err := f.Dims()
	if err != nil {
		t.Fatal(err)
	}
	wantDims := []Dim{{0, "time", nTime, true}, {1, "lat", nLat, false}, {2, "lon", nLon, false}}
	if !reflect.DeepEqual(dims, wantDims) {
		t.Errorf("Dims() = %+v, want %+v", dims, wantDims)
	}
	if d, err := f.Dim("lon"); err != nil || d != wantDims[2] {
		t.Errorf("Dim(lon) = %+v, %v", d, err)
	}

	vars, err := f.Vars()
	if err != nil {
		t.Fatal(err)
	}
	tD, yD, xD := wantDims[0], wantDims[1], wantDims[2]
	wantVars := []Var{
		{0, "time", Double, []Dim{tD}, []Attr{{"units", "days since 2000-01-01"}}},
		{1, "lat", Double, []Dim{yD}, []Attr{{"units", "degrees_north"}}},
		{2, "lon", Double, []Dim{xD}, []Attr{}},
		{3, "tas", Float, []Dim{tD, yD, xD}, []Attr{{"_FillValue", []float32{fill32}}, {"units", "K"}}},
		{4, "quality", Short, []Dim{tD, yD}, []Attr{{"valid_range", []int16{-1000, 1000}}}},
		{5, "height", Double, []Dim{}, []Attr{}},
	}
	if !reflect.DeepEqual(vars, wantVars) {
		t.Errorf("Vars() =\n%+v\nwant\n%+v", vars, wantVars)
	}

	attrs, err := f.Attrs()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]Attr, len(globalAttrs))
	copy(want, globalAttrs)
	for i, a := range want {
		switch a.Name {
		case "one_string": // a single NC_STRING reads back as a string
			want[i].Value = "only"
		case "nul_terminated": // a trailing NUL is C's terminator, not text
			want[i].Value = "abc"
		}
	}
	if !reflect.DeepEqual(attrs, want) {
		t.Errorf("Attrs() =\n%#v\nwant\n%#v", attrs, want)
	}

	tas, err := f.Var("tas")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tas, wantVars[3]) {
		t.Errorf("Var(tas) = %+v", tas)
	}
	if s := tas.Shape(); !reflect.DeepEqual(s, []int{nTime, nLat, nLon}) {
		t.Errorf("Shape() = %v", s)
	}
	if a, ok := tas.Attr("_FillValue"); !ok || a.Type() != Float {
		t.Errorf("Attr(_FillValue) = %+v, %v", a, ok)
	}
	if _, ok := tas.Attr("missing_value"); ok {
		t.Error("Attr(missing_value) found")
	}

	exp := expectedTas()
	full := make([]float64, nTime*nLat*nLon)
	if err := f.Read(tas.ID, []int{0, 0, 0}, []int{nTime, nLat, nLon}, nil, full); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(full, exp) {
		t.Errorf("full read =\n%v\nwant\n%v", full, exp)
	}

	// Inner hyperslab: time 1..3, lat 1..2, lon 2..3.
	inner := make([]float64, 3*2*2)
	if err := f.Read(tas.ID, []int{1, 1, 2}, []int{3, 2, 2}, nil, inner); err != nil {
		t.Fatal(err)
	}
	var wantInner []float64
	for ti := 1; ti <= 3; ti++ {
		for y := 1; y <= 2; y++ {
			for x := 2; x <= 3; x++ {
				wantInner = append(wantInner, at(exp, ti, y, x))
			}
		}
	}
	if !reflect.DeepEqual(inner, wantInner) {
		t.Errorf("inner read = %v, want %v", inner, wantInner)
	}

	// Strided: time 0,2,4; lat 0,3; lon 1,3.
	strided := make([]float64, 3*2*2)
	if err := f.Read(tas.ID, []int{0, 0, 1}, []int{3, 2, 2}, []int{2, 3, 2}, strided); err != nil {
		t.Fatal(err)
	}
	var wantStrided []float64
	for _, ti := range []int{0, 2, 4} {
		for _, y := range []int{0, 3} {
			for _, x := range []int{1, 3} {
				wantStrided = append(wantStrided, at(exp, ti, y, x))
			}
		}
	}
	if !reflect.DeepEqual(strided, wantStrided) {
		t.Errorf("strided read = %v, want %v", strided, wantStrided)
	}
	// A stride of all ones is the same as none.
	ones := make([]float64, len(inner))
	if err := f.Read(tas.ID, []int{1, 1, 2}, []int{3, 2, 2}, []int{1, 1, 1}, ones); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ones, inner) {
		t.Errorf("stride 1 read = %v, want %v", ones, inner)
	}

	q := make([]float64, nTime*nLat)
	if err := f.Read(4, []int{0, 0}, []int{nTime, nLat}, nil, q); err != nil {
		t.Fatal(err)
	}
	for ti := range nTime {
		for y := range nLat {
			if got := q[ti*nLat+y]; got != qualityValue(ti, y) {
				t.Errorf("quality[%d][%d] = %v, want %v", ti, y, got, qualityValue(ti, y))
			}
		}
	}

	scalar := make([]float64, 1)
	if err := f.Read(5, nil, nil, nil, scalar); err != nil || scalar[0] != 2 {
		t.Errorf("scalar read = %v, %v", scalar, err)
	}

	// An empty slab at the end of a dimension is valid and reads nothing.
	if err := f.Read(tas.ID, []int{nTime, 0, 0}, []int{0, nLat, nLon}, nil, nil); err != nil {
		t.Errorf("empty read: %v", err)
	}

	if d, err := f.Deflated(tas.ID); err != nil || !d {
		t.Errorf("Deflated(tas) = %v, %v; want true", d, err)
	}
	if d, err := f.Deflated(4); err != nil || d {
		t.Errorf("Deflated(quality) = %v, %v; want false", d, err)
	}
	for _, size := range []int{0, 1 << 20} {
		if err := f.SetChunkCache(tas.ID, size); err != nil {
			t.Errorf("SetChunkCache(%d): %v", size, err)
		}
		if err := f.Read(tas.ID, []int{0, 0, 0}, []int{nTime, nLat, nLon}, nil, full); err != nil || !reflect.DeepEqual(full, exp) {
			t.Errorf("read with cache %d: %v", size, err)
		}
	}
}

// TestNcdump checks that the standard tool reads what Create writes.
func TestNcdump(t *testing.T) {
	ncdump, err := exec.LookPath("ncdump")
	if err != nil {
		t.Fatal("ncdump is not on PATH: run scripts/setup.sh test to install netcdf-bin")
	}
	path := filepath.Join(t.TempDir(), "rt.nc")
	writeRoundTrip(t, path)

	kind, err := exec.Command(ncdump, "-k", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ncdump -k: %v\n%s", err, kind)
	}
	if got := strings.TrimSpace(string(kind)); got != "netCDF-4" {
		t.Errorf("ncdump -k = %q, want netCDF-4", got)
	}

	out, err := exec.Command(ncdump, "-hs", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ncdump -hs: %v\n%s", err, out)
	}
	header := string(out)
	for _, want := range []string{
		"time = UNLIMITED ; // (5 currently)",
		"lat = 4 ;",
		"float tas(time, lat, lon) ;",
		"tas:_FillValue = 1.e+20f ;",
		`tas:units = "K" ;`,
		"tas:_DeflateLevel = 4 ;",
		"tas:_Shuffle = \"true\" ;",
		"tas:_ChunkSizes = 1, 4, 5 ;",
		"short quality(time, lat) ;",
		"double height ;",
		`string :strings = "a", "bc", "" ;`,
		":i64 = -9223372036854775808LL, 9223372036854775807LL ;",
		":u8 = 0UB, 255UB ;",
		`:title = "round trip" ;`,
	} {
		if !strings.Contains(header, want) {
			t.Errorf("ncdump -hs output lacks %q:\n%s", want, header)
		}
	}

	data, err := exec.Command(ncdump, "-v", "quality", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ncdump -v: %v\n%s", err, data)
	}
	if !strings.Contains(string(data), "400, 399, 398, 397 ;") {
		t.Errorf("ncdump -v quality lacks the last record:\n%s", data)
	}
}

const classicCDL = `netcdf classic {
dimensions:
	station = 3 ;
	name_len = 8 ;
	time = UNLIMITED ;
variables:
	char name(station, name_len) ;
		name:long_name = "station name" ;
	char title(name_len) ;
	char flag ;
	float temp(time, station) ;
		temp:_FillValue = -999.f ;
	int code(station) ;
// global attributes:
		:Conventions = "CF-1.8" ;
data:
	name = "alpha", "beta  ", "gamma" ;
	title = "padded" ;
	flag = "y" ;
	temp = 1.5, 2.5, 3.5, 4.5, _, 6.5 ;
	code = 10, 20, 30 ;
}
`

func writeClassic(t *testing.T) string {
	t.Helper()
	ncgen, err := exec.LookPath("ncgen")
	if err != nil {
		t.Fatal("ncgen is not on PATH: run scripts/setup.sh test to install netcdf-bin")
	}
	dir := t.TempDir()
	cdl := filepath.Join(dir, "classic.cdl")
	nc := filepath.Join(dir, "classic.nc")
	if err := os.WriteFile(cdl, []byte(classicCDL), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ncgen, "-k", "classic", "-o", nc, cdl).CombinedOutput(); err != nil {
		t.Fatalf("ncgen: %v\n%s", err, out)
	}
	return nc
}

func TestReadClassic(t *testing.T) {
	f, err := Open(writeClassic(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	dims, err := f.Dims()
	if err != nil {
		t.Fatal(err)
	}
	wantDims := []Dim{{0, "station", 3, false}, {1, "name_len", 8, false}, {2, "time", 2, true}}
	if !reflect.DeepEqual(dims, wantDims) {
		t.Errorf("Dims() = %+v, want %+v", dims, wantDims)
	}
	attrs, err := f.Attrs()
	if err != nil || !reflect.DeepEqual(attrs, []Attr{{"Conventions", "CF-1.8"}}) {
		t.Errorf("Attrs() = %#v, %v", attrs, err)
	}

	name, err := f.Var("name")
	if err != nil {
		t.Fatal(err)
	}
	if name.Type != Char {
		t.Errorf("name.Type = %v", name.Type)
	}
	if a, _ := name.Attr("long_name"); a.Value != "station name" {
		t.Errorf("long_name = %#v", a.Value)
	}
	names, err := f.ReadText(name.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alpha", "beta", "gamma"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ReadText(name) = %q, want %q", names, want)
	}
	for _, c := range []struct {
		name string
		want []string
	}{{"title", []string{"padded"}}, {"flag", []string{"y"}}} {
		v, err := f.Var(c.name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.ReadText(v.ID)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ReadText(%s) = %q, %v; want %q", c.name, got, err, c.want)
		}
	}

	temp, err := f.Var("temp")
	if err != nil {
		t.Fatal(err)
	}
	if fv, ok := temp.Attr("_FillValue"); !ok || !reflect.DeepEqual(fv.Value, []float32{-999}) {
		t.Errorf("temp:_FillValue = %#v", fv.Value)
	}
	got := make([]float64, 6)
	if err := f.Read(temp.ID, []int{0, 0}, []int{2, 3}, nil, got); err != nil {
		t.Fatal(err)
	}
	if want := []float64{1.5, 2.5, 3.5, 4.5, -999, 6.5}; !reflect.DeepEqual(got, want) {
		t.Errorf("temp = %v, want %v", got, want)
	}
	code, _ := f.Var("code")
	ints := make([]float64, 2)
	if err := f.Read(code.ID, []int{1}, []int{2}, nil, ints); err != nil || !reflect.DeepEqual(ints, []float64{20, 30}) {
		t.Errorf("code[1:3] = %v, %v", ints, err)
	}

	// Classic files have no filters and no chunk cache.
	if d, err := f.Deflated(temp.ID); err != nil || d {
		t.Errorf("Deflated(temp) = %v, %v", d, err)
	}
	if err := f.SetChunkCache(temp.ID, 0); err != nil {
		t.Errorf("SetChunkCache on a classic file: %v", err)
	}

	if _, err := f.ReadText(temp.ID); err == nil || !strings.Contains(err.Error(), "not char") {
		t.Errorf("ReadText(temp) error = %v", err)
	}
	// libnetcdf refuses to convert text to numbers.
	if err := f.Read(name.ID, []int{0, 0}, []int{1, 1}, nil, make([]float64, 1)); err == nil {
		t.Error("Read of a char variable succeeded")
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rt.nc")
	writeRoundTrip(t, path)

	missing := filepath.Join(dir, "missing.nc")
	_, err := Open(missing)
	if err == nil {
		t.Fatal("Open of a missing file succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, missing) || !strings.Contains(msg, "does not exist") {
		t.Errorf("missing file error = %q", msg)
	}
	if !IsNotFound(err) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file error %v: IsNotFound false or not fs.ErrNotExist", err)
	}

	junk := filepath.Join(dir, "junk.nc")
	if err := os.WriteFile(junk, []byte("this is not netCDF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(junk); err == nil || IsNotFound(err) || !strings.Contains(err.Error(), junk) {
		t.Errorf("Open(junk) error = %v", err)
	}
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}

	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	_, err = f.Var("pr")
	if want := `netcdf: variable "pr" not found in ` + path; err == nil || err.Error() != want {
		t.Errorf("Var(pr) error = %v, want %s", err, want)
	}
	if !IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	_, err = f.Dim("height")
	if want := `netcdf: dimension "height" not found in ` + path; err == nil || err.Error() != want || !IsNotFound(err) {
		t.Errorf("Dim(height) error = %v, want %s", err, want)
	}

	tas, err := f.Var("tas")
	if err != nil {
		t.Fatal(err)
	}
	readErr := func(start, count, stride []int, n int) error {
		return f.Read(tas.ID, start, count, stride, make([]float64, n))
	}
	for _, c := range []struct {
		name                 string
		start, count, stride []int
		n                    int
		want                 string
	}{
		{"short dst", []int{0, 0, 0}, []int{1, 4, 5}, nil, 19, "data has 19 elements but count selects 20"},
		{"long dst", []int{0, 0, 0}, []int{1, 4, 5}, nil, 21, "data has 21 elements"},
		{"rank", []int{0, 0}, []int{1, 4}, nil, 4, "variable has 3 dimensions but start has 2"},
		{"count length", []int{0, 0, 0}, []int{1, 4}, nil, 4, "start has 3 elements but count has 2"},
		{"stride length", []int{0, 0, 0}, []int{1, 1, 1}, []int{1}, 1, "stride has 1"},
		{"negative count", []int{0, 0, 0}, []int{1, -4, 5}, nil, 0, "negative count -4"},
		{"negative start", []int{-1, 0, 0}, []int{1, 1, 1}, nil, 1, "negative start -1"},
		{"zero stride", []int{0, 0, 0}, []int{1, 1, 1}, []int{1, 0, 1}, 1, "stride 0 in dimension 1"},
	} {
		err := readErr(c.start, c.count, c.stride, c.n)
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), c.want) || e.Var != "tas" || e.Code != 0 {
			t.Errorf("%s: error = %v, want one about tas containing %q", c.name, err, c.want)
		}
	}

	// Out of bounds: libnetcdf's own error, with op, variable and file.
	err = readErr([]int{nTime, 0, 0}, []int{1, nLat, nLon}, nil, nLat*nLon)
	if want := `netcdf: read "tas" in ` + path + `: NetCDF: Index exceeds dimension bound`; err == nil || err.Error() != want {
		t.Errorf("out of bounds error = %v, want %s", err, want)
	}
	err = readErr([]int{0, 0, 0}, []int{1, nLat + 1, nLon}, nil, (nLat+1)*nLon)
	var e *Error
	if !errors.As(err, &e) || e.Op != "read" || e.Var != "tas" || e.Code >= 0 {
		t.Errorf("edge error = %#v", err)
	}
	if err := f.Read(99, nil, nil, nil, make([]float64, 1)); err == nil || !IsNotFound(err) {
		t.Errorf("Read of varid 99: %v", err)
	}
	if err := f.Read(-5, nil, nil, nil, make([]float64, 1)); err == nil {
		t.Error("Read of varid -5 succeeded")
	}

	// The file is read-only; libnetcdf itself would only say "HDF error".
	if err := f.Write(tas.ID, []int{0, 0, 0}, []int{1, 1, 1}, []float64{1}); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Write to a file opened read-only: %v", err)
	}
	if _, err := f.DefDim("x", 1); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("DefDim on a file opened read-only: %v", err)
	}
	if err := f.PutAttr(Global, Attr{"a", "b"}); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("PutAttr on a file opened read-only: %v", err)
	}
}

func TestWriteErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.nc")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dx, err := f.DefDim("x", 3)
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.DefVar("quality", Short, []int{dx})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.DefDim("x", 4); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("duplicate DefDim error = %v", err)
	}
	if _, err := f.DefDim("neg", -1); err == nil {
		t.Error("DefDim with a negative length succeeded")
	}
	if _, err := f.DefVar("bad", Type(99), []int{dx}); err == nil {
		t.Error("DefVar of type 99 succeeded")
	}
	if _, err := f.DefVar("bad", Float, []int{7}); err == nil {
		t.Error("DefVar over dimension 7 succeeded")
	}
	if err := f.SetDeflate(q, false, 10); err == nil {
		t.Error("SetDeflate level 10 succeeded")
	}
	if err := f.SetChunking(q, []int{1, 1}); err == nil || !strings.Contains(err.Error(), "1 dimensions but chunks has 2") {
		t.Errorf("SetChunking with two chunk lengths: %v", err)
	}
	if err := f.PutAttr(q, Attr{"bad", []int{1}}); err == nil || !strings.Contains(err.Error(), "[]int") {
		t.Errorf("PutAttr of []int: %v", err)
	}
	if err := f.PutAttr(q, Attr{"", "x"}); err == nil {
		t.Error("PutAttr with no name succeeded")
	}
	// libnetcdf requires _FillValue to have the variable's type.
	err = f.PutAttr(q, Attr{"_FillValue", []float32{1}})
	if err == nil || !strings.Contains(err.Error(), `"quality:_FillValue"`) {
		t.Errorf("mistyped _FillValue error = %v", err)
	}
	if err := f.Write(q, []int{0}, []int{3}, []float64{1, 1e10, 3}); err == nil {
		t.Error("Write of 1e10 into a short succeeded")
	} else {
		var e *Error
		if !errors.As(err, &e) || e.Var != "quality" || e.Op != "write" || !strings.Contains(err.Error(), "short") {
			t.Errorf("out of range write error = %v", err)
		}
	}
	// Despite the error the slab was written, the bad value as 0.
	got := make([]float64, 3)
	if err := f.Read(q, []int{0}, []int{3}, nil, got); err != nil || !reflect.DeepEqual(got, []float64{1, 0, 3}) {
		t.Errorf("after NC_ERANGE the variable holds %v, %v", got, err)
	}
	// Conversion to an integer type truncates rather than rounds.
	if err := f.Write(q, []int{0}, []int{3}, []float64{2.7, -2.7, 32766.9}); err != nil {
		t.Fatal(err)
	}
	if err := f.Read(q, []int{0}, []int{3}, nil, got); err != nil || !reflect.DeepEqual(got, []float64{2, -2, 32766}) {
		t.Errorf("truncated values = %v, %v", got, err)
	}
	if err := f.Write(q, []int{0}, []int{4}, make([]float64, 4)); err == nil {
		t.Error("Write past a fixed dimension succeeded")
	}
	if err := f.Write(q, []int{0}, []int{2}, make([]float64, 3)); err == nil {
		t.Error("Write with a src of the wrong length succeeded")
	}
}

func TestClosedFile(t *testing.T) {
	f, err := Create(filepath.Join(t.TempDir(), "c.nc"))
	if err != nil {
		t.Fatal(err)
	}
	dx, err := f.DefDim("x", 2)
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.DefVar("v", Double, []int{dx})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	calls := map[string]func() error{
		"Dims":          func() error { _, err := f.Dims(); return err },
		"Dim":           func() error { _, err := f.Dim("x"); return err },
		"Vars":          func() error { _, err := f.Vars(); return err },
		"Var":           func() error { _, err := f.Var("v"); return err },
		"Attrs":         func() error { _, err := f.Attrs(); return err },
		"Read":          func() error { return f.Read(v, []int{0}, []int{2}, nil, make([]float64, 2)) },
		"Read bad dst":  func() error { return f.Read(v, []int{0}, []int{2}, nil, nil) },
		"ReadText":      func() error { _, err := f.ReadText(v); return err },
		"DefDim":        func() error { _, err := f.DefDim("y", 1); return err },
		"DefVar":        func() error { _, err := f.DefVar("w", Int, nil); return err },
		"SetDeflate":    func() error { return f.SetDeflate(v, true, 1) },
		"SetChunking":   func() error { return f.SetChunking(v, []int{1}) },
		"PutAttr":       func() error { return f.PutAttr(Global, Attr{"a", "b"}) },
		"EndDef":        func() error { return f.EndDef() },
		"Write":         func() error { return f.Write(v, []int{0}, []int{2}, []float64{1, 2}) },
		"SetChunkCache": func() error { return f.SetChunkCache(v, 0) },
		"Deflated":      func() error { _, err := f.Deflated(v); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil || !strings.Contains(err.Error(), "file is closed") {
			t.Errorf("%s on a closed file: %v", name, err)
		}
	}
}

func TestTypeAndAttr(t *testing.T) {
	for _, c := range []struct {
		t    Type
		name string
		size int
	}{
		{Byte, "byte", 1}, {Char, "char", 1}, {Short, "short", 2}, {Int, "int", 4},
		{Float, "float", 4}, {Double, "double", 8}, {UByte, "ubyte", 1}, {UShort, "ushort", 2},
		{UInt, "uint", 4}, {Int64, "int64", 8}, {UInt64, "uint64", 8}, {String, "string", 8},
		{Type(40), "Type(40)", 0},
	} {
		if c.t.String() != c.name || c.t.Size() != c.size {
			t.Errorf("Type %d: String() = %q, Size() = %d; want %q, %d", int(c.t), c.t, c.t.Size(), c.name, c.size)
		}
	}
	if Global != -1 {
		t.Errorf("Global = %d", Global)
	}

	wantTypes := map[string]Type{
		"title": Char, "strings": String, "one_string": String, "i8": Byte, "u8": UByte,
		"i16": Short, "u16": UShort, "i32": Int, "u32": UInt, "i64": Int64, "u64": UInt64,
		"f32": Float, "f64": Double, "empty_text": Char, "empty_ints": Int, "nul_terminated": Char,
	}
	for _, a := range globalAttrs {
		if got := a.Type(); got != wantTypes[a.Name] {
			t.Errorf("%s.Type() = %v, want %v", a.Name, got, wantTypes[a.Name])
		}
	}
	if (Attr{"x", []int{1}}).Type() != 0 {
		t.Error("Type of a []int value is not 0")
	}

	f64 := func(v any) []float64 {
		got, ok := Attr{"a", v}.Float64s()
		if !ok {
			t.Errorf("Float64s(%T) not ok", v)
		}
		return got
	}
	for _, c := range []struct {
		v    any
		want []float64
	}{
		{[]int8{-1, 2}, []float64{-1, 2}},
		{[]uint8{255}, []float64{255}},
		{[]int16{-300}, []float64{-300}},
		{[]uint16{65535}, []float64{65535}},
		{[]int32{-70000}, []float64{-70000}},
		{[]uint32{4e9}, []float64{4e9}},
		{[]int64{-1 << 40}, []float64{-1 << 40}},
		{[]uint64{1 << 63}, []float64{1 << 63}},
		{[]float32{0.5}, []float64{0.5}},
		{[]float64{1e300}, []float64{1e300}},
	} {
		if got := f64(c.v); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Float64s(%#v) = %v, want %v", c.v, got, c.want)
		}
	}
	if _, ok := (Attr{"a", "text"}).Float64s(); ok {
		t.Error("Float64s of text ok")
	}

	for _, c := range []struct {
		v    any
		want string
		ok   bool
	}{
		{"K", "K", true},
		{[]string{"one"}, "one", true},
		{[]string{"a", "b"}, "", false},
		{[]float64{1}, "", false},
	} {
		got, ok := Attr{"a", c.v}.Text()
		if got != c.want || ok != c.ok {
			t.Errorf("Text(%#v) = %q, %v; want %q, %v", c.v, got, ok, c.want, c.ok)
		}
	}
}
