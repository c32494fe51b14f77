package netcdf

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadFloat32(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rt.nc")
	writeRoundTrip(t, path)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tas, err := f.Var("tas")
	if err != nil {
		t.Fatal(err)
	}
	// The whole variable, fill values included, as float64 reads it.
	got := make([]float32, nTime*nLat*nLon)
	if err := f.ReadFloat32(tas.ID, []int{0, 0, 0}, []int{nTime, nLat, nLon}, nil, got); err != nil {
		t.Fatal(err)
	}
	for i, want := range expectedTas() {
		if float64(got[i]) != want {
			t.Fatalf("tas[%d] = %v, want %v", i, got[i], want)
		}
	}
	// Strided and partial hyperslabs agree with Read.
	for _, c := range []struct{ start, count, stride []int }{
		{[]int{1, 1, 0}, []int{2, 3, 5}, nil},
		{[]int{0, 0, 1}, []int{3, 2, 2}, []int{2, 3, 2}},
		{[]int{4, 3, 4}, []int{1, 1, 1}, []int{1, 1, 1}},
		{[]int{0, 0, 0}, []int{0, 4, 5}, nil},
	} {
		n := c.count[0] * c.count[1] * c.count[2]
		f32, f64 := make([]float32, n), make([]float64, n)
		if err := f.ReadFloat32(tas.ID, c.start, c.count, c.stride, f32); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if err := f.Read(tas.ID, c.start, c.count, c.stride, f64); err != nil {
			t.Fatal(err)
		}
		for i := range f32 {
			if float64(f32[i]) != f64[i] {
				t.Errorf("%v: value %d is %v as float32, %v as float64", c, i, f32[i], f64[i])
			}
		}
	}
	// Another type is converted by libnetcdf.
	q, _ := f.Var("quality")
	qs := make([]float32, nTime*nLat)
	if err := f.ReadFloat32(q.ID, []int{0, 0}, []int{nTime, nLat}, nil, qs); err != nil {
		t.Fatal(err)
	}
	if qs[nLat+2] != float32(qualityValue(1, 2)) {
		t.Errorf("quality[1,2] = %v", qs[nLat+2])
	}
	// The checks are Read's.
	err = f.ReadFloat32(tas.ID, []int{0, 0, 0}, []int{1, 4, 5}, nil, make([]float32, 19))
	var e *Error
	if !errors.As(err, &e) || e.Var != "tas" || !strings.Contains(err.Error(), "data has 19 elements but count selects 20") {
		t.Errorf("short dst: %v", err)
	}
	if err := f.ReadFloat32(tas.ID, []int{0, 0}, []int{1, 4}, nil, make([]float32, 4)); err == nil || !strings.Contains(err.Error(), "variable has 3 dimensions but start has 2") {
		t.Errorf("rank: %v", err)
	}
	if err := f.ReadFloat32(tas.ID, []int{nTime, 0, 0}, []int{1, 4, 5}, nil, make([]float32, 20)); err == nil || !strings.Contains(err.Error(), "Index exceeds dimension bound") {
		t.Errorf("out of bounds: %v", err)
	}
	f.Close()
	if err := f.ReadFloat32(tas.ID, []int{0, 0, 0}, []int{1, 1, 1}, nil, make([]float32, 1)); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("closed file: %v", err)
	}
}

func TestChunking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rt.nc")
	writeRoundTrip(t, path)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, want := range map[string][]int{"tas": {1, nLat, nLon}, "lat": nil, "height": nil} {
		v, err := f.Var(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Chunking(v.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Chunking(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := f.Chunking(99); err == nil {
		t.Error("Chunking of varid 99 succeeded")
	}
	classic := filepath.Join(t.TempDir(), "classic.nc")
	writeClassicCube(t, classic, 2, 3, 4)
	c, err := Open(classic)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Var("tas")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Chunking(v.ID); err != nil || got != nil {
		t.Errorf("classic file: Chunking = %v, %v", got, err)
	}
}

func TestWriteFloat32(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w32.nc")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f.DefDim("x", 4)
	v, _ := f.DefVar("v", Float, []int{d})
	s, _ := f.DefVar("s", Short, []int{d})
	if err := f.EndDef(); err != nil {
		t.Fatal(err)
	}
	want := []float32{1.5, -2.25, 3e38, 0}
	if err := f.WriteFloat32(v, []int{0}, []int{4}, want); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteFloat32(v, []int{3}, []int{2}, want[:2]); err == nil {
		t.Error("a slab past the end was written")
	}
	// Into a short variable libnetcdf converts, and reports values out of range.
	if err := f.WriteFloat32(s, []int{0}, []int{4}, want); err == nil || !strings.Contains(err.Error(), `"s"`) {
		t.Errorf("3e38 into a short: %v", err)
	}
	f.Close()
	g, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	gv, _ := g.Var("v")
	got := make([]float32, 4)
	if err := g.ReadFloat32(gv.ID, []int{0}, []int{4}, nil, got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("read back %v %v, want %v", got, err, want)
	}
}
