package dap

import (
	"bufio"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/computewps/computewps/internal/netcdf"
)

// testDataset is a fixed DDS for constraint tests: a Grid, its coordinate
// variables, an Array without coordinates, text, a scalar, and names that
// need escaping.
func testDataset() *dataset {
	time := netcdf.Dim{ID: 0, Name: "time", Len: 10, Unlimited: true}
	lat := netcdf.Dim{ID: 1, Name: "lat", Len: 4}
	lon := netcdf.Dim{ID: 2, Name: "lon", Len: 5}
	bnds := netcdf.Dim{ID: 3, Name: "bnds", Len: 2}
	nchar := netcdf.Dim{ID: 4, Name: "nchar", Len: 6}
	dims := []netcdf.Dim{time, lat, lon, bnds, nchar}
	vars := []netcdf.Var{
		{ID: 0, Name: "time", Type: netcdf.Double, Dims: []netcdf.Dim{time}},
		{ID: 1, Name: "lat", Type: netcdf.Float, Dims: []netcdf.Dim{lat}},
		{ID: 2, Name: "lon", Type: netcdf.Float, Dims: []netcdf.Dim{lon}},
		{ID: 3, Name: "tas", Type: netcdf.Float, Dims: []netcdf.Dim{time, lat, lon}},
		{ID: 4, Name: "time_bnds", Type: netcdf.Double, Dims: []netcdf.Dim{time, bnds}},
		{ID: 5, Name: "label", Type: netcdf.Char, Dims: []netcdf.Dim{lat, nchar}},
		{ID: 6, Name: "height", Type: netcdf.Double},
		{ID: 7, Name: "a.b", Type: netcdf.Byte, Dims: []netcdf.Dim{lat}},
		{ID: 8, Name: "sea ice", Type: netcdf.UShort, Dims: []netcdf.Dim{lat, lat}},
		{ID: 9, Name: "note", Type: netcdf.String, Dims: []netcdf.Dim{lat}},
	}
	return newDataset("test.nc", vars, dims, nil)
}

func dds(t *testing.T, ds *dataset, ce string) (string, error) {
	t.Helper()
	terms, err := parseConstraint(ce)
	if err != nil {
		return "", err
	}
	nodes, err := ds.project(terms)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	w := bufio.NewWriter(&b)
	writeDDS(w, ds.name, nodes)
	w.Flush()
	return b.String(), nil
}

func TestProjection(t *testing.T) {
	ds := testDataset()
	cases := []struct{ ce, want string }{
		{"", `Dataset {
    Float64 time[time = 10];
    Float32 lat[lat = 4];
    Float32 lon[lon = 5];
    Grid {
      ARRAY:
        Float32 tas[time = 10][lat = 4][lon = 5];
      MAPS:
        Float64 time[time = 10];
        Float32 lat[lat = 4];
        Float32 lon[lon = 5];
    } tas;
    Float64 time_bnds[time = 10][bnds = 2];
    String label[lat = 4];
    Float64 height;
    Grid {
      ARRAY:
        Int16 a.b[lat = 4];
      MAPS:
        Float32 lat[lat = 4];
    } a.b;
    UInt16 sea%20ice[lat = 4][lat = 4];
} test.nc;
`},
		// Stop is inclusive; a single index selects one element.
		{"time[2:3:9],lat[3],lon[1:3]", "Float64 time[time = 3];\n    Float32 lat[lat = 1];\n    Float32 lon[lon = 3];"},
		// A stride beyond the range still selects the start.
		{"time[4:100:9]", "Float64 time[time = 1];"},
		// Spaces around items, escaped names, dotted names.
		{" height , sea%20ice[0:1][2] ", "Float64 height;\n    UInt16 sea%20ice[lat = 2][lat = 1];"},
		{"a.b[1:2]", "Int16 a.b[lat = 2];\n      MAPS:\n        Float32 lat[lat = 2];"},
		{"a.b.lat", "Structure {\n        Float32 lat[lat = 4];\n    } a.b;"},
		// The same projection twice is the same projection.
		{"lat[1],lat[1]", "Float32 lat[lat = 1];\n} test.nc;"},
		{"tas,tas.lat", "Grid {"},
		// Grid members alike constrained make a Grid again.
		{"tas.time[0],tas.tas[0][1][2],tas.lat[1],tas.lon[2]", "Grid {\n      ARRAY:\n        Float32 tas[time = 1][lat = 1][lon = 1];"},
		{"tas.tas[0][1][2],tas.lat[0],tas.time[0],tas.lon[2]", "Structure {\n        Float32 tas[time = 1][lat = 1][lon = 1];\n        Float64 time[time = 1];\n        Float32 lat[lat = 1];"},
	}
	for _, c := range cases {
		got, err := dds(t, ds, c.ce)
		if err != nil || !strings.Contains(got, c.want) {
			t.Errorf("DDS for %q = %v\n%s\nwant it to contain\n%s", c.ce, err, got, c.want)
		}
	}
}

