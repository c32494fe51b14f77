package netcdf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// dapServer serves a one-variable dataset at /x.nc over the DAP2 protocol,
// enough for libnetcdf's client: the DDS, the DAS, and the whole variable as
// XDR in a DODS response (its constraint is ignored, so the client must slice
// locally). Everything else is a DAP2 error with status 404.
func dapServer(t *testing.T, vals []float64, dods *atomic.Int32) *httptest.Server {
	const dds = "Dataset {\n    Float64 x[x = %d];\n} x.nc;\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/x.nc.dds":
			fmt.Fprintf(w, dds, len(vals))
		case "/x.nc.das":
			fmt.Fprint(w, "Attributes {\n    x {\n        String units \"m\";\n        Float64 scale 0.5, 2;\n    }\n"+
				"    NC_GLOBAL {\n        String title \"dap\";\n    }\n}\n")
		case "/x.nc.dods":
			dods.Add(1)
			var b bytes.Buffer
			fmt.Fprintf(&b, dds+"Data:\n", len(vals))
			// XDR arrays carry their length twice.
			binary.Write(&b, binary.BigEndian, [2]uint32{uint32(len(vals)), uint32(len(vals))})
			binary.Write(&b, binary.BigEndian, vals)
			w.Write(b.Bytes())
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "Error {\n    code = 404;\n    message = \"no such dataset\";\n};\n")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOpenDAP(t *testing.T) {
	vals := []float64{1.5, 2.5, 3.5, 4.5, 5.5}
	var dods atomic.Int32
	srv := dapServer(t, vals, &dods)

	f, err := Open(srv.URL + "/x.nc")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars, err := f.Vars()
	if err != nil {
		t.Fatal(err)
	}
	want := []Var{{0, "x", Double, []Dim{{0, "x", 5, false}}, []Attr{{"units", "m"}, {"scale", []float64{0.5, 2}}}}}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("Vars() = %+v, want %+v", vars, want)
	}
	if attrs, err := f.Attrs(); err != nil || !reflect.DeepEqual(attrs, []Attr{{"title", "dap"}}) {
		t.Errorf("Attrs() = %#v, %v", attrs, err)
	}
	got := make([]float64, 5)
	if err := f.Read(0, []int{0}, []int{5}, nil, got); err != nil || !reflect.DeepEqual(got, vals) {
		t.Errorf("Read = %v, %v", got, err)
	}
	got = got[:2]
	if err := f.Read(0, []int{1}, []int{2}, []int{2}, got); err != nil || !reflect.DeepEqual(got, []float64{2.5, 4.5}) {
		t.Errorf("strided Read = %v, %v", got, err)
	}
	if dods.Load() == 0 {
		t.Error("no data request reached the server")
	}
	// No HDF5 underneath: nothing is deflated and the chunk cache is moot.
	if d, err := f.Deflated(0); err != nil || d {
		t.Errorf("Deflated = %v, %v", d, err)
	}
	if err := f.SetChunkCache(0, 0); err != nil {
		t.Errorf("SetChunkCache: %v", err)
	}

	missing := srv.URL + "/missing.nc"
	_, err = Open(missing)
	if err == nil || !IsNotFound(err) || !errors.Is(err, fs.ErrNotExist) ||
		!strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open(%s) error = %v; want a not-found error naming it", missing, err)
	}
}

// An HTTP URL that cannot be fetched is not reported as a missing file,
// whether or not this libnetcdf was built with byte-range support.
func TestOpenUnreachableURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/x.nc#mode=bytes"
	srv.Close()
	_, err := Open(url)
	if err == nil || IsNotFound(err) || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), url) {
		t.Errorf("Open(%s) error = %v", url, err)
	}
}
