package ops

import (
	"context"
	"fmt"
)

// ConflictError is a variable name that two inputs of a merge both hold.
// A and B are the positions of the inputs (from 0).
type ConflictError struct {
	Var  string
	A, B int
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("inputs %d and %d both hold a variable %q", e.A+1, e.B+1, e.Var)
}

// Merge puts the variables of every input into one dataset. Dimensions of
// the same name must have the same length and coordinates. Two variables of
// the same name are a *ConflictError, unless override is set: then the
// first input's wins. Nothing is read; the variables stay as lazy as they
// were.
func Merge(inputs []Dataset, override bool) (Dataset, error) {
	var out Dataset
	from := map[string]int{} // input of each variable kept
	dims := map[string]Dim{}
	dimFrom := map[string]int{}
	for n, ds := range inputs {
		for _, a := range ds {
			m := a.Meta()
			if first, dup := from[m.Name]; dup {
				if override {
					continue
				}
				return nil, &ConflictError{Var: m.Name, A: first, B: n}
			}
			for _, d := range m.Dims {
				prev, seen := dims[d.Name]
				if !seen {
					dims[d.Name], dimFrom[d.Name] = d, n
					continue
				}
				if err := sameCoord(prev, d); err != nil {
					return nil, &MismatchError{Dim: d.Name, A: dimFrom[d.Name], B: n, Detail: err.Error()}
				}
			}
			from[m.Name] = n
			out = append(out, a)
		}
	}
	return out, nil
}

// squeezed is its source without its dimensions of length 1.
type squeezed struct {
	src  Array
	meta *Meta
	keep []int // the source dimension of each of ours
}

// Squeeze drops the dimensions of length 1 of a. Their coordinate values
// are dropped too: the writer writes coordinates of dimensions only.
func Squeeze(a Array) Array {
	sm := a.Meta()
	m := *sm
	m.Dims = nil
	var keep []int
	for i, d := range sm.Dims {
		if d.Len != 1 {
			m.Dims = append(m.Dims, d)
			keep = append(keep, i)
		}
	}
	if len(keep) == len(sm.Dims) {
		return a
	}
	return &squeezed{src: a, meta: &m, keep: keep}
}

func (s *squeezed) Meta() *Meta { return s.meta }

func (s *squeezed) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	stride, err := checkSlab(s.meta, start, count, stride, dst)
	if err != nil {
		return err
	}
	n := len(s.src.Meta().Dims)
	ss, sc, sst := make([]int, n), ones(n), ones(n)
	for k, i := range s.keep {
		ss[i], sc[i], sst[i] = start[k], count[k], stride[k]
	}
	// Dropping dimensions of length 1 leaves the order of values as it was.
	return s.src.Read(ctx, ss, sc, sst, dst)
}
