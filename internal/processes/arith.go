package processes

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/workflow"
)

// missingNote ends the abstract of every arithmetic process.
const missingNote = " Missing values stay missing, and results that are undefined or infinite (or too large for the " +
	"variable's type) are missing too. The result is float when the inputs are float, else double."

func init() {
	for _, u := range []struct {
		f        ops.Func
		title    string
		abstract string
	}{
		{ops.Abs, "Absolute value", "The absolute value of every value of the input. Units are kept."},
		{ops.Exp, "Exponential", "e raised to every value of the input. The result has no units attribute."},
		{ops.Log, "Natural logarithm", "The natural logarithm of every value of the input; zero and negative values give missing values. The result has no units attribute."},
		{ops.Sqrt, "Square root", "The square root of every value of the input; negative values give missing values. The result has no units attribute."},
	} {
		register(&Process{
			ProcessSpec: workflow.ProcessSpec{Identifier: "CDAT." + u.f.String(), MinInputs: 1, MaxInputs: 1, Params: commonParams},
			Title:       u.title,
			Abstract:    u.abstract + missingNote,
			Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) {
				return mapArrays(c, in[0], func(a ops.Array) ops.Array { return ops.Apply(a, u.f) })
			},
		})
	}
	register(&Process{
		ProcessSpec: workflow.ProcessSpec{Identifier: "CDAT.power", MinInputs: 1, MaxInputs: 1,
			Params: append([]workflow.ParamSpec{{Name: "const", Type: "float", Min: 1, Max: 1,
				Help: "The exponent (required), e.g. 2 squares every value."}}, commonParams...)},
		Title: "Power",
		Abstract: "Raises every value of the input to the power const; a negative value to a fractional power gives a " +
			"missing value. The result has no units attribute." + missingNote,
		Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) {
			p, ok, err := constOf(c)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, &UserError{Text: "CDAT.power requires the const parameter (the exponent)"}
			}
			return mapArrays(c, in[0], func(a ops.Array) ops.Array { return ops.Power(a, p) })
		},
	})
	for _, b := range []struct {
		op       ops.BinaryOp
		title    string
		abstract string
	}{
		{ops.Add, "Add", "Adds the second input, or the number const, to the first input. The result keeps the first input's units."},
		{ops.Subtract, "Subtract", "Subtracts the second input, or the number const, from the first input. The result keeps the first input's units."},
		{ops.Multiply, "Multiply", "Multiplies the first input by the second input, or by the number const. With const the result keeps the " +
			"first input's units (const is taken as a pure number); with a second input it has no units attribute, since " +
			"the units of a product are not computed."},
		{ops.Divide, "Divide", "Divides the first input by the second input, or by the number const; division by zero gives a " +
			"missing value. With const the result keeps the first input's units (const is taken as a pure number); with a " +
			"second input it has no units attribute, since the units of a quotient are not computed."},
	} {
		id := "CDAT." + b.op.String()
		register(&Process{
			ProcessSpec: workflow.ProcessSpec{Identifier: id, MinInputs: 1, MaxInputs: 2,
				Params: append([]workflow.ParamSpec{{Name: "const", Type: "float", Min: 1, Max: 1,
					Help: "A number to use in place of a second input."}}, commonParams...)},
			Title: b.title,
			Abstract: b.abstract + " Two inputs are matched by dimension name and the second is repeated along the " +
				"dimensions it lacks, so tas(time,lat,lon) minus a climatology clim(lat,lon) subtracts clim from every " +
				"time step; a dimension both have must have the same length and coordinate values. When the inputs hold " +
				"several variables, each variable of the first is combined with the second's variable of the same name, " +
				"or with its only variable. The result takes the first input's names and attributes. The domain applies " +
				"to both inputs (to the second only along the dimensions it has)." + missingNote,
			Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) { return buildBinary(c, id, b.op, in) },
		})
	}
}

// constOf reads the const parameter; validation has checked it is a number.
func constOf(c *Call) (float64, bool, error) {
	v, ok := c.Op.Param("const")
	if !ok {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, false, &UserError{Text: fmt.Sprintf("const must be a number, got %q", v)}
	}
	return f, true, nil
}

