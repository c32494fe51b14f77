package dap_test

import (
	"bufio"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/computewps/computewps/internal/dap"
	"github.com/computewps/computewps/internal/dap/daptest"
	"github.com/computewps/computewps/internal/netcdf"
)

// fixture writes the CF file into a fresh directory served by a child
// process, and returns the file and the server.
func fixture(t *testing.T) (string, *daptest.Server) {
	t.Helper()
	dir := t.TempDir()
	path := writeCF(t, dir)
	return path, daptest.Start(t, daptest.Config{Root: dir})
}

func open(t *testing.T, uri string) *netcdf.File {
	t.Helper()
	f, err := netcdf.Open(uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// libnetcdf, through our binding, sees the file the server reads, after the
// documented type mapping: every variable, dimension, attribute and value.
func TestLibnetcdfReadsEverything(t *testing.T) {
	path, srv := fixture(t)
	remote := open(t, srv.URL+"cf.nc")
	compareDataset(t, remote, open(t, path), false)

	dims, err := remote.Dims()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dims {
		if d.Unlimited != (d.Name == "time") {
			t.Errorf("dimension %+v: only time should be unlimited", d)
		}
	}
}

// ncdump prints the same dataset: its CDL, compiled again by ncgen, holds
// what the file holds.
func TestNcdumpReadsEverything(t *testing.T) {
	path, srv := fixture(t)
	out, err := exec.Command(ncdump(t), "-p", "9,17", srv.URL+"cf.nc").Output()
	if err != nil {
		t.Fatalf("ncdump: %v\n%s", err, out)
	}
	cdl := string(out)
	for _, want := range []string{
		"time = UNLIMITED ; // (8 currently)",
		"float tas(time, lat, lon) ;",
		"double time_bnds(time, bnds) ;",
		"char station_name(station, name_len) ;",
		`:title = "Quotes \" and backslashes \\ in \"ComputeWPS\" \\o/" ;`,
		`tas:_FillValue = 1.00000002e+20f ;`,
	} {
		if !strings.Contains(cdl, want) {
			t.Errorf("ncdump output lacks %q", want)
		}
	}
	regen := ncgen(t, t.TempDir(), "regen", cdl)
	compareDataset(t, open(t, regen), open(t, path), true)
}

// slab is a hyperslab as File.Read takes it.
type slab struct{ start, count, stride []int }

func (s slab) n() int {
	n := 1
	for _, c := range s.count {
		n *= c
	}
	return n
}

// Hyperslabs read through libnetcdf equal direct reads of the file, and
// libnetcdf asks the server for them rather than whole variables.
func TestHyperslabs(t *testing.T) {
	path, srv := fixture(t)
	local, remote := open(t, path), open(t, srv.URL+"cf.nc")
	cases := []struct {
		name string
		v    string
		s    slab
	}{
		{"strided", "tas", slab{[]int{1, 2, 3}, []int{3, 5, 7}, []int{2, 3, 10}}},
		{"single value", "tas", slab{[]int{7, 35, 71}, []int{1, 1, 1}, nil}},
		{"middle", "pr", slab{[]int{2, 10, 20}, []int{3, 8, 30}, nil}},
		{"one time step", "tas", slab{[]int{4, 0, 0}, []int{1, nLat, nLon}, nil}},
		{"strided short", "pr", slab{[]int{0, 1, 0}, []int{4, 12, 9}, []int{2, 3, 8}}},
		{"coordinate", "lon", slab{[]int{5}, []int{10}, []int{6}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lv, err1 := local.Var(c.v)
			rv, err2 := remote.Var(c.v)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			want, got := make([]float64, c.s.n()), make([]float64, c.s.n())
			if err := local.Read(lv.ID, c.s.start, c.s.count, c.s.stride, want); err != nil {
				t.Fatal(err)
			}
			if err := remote.Read(rv.ID, c.s.start, c.s.count, c.s.stride, got); err != nil {
				t.Fatal(err)
			}
			if !sameFloats(got, want) {
				t.Errorf("got %v...\nwant %v...", head(got), head(want))
			}
		})
	}
	constrained := 0
	for _, uri := range srv.Requests(t) {
		path, query, _ := strings.Cut(uri, "?")
		if !strings.HasSuffix(path, ".dods") {
			continue
		}
		q, err := url.PathUnescape(query)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(q, "tas") || strings.Contains(q, "pr") {
			if !strings.Contains(q, "[") {
				t.Errorf("libnetcdf read a large variable whole: %s", q)
			}
			constrained++
		}
	}
	if constrained < 3 {
		t.Errorf("%d constrained .dods requests for tas and pr; want one per read at least:\n%s",
			constrained, strings.Join(srv.Requests(t), "\n"))
	}
}

var number = regexp.MustCompile(`-?[0-9][0-9.e+-]*`)

// ncdump takes a constraint in the URL and prints only that subset.
func TestNcdumpConstraint(t *testing.T) {
	path, srv := fixture(t)
	local := open(t, path)
	v, err := local.Var("tas")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ce   string
		s    slab
		dims []string
	}{
		{"tas[2:1:3][10:1:11][20:1:22]", slab{[]int{2, 10, 20}, []int{2, 2, 3}, nil},
			[]string{"// (2 currently)", "lat = 2 ;", "lon = 3 ;"}},
		{"tas[1:3:7][0:7:35][5:20:71]", slab{[]int{1, 0, 5}, []int{3, 6, 4}, []int{3, 7, 20}},
			[]string{"// (3 currently)", "lat = 6 ;", "lon = 4 ;"}},
	}
	for _, c := range cases {
		uri := srv.URL + "cf.nc?" + c.ce
		out, err := exec.Command(ncdump(t), "-v", "tas", uri).Output()
		if err != nil {
			t.Fatalf("ncdump %s: %v\n%s", uri, err, out)
		}
		cdl := string(out)
		for _, want := range c.dims {
			if !strings.Contains(cdl, want) {
				t.Errorf("ncdump %s lacks %q:\n%s", uri, want, cdl)
			}
		}
		_, data, ok := strings.Cut(cdl, "tas =")
		if !ok {
			t.Fatalf("no tas data in:\n%s", cdl)
		}
		var got []float64
		for _, s := range number.FindAllString(data, -1) {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		want := make([]float64, c.s.n())
		if err := local.Read(v.ID, c.s.start, c.s.count, c.s.stride, want); err != nil {
			t.Fatal(err)
		}
		if !sameFloats(got, want) {
			t.Errorf("ncdump %s printed %v, want %v", uri, got, want)
		}
	}
}

// local serves dir from this process; fine for clients that are not
// libnetcdf.
func local(t testing.TB, dir string, maxBytes int64) *httptest.Server {
	t.Helper()
	h := &dap.Handler{Resolve: daptest.DirResolver(dir), MaxBytes: maxBytes}
	mux := http.NewServeMux()
	mux.Handle("/dap/", http.StripPrefix("/dap/", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t testing.TB, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	writeCF(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "broken.nc"), []byte("not netCDF"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "escape.nc")); err != nil {
		t.Fatal(err)
	}
	base := local(t, dir, 0).URL + "/dap/"
	cases := []struct {
		name, path string
		status     int
		message    []string
	}{
		{"unknown dataset", "nothere.nc.dds", 404, []string{`no dataset \"nothere.nc\"`}},
		{"link out of the root", "escape.nc.das", 404, []string{"no dataset"}},
		{"dot dot", "..%2Fcf.nc.dds", 404, []string{"no dataset"}},
		{"unknown variable", "cf.nc.dods?tas,nope", 404, []string{`no variable \"nope\"`}},
		{"unknown grid member", "cf.nc.dds?tas.height", 404, []string{`no variable \"tas.height\"`}},
		{"selection", "cf.nc.dods?tas&tas>3", 400, []string{"selections are not supported"}},
		{"malformed", "cf.nc.dds?tas[0:1", 400, []string{"malformed constraint", `tas[0:1`}},
		{"function call", "cf.nc.dds?mean(tas)", 400, []string{"malformed constraint", "mean(tas)"}},
		{"bad number", "cf.nc.dds?tas[a][0][0]", 400, []string{"malformed constraint", "not a non-negative integer"}},
		{"bad escape", "cf.nc.dds?tas%zz", 400, []string{"malformed constraint"}},
		{"out of range", "cf.nc.dods?tas[0][0:36][0]", 400, []string{`dimension 1 (\"lat\") of \"tas\"`, "out of range 0..35"}},
		{"too few dimensions", "cf.nc.dods?tas[0][0]", 400, []string{`\"tas\" has 3 dimensions but the hyperslab has 2`}},
		{"scalar hyperslab", "cf.nc.dods?height[0]", 400, []string{`\"height\" has 0 dimensions`}},
		{"stride 0", "cf.nc.dods?lat[0:0:3]", 400, []string{`dimension 0 (\"lat\") of \"lat\"`, "stride is 0"}},
		{"start after stop", "cf.nc.ascii?tas.lon[5:2]", 400, []string{`dimension 0 (\"lon\") of \"lon\"`, "start 5 is after stop 2"}},
		{"conflicting projections", "cf.nc.dds?lat[0],lat[1]", 400, []string{"projected more than once"}},
		{"no response type", "cf.nc", 400, []string{"unknown response type"}},
		{"unreadable file", "broken.nc.dds", 500, []string{"could not read"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := get(t, base+c.path)
			checkError(t, resp, body, c.status, c.message...)
		})
	}
	t.Run("method", func(t *testing.T) {
		resp, err := http.Post(base+"cf.nc.dds", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkError(t, resp, string(body), 405, "method POST is not allowed")
		if resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("Allow = %q", resp.Header.Get("Allow"))
		}
	})
}

func checkError(t *testing.T, resp *http.Response, body string, status int, message ...string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d\n%s", resp.StatusCode, status, body)
	}
	if d := resp.Header.Get("Content-Description"); d != "dods-error" {
		t.Errorf("Content-Description %q, want dods-error", d)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || resp.Header.Get("XDAP") != "2.0" {
		t.Errorf("Content-Type %q, XDAP %q", ct, resp.Header.Get("XDAP"))
	}
	want := "Error {\n    code = " + strconv.Itoa(status) + ";\n    message = \""
	if !strings.HasPrefix(body, want) || !strings.HasSuffix(body, "\";\n};\n") {
		t.Errorf("not a DAP2 error object with code %d:\n%s", status, body)
	}
	for _, m := range message {
		if !strings.Contains(body, m) {
			t.Errorf("message lacks %q:\n%s", m, body)
		}
	}
}

// libnetcdf reports a missing dataset as a missing file.
func TestLibnetcdfNotFound(t *testing.T) {
	_, srv := fixture(t)
	_, err := netcdf.Open(srv.URL + "missing.nc")
	if !netcdf.IsNotFound(err) {
		t.Errorf("Open(missing) = %v, want a not-found error", err)
	}
}

// The DDS follows the constraint: a Grid projected whole keeps its maps
// constrained like its array; one only partly projected is a Structure.
func TestConstrainedDDS(t *testing.T) {
	dir := t.TempDir()
	writeCF(t, dir)
	base := local(t, dir, 0).URL + "/dap/cf.nc.dds"
	cases := []struct{ ce, want string }{
		{"tas[1:2:5][0][10:12]", `Dataset {
    Grid {
      ARRAY:
        Float32 tas[time = 3][lat = 1][lon = 3];
      MAPS:
        Float64 time[time = 3];
        Float64 lat[lat = 1];
        Float32 lon[lon = 3];
    } tas;
} cf.nc;
`},
		{"tas.tas[0][0][0],tas.lon[0:3],time_bnds,station_name[1],label,quality", `Dataset {
    Float64 time_bnds[time = 8][bnds = 2];
    Structure {
        Float32 tas[time = 1][lat = 1][lon = 1];
        Float32 lon[lon = 4];
    } tas;
    String station_name[station = 1];
    String label;
    Int16 quality[station = 3];
} cf.nc;
`},
		{"tas.tas[0][0][0],tas.time[0],tas.lat[0],tas.lon[0],count", `Dataset {
    Grid {
      ARRAY:
        Float32 tas[time = 1][lat = 1][lon = 1];
      MAPS:
        Float64 time[time = 1];
        Float64 lat[lat = 1];
        Float32 lon[lon = 1];
    } tas;
    Grid {
      ARRAY:
        Int32 count[time = 8];
      MAPS:
        Float64 time[time = 8];
    } count;
} cf.nc;
`},
	}
	for _, c := range cases {
		resp, body := get(t, base+"?"+c.ce)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Description") != "dods-dds" || body != c.want {
			t.Errorf("DDS for %s: %d %q\n%s\nwant\n%s", c.ce, resp.StatusCode, resp.Header.Get("Content-Description"), body, c.want)
		}
	}
}

func TestASCII(t *testing.T) {
	dir := t.TempDir()
	writeCF(t, dir)
	base := local(t, dir, 0).URL + "/dap/cf.nc"
	resp, body := get(t, base+".ascii?tas[1][2:3][4:6],station_name,height,ub")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Description") != "dods-ascii" {
		t.Fatalf("%d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Description"), body)
	}
	_, data, ok := strings.Cut(body, "---------------------------------------------\n")
	want := `tas.tas[0][0], 203, 203.25, 203.5
tas.tas[0][1], 203.5, 203.75, 204
tas.time, 1.5
tas.lat, -77.5, -72.5
tas.lon, 22.5, 27.5, 32.5
height, 2
station_name, "Paris", "Troms` + "\u00f8" + `", "A"
ub, 0, 128, 255
`
	if !ok || data != want {
		t.Errorf("ASCII data:\n%s\nwant\n%s", data, want)
	}
	// .asc is the same response.
	if _, again := get(t, base+".asc?tas[1][2:3][4:6],station_name,height,ub"); again != body {
		t.Errorf(".asc differs from .ascii:\n%s", again)
	}
}

