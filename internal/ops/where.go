package ops

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/computewps/computewps/internal/netcdf"
)

// Cond is a condition of CDAT.where: <name> <op> <number>, <name> <op>
// <name>, <name> isnull or <name> notnull, where a name is a variable or a
// coordinate of the input.
type Cond struct {
	Text  string  // as written, for messages
	Left  string  // a variable or coordinate
	Op    string  // > >= < <= == != isnull notnull
	Right string  // a variable or coordinate, when the right side is a name
	Num   float64 // the number on the right
	IsNum bool    // the right side is Num
}

// condOps are the comparisons, the two-character ones first so that ">="
// is not read as ">" followed by "=".
var condOps = []string{">=", "<=", "==", "!=", ">", "<"}

// ParseCond parses a condition. Spaces between the parts are optional
// ("lat>-45", "pr isnull", "prisnull"), and numbers are full floating
// point numbers ("pr>2.3e-5"; the reference service kept one decimal).
func ParseCond(s string) (Cond, error) {
	c := Cond{Text: s}
	bad := fmt.Errorf("condition '%s' is not valid: expected <name> <op> <number>, <name> isnull or <name> notnull "+
		"(<op> is one of > >= < <= == !=; the number may also be the name of another variable)", s)
	rest := strings.TrimSpace(s)
	c.Left, rest = scanName(rest)
	if c.Left == "" {
		return c, bad
	}
	rest = strings.TrimSpace(rest)
	if rest == "" { // the test is glued to the name: "prisnull"
		for _, op := range []string{"isnull", "notnull"} {
			if name, ok := strings.CutSuffix(c.Left, op); ok && name != "" {
				c.Left, c.Op = name, op
				return c, nil
			}
		}
		return c, bad
	}
	if rest == "isnull" || rest == "notnull" {
		c.Op = rest
		return c, nil
	}
	for _, op := range condOps {
		if r, ok := strings.CutPrefix(rest, op); ok {
			c.Op, rest = op, strings.TrimSpace(r)
			break
		}
	}
	if c.Op == "" || rest == "" {
		return c, bad
	}
	if ch := rest[0]; ch >= '0' && ch <= '9' || ch == '-' || ch == '+' || ch == '.' {
		num, tail := scanNumber(rest)
		v, err := strconv.ParseFloat(num, 64)
		if num == "" || tail != "" || err != nil {
			return c, bad
		}
		c.Num, c.IsNum = v, true
		return c, nil
	}
	c.Right, rest = scanName(rest)
	if c.Right == "" || rest != "" {
		return c, bad
	}
	return c, nil
}

func isWordByte(ch byte) bool {
	return ch == '_' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z'
}

// scanName splits a leading name (letters, digits, underscores) off s.
func scanName(s string) (string, string) {
	i := 0
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// scanNumber splits a leading decimal number off s: a sign, digits with an
// optional point, and an optional exponent. Go's own syntax (hexadecimal,
// underscores, "inf") is not accepted.
func scanNumber(s string) (string, string) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return "", s
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	return s[:i], s[i:]
}

// coordArray is the coordinate of a dimension as a one-dimensional Array,
// so that conditions on coordinates broadcast like any variable.
type coordArray struct{ meta *Meta }

func coordAsArray(d Dim) Array {
	t := netcdf.Double
	if d.Coord != nil {
		t = d.Coord.Type
	}
	return &coordArray{meta: &Meta{Name: d.Name, Type: t, Dims: []Dim{d}}}
}

func (c *coordArray) Meta() *Meta { return c.meta }

func (c *coordArray) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	stride, err := checkSlab(c.meta, start, count, stride, dst)
	if err != nil {
		return err
	}
	coord := c.meta.Dims[0].Coord
	for i := range dst {
		k := start[0] + i*stride[0]
		if coord != nil {
			dst[i] = coord.Values[k]
		} else {
			dst[i] = float64(k)
		}
	}
	return nil
}

// Where keeps the values of every variable of ds where cond holds and puts
// other (NaN: missing) everywhere else. Where a comparison meets a missing
// value the result is missing, as in CDO (xarray would put other there and
// so turn missing data into data). A variable is repeated along the
// dimensions of the condition's operands it lacks. A number is compared in
// the precision of its operand, so tas==273.15 finds a float32 273.15.
func Where(ds Dataset, cond Cond, other float64) (Dataset, error) {
	op, ok := cmpOps[cond.Op]
	if !ok || op < cmpIsNull && !cond.IsNum && cond.Right == "" {
		return nil, fmt.Errorf("condition '%s' is incomplete", cond.Text)
	}
	left, err := condOperand(ds, cond, cond.Left)
	if err != nil {
		return nil, err
	}
	var right Array
	if cond.Right != "" {
		if right, err = condOperand(ds, cond, cond.Right); err != nil {
			return nil, err
		}
	}
	num := cond.Num
	if cond.IsNum && left.Meta().Type == netcdf.Float {
		num = float64(float32(num))
	}
	out := make(Dataset, len(ds))
	for i, v := range ds {
		list := []Array{v, left}
		if right != nil {
			list = append(list, right)
		}
		dims, pos, err := broadcastDims(list)
		if err != nil {
			var me *MismatchError
			if errors.As(err, &me) {
				return nil, fmt.Errorf("condition '%s': %s and %s differ in dimension %q: %s",
					cond.Text, list[me.A].Meta().Name, list[me.B].Meta().Name, me.Dim, me.Detail)
			}
			return nil, err
		}
		vm := v.Meta()
		m := derivedMeta(vm, vm.Type, true)
		m.Dims = dims
		w := &whereArray{meta: m, op: op, num: num, other: other, direct: len(dims) == len(vm.Dims),
			v: operand{a: v, pos: pos[0]}, l: operand{a: left, pos: pos[1]}, lSelf: left == v}
		if right != nil {
			w.r, w.rSelf = &operand{a: right, pos: pos[2]}, right == v
		}
		out[i] = w
	}
	return out, nil
}