// mapArrays applies the domain to the input, then f to each of its variables.
func mapArrays(c *Call, ds ops.Dataset, f func(ops.Array) ops.Array) (ops.Dataset, error) {
	ds, err := c.Subset(ds)
	if err != nil {
		return nil, err
	}
	out := make(ops.Dataset, len(ds))
	for i, a := range ds {
		out[i] = f(a)
	}
	return out, nil
}

func buildBinary(c *Call, id string, op ops.BinaryOp, in []ops.Dataset) (ops.Dataset, error) {
	k, hasConst, err := constOf(c)
	if err != nil {
		return nil, err
	}
	switch {
	case len(in) == 1 && !hasConst:
		return nil, &UserError{Text: id + " requires 2 inputs or the const parameter"}
	case len(in) == 2 && hasConst:
		return nil, &UserError{Text: id + " takes a second input or the const parameter, not both"}
	}
	if hasConst {
		return mapArrays(c, in[0], func(a ops.Array) ops.Array { return ops.WithConst(a, op, k) })
	}
	x, err := c.Subset(in[0])
	if err != nil {
		return nil, err
	}
	y, err := subsetWhereDefined(c, in[1])
	if err != nil {
		return nil, err
	}
	out := make(ops.Dataset, len(x))
	for i, a := range x {
		b, err := counterpart(c, a, y)
		if err != nil {
			return nil, err
		}
		if out[i], err = ops.Binary(a, b, op); err != nil {
			return nil, explainInputs(c, err)
		}
	}
	return out, nil
}

// counterpart finds what a variable of the first input is combined with:
// the second input's variable of the same name, or its only variable.
func counterpart(c *Call, a ops.Array, y ops.Dataset) (ops.Array, error) {
	if len(y) == 1 {
		return y[0], nil
	}
	var names []string
	for _, b := range y {
		if b.Meta().Name == a.Meta().Name {
			return b, nil
		}
		names = append(names, b.Meta().Name)
	}
	return nil, &UserError{Text: fmt.Sprintf("variable %q of input %q has no variable of the same name in input %q, which holds %s",
		a.Meta().Name, c.Op.Inputs[0], c.Op.Inputs[1], strings.Join(names, ", "))}
}

// subsetWhereDefined applies the operation's domain to an input that is
// broadcast or merged, along the dimensions it has only: a climatology
// without time is not cut by the time range of the domain.
func subsetWhereDefined(c *Call, ds ops.Dataset) (ops.Dataset, error) {
	d := c.r.w.DomainOf(c.Op)
	if d == nil {
		return ds, nil
	}
	method, _ := c.Op.Param("method")
	out := make(ops.Dataset, len(ds))
	for i, a := range ds {
		var dims []workflow.Dimension
		for _, dim := range d.Dims {
			if domainDimApplies(a.Meta(), dim.Name) {
				dims = append(dims, dim)
			}
		}
		s, err := ops.Subset(a, dims, method, c.Progress)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// domainDimApplies says whether a domain dimension applies to an array: by
// name, or by axis as ops.Subset matches it ("latitude" finds "lat").
func domainDimApplies(m *ops.Meta, name string) bool {
	if m.DimIndex(name) >= 0 {
		return true
	}
	ax := cf.AxisByName(name)
	for _, d := range m.Dims {
		if ax != cf.AxisNone && d.Coord != nil && d.Coord.Axis == ax {
			return true
		}
	}
	return false
}

// explainInputs makes an ops error a UserError that names the inputs as the
// request does.
func explainInputs(c *Call, err error) error {
	name := func(i int) string {
		if i < len(c.Op.Inputs) {
			return c.Op.Inputs[i]
		}
		return fmt.Sprint(i + 1)
	}
	var me *ops.MismatchError
	var ce *ops.ConflictError
	switch {
	case errors.As(err, &me):
		return &UserError{Text: fmt.Sprintf("dimension %q differs between input %q and input %q: %s", me.Dim, name(me.A), name(me.B), me.Detail)}
	case errors.As(err, &ce):
		return &UserError{Text: fmt.Sprintf("inputs %q and %q both hold a variable %q; with compat=override the first is kept", name(ce.A), name(ce.B), ce.Var)}
	}
	return &UserError{Text: err.Error()}
}
