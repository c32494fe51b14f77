package ops

import (
	"context"
	"math"
)

// renamed is an Array under another variable name.
type renamed struct {
	Array
	meta *Meta
}

// Rename returns a under the name name.
func Rename(a Array, name string) Array {
	m := *a.Meta()
	m.Name = name
	return &renamed{Array: a, meta: &m}
}

func (r *renamed) Meta() *Meta { return r.meta }

// filled replaces missing values with a number.
type filled struct {
	Array
	value float64
}

// FillNA returns a with every missing value (NaN) replaced by value.
func FillNA(a Array, value float64) Array { return &filled{Array: a, value: value} }

func (f *filled) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	if err := f.Array.Read(ctx, start, count, stride, dst); err != nil {
		return err
	}
	for i, x := range dst {
		if math.IsNaN(x) {
			dst[i] = f.value
		}
	}
	return nil
}
