// Package nctest reads NetCDF files in tests.
package nctest

import (
	"testing"

	"github.com/computewps/computewps/internal/netcdf"
)

// ReadVar reads a whole variable of the file at path (or an OPeNDAP URL)
// and its shape, failing tb on any error.
func ReadVar(tb testing.TB, path, name string) ([]float64, []int) {
	tb.Helper()
	f, err := netcdf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	v, err := f.Var(name)
	if err != nil {
		tb.Fatal(err)
	}
	shape := v.Shape()
	n := 1
	for _, s := range shape {
		n *= s
	}
	out := make([]float64, n)
	if err := f.Read(v.ID, make([]int, len(shape)), shape, nil, out); err != nil {
		tb.Fatal(err)
	}
	return out, shape
}
