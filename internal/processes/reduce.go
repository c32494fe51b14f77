package processes

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/workflow"
)

// axesParam names the dimensions a reduction removes.
var axesParam = workflow.ParamSpec{Name: "axes", Type: "list", Min: 1, Max: -1,
	Help: "Dimensions to reduce over, separated by |, by name or by axis (time, lat, latitude, lon, longitude, lev), e.g. time|lat. " +
		"They disappear from the result. Without axes every dimension is reduced."}

// reductionNote ends the abstract of every reduction.
const reductionNote = " Missing values are left out; where every value is missing the result is missing. The reduction is " +
	"noted in the cell_methods attribute (e.g. \"time: mean\"). The input is read once, a slab at a time, whatever its size. " +
	"Applied to the result of CDAT.groupby_bins it gives one value per bin, over all the points in the bin (axes cannot be given then)."

func init() {
	for _, s := range []struct {
		stat            ops.Statistic
		title, abstract string
	}{
		{ops.Maximum, "Maximum", "The largest value of the input over the chosen axes."},
		{ops.Minimum, "Minimum", "The smallest value of the input over the chosen axes."},
		{ops.Mean, "Mean", "The plain (unweighted) arithmetic mean of the input over the chosen axes, as the reference service " +
			"computed it. For the area-weighted mean over latitude and longitude, or the mean over time weighted by the " +
			"length of each time step, use CDAT.average."},
		{ops.Sum, "Sum", "The sum of the input over the chosen axes."},
		{ops.StdDev, "Standard deviation", "The population standard deviation (dividing by n, like xarray's std and CDO's " +
			"timstd; CDO's timstd1 divides by n-1) of the input over the chosen axes, unweighted, computed in double " +
			"precision without the cancellation of the textbook sum-of-squares formula."},
		{ops.Variance, "Variance", "The population variance (dividing by n, like xarray's var and CDO's timvar) of the input " +
			"over the chosen axes, unweighted; its units are the square of the input's."},
		{ops.Count, "Count", "The number of values of the input that are not missing, over the chosen axes (over every " +
			"dimension when none are given, as the reference service counted). The result is an integer."},
	} {
		register(&Process{
			ProcessSpec: workflow.ProcessSpec{Identifier: "CDAT." + s.stat.String(), MinInputs: 1, MaxInputs: 1,
				Params: append([]workflow.ParamSpec{axesParam}, commonParams...)},
			Title:    s.title,
			Abstract: s.abstract + reductionNote,
			Grouped:  true,
			Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) {
				ds, err := subsetKeepingGroups(c, in[0])
				if err != nil {
					return nil, err
				}
				return reduceEach(ds, axesOf(c), func(a ops.Array, axes []string) (ops.Array, error) {
					return ops.Reduce(a, s.stat, axes, reduceOptions(c))
				})
			},
		})
	}
	register(&Process{
		ProcessSpec: workflow.ProcessSpec{Identifier: "CDAT.filter_map", MinInputs: 1, MaxInputs: 1,
			Params: append([]workflow.ParamSpec{
				{Name: "func", Type: "str", Min: 1, Max: 1, Choices: []string{"max", "min", "sum", "mean", "std", "var", "count"},
					Help: "The reduction (required): max, min, sum, mean, std, var or count."},
				{Name: "cond", Type: "str", Min: 1, Max: 1, Check: checkCond,
					Help: "A condition, as for CDAT.where (e.g. pr>0.0001, lat>=-30, pr notnull); values where it does not hold are replaced by other before the reduction."},
				{Name: "other", Type: "float", Min: 1, Max: 1, Help: "The value put where cond does not hold; missing by default."},
			}, commonParams...)},
		Title: "Filter and reduce",
		Abstract: "Keeps the values where cond holds (others become other, by default missing, as CDAT.where does), then " +
			"reduces them with func over every dimension, or over each bin when the input is the result of " +
			"CDAT.groupby_bins. Without cond it is the reduction alone. Missing values are left out of the reduction.",
		Build:   buildFilterMap,
		Grouped: true,
	})
}