// condOperand finds a name of a condition among the variables of ds, then
// among the coordinates of their dimensions.
func condOperand(ds Dataset, cond Cond, name string) (Array, error) {
	for _, a := range ds {
		if a.Meta().Name == name {
			return a, nil
		}
	}
	var names []string
	for _, a := range ds {
		names = append(names, a.Meta().Name)
	}
	for _, a := range ds {
		for _, d := range a.Meta().Dims {
			if d.Name == name || d.Coord != nil && d.Coord.Name == name {
				return coordAsArray(d), nil
			}
			names = append(names, d.Name)
		}
	}
	return nil, fmt.Errorf("condition '%s': '%s' is neither a variable nor a coordinate of the input, which has %s",
		cond.Text, name, strings.Join(uniqueStrings(names), ", "))
}

// whereArray keeps the values of v where a condition on l (and r, or a
// number) holds.
type whereArray struct {
	meta         *Meta
	op           cmpOp
	num, other   float64
	direct       bool // v has the result's dimensions: read it into dst
	v, l         operand
	r            *operand // nil when the right side is a number
	lSelf, rSelf bool     // the side is v itself, which is then read once
}

func (w *whereArray) Meta() *Meta { return w.meta }

func (w *whereArray) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	stride, err := checkSlab(w.meta, start, count, stride, dst)
	if err != nil {
		return err
	}
	if len(dst) == 0 {
		return nil
	}
	v, vs := dst, rowMajorSteps(count)
	if w.direct {
		if err := w.v.a.Read(ctx, start, count, stride, dst); err != nil {
			return err
		}
	} else {
		if v, vs, err = w.v.read(ctx, start, count, stride); err != nil {
			return err
		}
		defer w.v.pool.put(v)
	}
	l, ls := v, vs
	if !w.lSelf {
		if l, ls, err = w.l.read(ctx, start, count, stride); err != nil {
			return err
		}
		defer w.l.pool.put(l)
	}
	r, rs := []float64{w.num}, make([]int, len(count))
	switch {
	case w.r == nil:
	case w.rSelf:
		r, rs = v, vs
	default:
		if r, rs, err = w.r.read(ctx, start, count, stride); err != nil {
			return err
		}
		defer w.r.pool.put(r)
	}
	forRows(count, [][]int{vs, ls, rs}, func(d int, off []int, n int, inner []int) {
		whereRow(w.op, dst[d:d+n], v[off[0]:], inner[0], l[off[1]:], inner[1], r[off[2]:], inner[2], w.other)
	})
	return nil
}

// whereRow sets d[i] = v[i*vs] where l[i*ls] op r[i*rs] holds, other
// where it does not, and NaN where a comparison meets a missing operand.
// v, l and r may be d itself: each is read at i before d[i] is written.
func whereRow(op cmpOp, d, v []float64, vs int, l []float64, ls int, r []float64, rs int, other float64) {
	iv, il, ir := 0, 0, 0
	for i := range d {
		a, b := l[il], r[ir]
		var ok bool
		switch op {
		case cmpGT:
			ok = a > b
		case cmpGE:
			ok = a >= b
		case cmpLT:
			ok = a < b
		case cmpLE:
			ok = a <= b
		case cmpEQ:
			ok = a == b
		case cmpNE:
			ok = a != b
		case cmpIsNull:
			ok = math.IsNaN(a)
		case cmpNotNull:
			ok = !math.IsNaN(a)
		}
		switch {
		case op < cmpIsNull && (math.IsNaN(a) || math.IsNaN(b)):
			d[i] = math.NaN()
		case ok:
			d[i] = v[iv]
		default:
			d[i] = other
		}
		iv, il, ir = iv+vs, il+ls, ir+rs
	}
}

// cmpOp is a comparison, decoded once from Cond.Op.
type cmpOp int

const (
	cmpGT cmpOp = iota
	cmpGE
	cmpLT
	cmpLE
	cmpEQ
	cmpNE
	cmpIsNull // the tests on one operand come last
	cmpNotNull
)

var cmpOps = map[string]cmpOp{">": cmpGT, ">=": cmpGE, "<": cmpLT, "<=": cmpLE, "==": cmpEQ, "!=": cmpNE,
	"isnull": cmpIsNull, "notnull": cmpNotNull}