func TestDAS(t *testing.T) {
	dir := t.TempDir()
	writeCF(t, dir)
	resp, body := get(t, local(t, dir, 0).URL+"/dap/cf.nc.das")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Description") != "dods-das" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	for _, want := range []string{
		"    tas {\n        String standard_name \"air_temperature\";\n        String units \"K\";\n        Float32 _FillValue 1e+20;\n",
		"        Float32 valid_range 150, 350;\n",
		"    quality {\n        Int16 _FillValue -127;\n        Int16 flag_values -1, 0, 1;\n",
		"    ub {\n        Byte _FillValue 255;\n        String _Unsigned \"true\";\n",
		"    i64 {\n        Float64 _FillValue -9.007199254740992e+15;\n",
		"        String title \"Quotes \\\" and backslashes \\\\ in \\\"ComputeWPS\\\" \\\\o/\";\n",
		"        Float64 not_a_number NaN;\n",
		"    DODS_EXTRA {\n        String Unlimited_Dimension \"time\";\n    }\n}\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("DAS lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "    note {") {
		t.Errorf("DAS describes the NC_STRING variable note, which is not served")
	}
	for _, h := range []string{"XDODS-Server", "XOPeNDAP-Server", "XDAP"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func TestHTMLAndVersion(t *testing.T) {
	dir := t.TempDir()
	cdl := strings.Replace(cfCDL(), `:Conventions = "CF-1.7" ;`, `:Conventions = "<script>alert(1)</script>" ;`, 1)
	ncgen(t, dir, "cf", cdl)
	base := local(t, dir, 0).URL + "/dap/"
	resp, body := get(t, base+"cf.nc.html")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{
		"<code>Float32 tas[time = 8][lat = 36][lon = 72]</code>",
		"Grid with maps <code>time</code>, <code>lat</code>, <code>lon</code>",
		"<code>String station_name[station = 3]</code>",
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		`href="cf.nc.dds"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("HTML page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("an attribute value reached the page unescaped")
	}
	for _, p := range []string{"cf.nc.ver", "version"} {
		resp, body = get(t, base+p)
		if resp.StatusCode != 200 || !strings.Contains(body, "ComputeWPS/1") {
			t.Errorf("%s: %d %q", p, resp.StatusCode, body)
		}
	}
}

// A .dods response decodes as DDS, "Data:" and XDR, with Bytes packed and
// padded, 16-bit integers widened and Strings counted once.
func TestDODSEncoding(t *testing.T) {
	dir := t.TempDir()
	writeCF(t, dir)
	resp, body := get(t, local(t, dir, 0).URL+"/dap/cf.nc.dods?ub,quality[0:2:2],label,station_name[1:2],height,lat[0:1]")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Description") != "dods-data" ||
		resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	_, data, ok := strings.Cut(body, "} cf.nc;\nData:\n")
	if !ok {
		t.Fatalf("no Data: marker in %q", body)
	}
	r := bufio.NewReader(strings.NewReader(data))
	u32 := func() uint32 {
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			t.Fatal(err)
		}
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	}
	u64 := func() uint64 { return uint64(u32())<<32 | uint64(u32()) }
	str := func() string {
		n := u32()
		b := make([]byte, (n+3)&^3)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		return string(b[:n])
	}
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	// The data follow the DDS, in the dataset's order.
	check("lat count", u32(), uint32(2))
	check("lat count again", u32(), uint32(2))
	check("lat[0]", u64(), math.Float64bits(-87.5))
	check("lat[1]", u64(), math.Float64bits(-82.5))
	check("height", u64(), math.Float64bits(2))
	// Strings: one count, then each string padded to 4 bytes.
	check("station_name count", u32(), uint32(2))
	check("station_name[1]", str(), "Tromsø")
	check("station_name[2]", str(), "A")
	check("label", str(), "dataset")
	// Int16: 32 bits each, sign extended.
	check("quality count", u32(), uint32(2))
	check("quality count again", u32(), uint32(2))
	check("quality[0]", int32(u32()), int32(-1))
	check("quality[2]", int32(u32()), int32(1))
	// Byte: packed, padded to 4 bytes.
	check("ub count", u32(), uint32(3))
	check("ub count again", u32(), uint32(3))
	check("ub bytes", u32(), uint32(0x0080ff00))
	if rest, _ := io.ReadAll(r); len(rest) != 0 {
		t.Errorf("%d bytes after the data", len(rest))
	}
}