func TestConstraintErrors(t *testing.T) {
	ds := testDataset()
	cases := []struct {
		ce     string
		status int
		msg    string
	}{
		{"note", 404, `no variable "note"`}, // NC_STRING is not served
		{"tas.bnds", 404, `no variable "tas.bnds"`},
		{"time_bnds.time", 404, `no variable "time_bnds.time"`}, // not a Grid
		{"lat,", 400, "empty variable name"},
		{"tas[0]x", 400, `unexpected "x"`},
		{"tas[0].tas", 400, "must follow the full name"},
		{".tas", 400, "empty name component"},
		{"tas[1:2:3:4][0][0]", 400, "more than start:stride:stop"},
		{"tas[-1][0][0]", 400, "not a non-negative integer"},
		{"tas[99999999999999999999][0][0]", 400, "too large"},
		{"tas[][0][0]", 400, "missing number"},
		{"time[10]", 400, "out of range 0..9"},
		{"label[0][0]", 400, "has 1 dimensions"},
		{"tas,tas[0][0][0]", 400, "projected more than once"},
		{"tas[0][0][0],tas.lat[1]", 400, "projected more than once"},
		{"x&y", 400, "selections are not supported"},
		{"sea%2", 400, "bad %XX escape"},
	}
	for _, c := range cases {
		_, err := dds(t, ds, c.ce)
		var e *Error
		if !errors.As(err, &e) || e.Code != c.status || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%q: error %v, want %d with %q", c.ce, err, c.status, c.msg)
		}
	}
}

// FuzzConstraint parses arbitrary constraints against a fixed DDS: never a
// panic, errors are *Error with status 400 or 404, and every hyperslab
// accepted lies within its variable.
func FuzzConstraint(f *testing.F) {
	for _, s := range []string{
		"", "tas", "tas[0:2:9][1][0:4]", "tas.tas[0][0][0],tas.lon[1:2]", "a.b.lat[0:1]",
		"sea%20ice[0][0:3]", "label[1:2]", "height", "lat[3:1]", "x&y>1", "tas[", "f(x)",
		"time[0:0:1]", "lat[1],lat[2]", "%zz", "tas.time[0],tas.tas[0][0][0],tas.lat[0],tas.lon[0]",
	} {
		f.Add(s)
	}
	ds := testDataset()
	f.Fuzz(func(t *testing.T, ce string) {
		terms, err := parseConstraint(ce)
		var nodes []*node
		if err == nil {
			nodes, err = ds.project(terms)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Code != http.StatusBadRequest && e.Code != http.StatusNotFound) {
				t.Fatalf("%q: error %v (%T)", ce, err, err)
			}
			return
		}
		var walk func(n *node)
		walk = func(n *node) {
			if n.kind == atomic {
				if len(n.slab) != n.v.rank() {
					t.Fatalf("%q: %s has %d spans for %d dimensions", ce, n.name, len(n.slab), n.v.rank())
				}
				for i, s := range n.slab {
					if s.stride < 1 || s.start < 0 || s.count < 0 ||
						s.count > 0 && s.start+(s.count-1)*s.stride >= n.v.dims[i].len {
						t.Fatalf("%q: %s dimension %d: span %+v outside 0..%d", ce, n.name, i, s, n.v.dims[i].len-1)
					}
				}
				if n.size() < 0 {
					t.Fatalf("%q: negative size", ce)
				}
			}
			for _, m := range n.members {
				walk(m)
			}
		}
		for _, n := range nodes {
			walk(n)
		}
		w := bufio.NewWriter(new(strings.Builder))
		writeDDS(w, ds.name, nodes)
	})
}