// axesOf returns the axes parameter without empty names.
func axesOf(c *Call) []string {
	var out []string
	for _, a := range c.Op.Params["axes"] {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func reduceOptions(c *Call) ops.ReduceOptions { return ops.ReduceOptions{SlabBytes: c.r.env.SlabBytes} }

// reduceEach reduces every variable of ds with f over the axes it has, as
// xarray reduces a Dataset: a variable without any of the axes is kept as
// it is, and an axis that no variable has is an error. No axes reduce
// every variable over all its dimensions.
func reduceEach(ds ops.Dataset, axes []string, f func(a ops.Array, axes []string) (ops.Array, error)) (ops.Dataset, error) {
	used := make([]bool, len(axes))
	out := make(ops.Dataset, len(ds))
	for i, a := range ds {
		mine := axes
		if len(axes) > 0 {
			mine = nil
			for j, ax := range axes {
				if _, err := ops.ResolveDims(a.Meta(), []string{ax}); err == nil {
					mine, used[j] = append(mine, ax), true
				}
			}
			if len(mine) == 0 {
				out[i] = a
				continue
			}
		}
		r, err := f(a, mine)
		if err != nil {
			return nil, &UserError{Text: err.Error()}
		}
		out[i] = r
	}
	for j, ok := range used {
		if ok {
			continue
		}
		if len(ds) == 1 {
			_, err := ops.ResolveDims(ds[0].Meta(), axes[j:j+1])
			return nil, &UserError{Text: err.Error()}
		}
		var have []string
		for _, a := range ds {
			m := a.Meta()
			names := make([]string, len(m.Dims))
			for k, d := range m.Dims {
				names[k] = d.Name
			}
			have = append(have, fmt.Sprintf("%s (%s)", m.Name, strings.Join(names, ", ")))
		}
		return nil, &UserError{Text: fmt.Sprintf("axis '%s' is not a dimension of any variable of the input: %s", axes[j], strings.Join(have, "; "))}
	}
	return out, nil
}

func buildFilterMap(c *Call, in []ops.Dataset) (ops.Dataset, error) {
	name, ok := c.Op.Param("func")
	if !ok {
		return nil, &UserError{Text: "CDAT.filter_map requires the func parameter: one of max, min, sum, mean, std, var, count"}
	}
	stat, err := ops.ParseStatistic(strings.TrimSpace(name))
	if err != nil {
		return nil, &UserError{Text: err.Error()}
	}
	ds, err := subsetKeepingGroups(c, in[0])
	if err != nil {
		return nil, err
	}
	// The condition applies to the data; the groups stay those of the
	// values before it, as xarray maps over the groups.
	data := make(ops.Dataset, len(ds))
	groups := make([]*ops.Grouped, len(ds))
	for i, a := range ds {
		data[i] = a
		if g, d, ok := ops.Ungroup(a); ok {
			groups[i], data[i] = g, d
		}
	}
	if text, ok := c.Op.Param("cond"); ok {
		cond, err := ops.ParseCond(text)
		if err != nil {
			return nil, &UserError{Text: err.Error()}
		}
		other := math.NaN()
		if v, ok := c.Op.Param("other"); ok {
			if other, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
				return nil, &UserError{Text: fmt.Sprintf("other must be a number, got %q", v)}
			}
		}
		if data, err = ops.Where(data, cond, other); err != nil {
			return nil, &UserError{Text: err.Error()}
		}
	}
	out := make(ops.Dataset, len(data))
	for i, a := range data {
		if groups[i] != nil {
			g, err := groups[i].Regroup(a)
			if err != nil {
				return nil, &UserError{Text: err.Error()}
			}
			a = g
		}
		if out[i], err = ops.Reduce(a, stat, nil, reduceOptions(c)); err != nil {
			return nil, &UserError{Text: err.Error()}
		}
	}
	return out, nil
}
