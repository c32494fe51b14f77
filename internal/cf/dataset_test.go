package cf_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/sample"
)

// TestCoordBounds: bounds are read when asked for, and a Take of a Take
// gives the rows it selected, moved by both shifts.
func TestCoordBounds(t *testing.T) {
	dir := t.TempDir()
	if _, err := sample.Ensure(dir); err != nil {
		t.Fatal(err)
	}
	ds, err := cf.Open(filepath.Join(dir, "tas_day_2000.nc"))
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	v, _ := ds.Var("tas")
	c, err := ds.Coord(v.Dims[0])
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Bounds(); len(b) != 730 || b[0] != 0 || b[1] != 1 || b[729] != 365 {
		t.Fatalf("time bounds %v ... %v", b[:2], b[len(b)-2:])
	}
	sub := c.Take([]int{10, 11, 12, 40}, nil).Take([]int{1, 3}, []float64{0.25, -1})
	if got, want := sub.Bounds(), []float64{11.25, 12.25, 39, 40}; !reflect.DeepEqual(got, want) {
		t.Errorf("bounds of the taken rows %v, want %v", got, want)
	}
	if got, want := sub.Values, []float64{11.75, 39.5}; !reflect.DeepEqual(got, want) {
		t.Errorf("values %v, want %v", got, want)
	}
	// A fresh coordinate taken before its bounds were read reads only its rows.
	c2, _ := ds.Coord(v.Dims[0])
	if got := c2.Take([]int{364}, nil).Bounds(); !reflect.DeepEqual(got, []float64{364, 365}) {
		t.Errorf("last row %v", got)
	}
	lat, _ := ds.Coord(v.Dims[1])
	if lat.Bounds() != nil || lat.Take([]int{0}, nil).Bounds() != nil {
		t.Error("a coordinate without bounds has bounds")
	}
	set := cf.Coord{Values: []float64{1.5}}
	set.SetBounds([]float64{1, 2})
	if got := set.Take([]int{0}, []float64{360}).Bounds(); !reflect.DeepEqual(got, []float64{361, 362}) {
		t.Errorf("set bounds taken %v", got)
	}
}
