package processes

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/workflow"
)

func init() {
	register(&Process{
		ProcessSpec: workflow.ProcessSpec{Identifier: "CDAT.groupby_bins", MinInputs: 1, MaxInputs: 1,
			Params: []workflow.ParamSpec{
				{Name: "variable", Type: "str", Min: 1, Max: 1,
					Help: "The variable whose values are binned (required); the other variables of the input are carried through ungrouped."},
				{Name: "bins", Type: "float", Min: 2, Max: -1,
					Help: "The bin edges in ascending order, separated by |, e.g. 0|0.001|0.01: n+1 edges make n bins."},
			}},
		Title: "Group by bins",
		Abstract: "Groups the points of a variable by the bin its value falls in, for a following reduction (CDAT.mean, " +
			"std, var, max, min, sum, count or filter_map) that then gives one value per bin along a new dimension " +
			"<variable>_bins, whose coordinate is the middle of each bin with the edges as bounds. Bins are closed on the " +
			"right, as in xarray: bin i holds the values v with edge i < v <= edge i+1, so a value equal to the first " +
			"edge, beyond the last, or missing is in no bin; an empty bin gives a missing value (a count of 0). The " +
			"result of this process is groups, not data: it must be reduced by another operation.",
		Build: buildGroupByBins,
	})
}

func buildGroupByBins(c *Call, in []ops.Dataset) (ops.Dataset, error) {
	name, ok := c.Op.Param("variable")
	if !ok {
		return nil, &UserError{Text: "CDAT.groupby_bins requires the variable parameter: the variable whose values choose the bins"}
	}
	for _, o := range c.r.w.Outputs {
		if o == c.Op {
			return nil, &UserError{Text: "the result of CDAT.groupby_bins is groups, not data: reduce it with a following " +
				"CDAT.mean, std, var, max, min, sum, count or filter_map"}
		}
	}
	var edges []float64
	for _, v := range c.Op.Params["bins"] {
		e, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, &UserError{Text: fmt.Sprintf("invalid bin value %q", v)}
		}
		edges = append(edges, e)
	}
	ds, err := c.Subset(in[0]) // the runner passed only the variable
	if err != nil {
		return nil, err
	}
	out := make(ops.Dataset, len(ds))
	for i, a := range ds {
		if _, _, grouped := ops.Ungroup(a); grouped {
			return nil, &UserError{Text: fmt.Sprintf("%s is grouped already; reduce it before grouping it again", name)}
		}
		g, err := ops.GroupByBins(a, a, edges)
		if err != nil {
			return nil, &UserError{Text: err.Error()}
		}
		out[i] = g
	}
	return out, nil
}

// subsetKeepingGroups applies the operation's domain to ds; a grouped
// variable has its data and its key subset alike, so it stays grouped.
func subsetKeepingGroups(c *Call, ds ops.Dataset) (ops.Dataset, error) {
	out := make(ops.Dataset, len(ds))
	for i, a := range ds {
		g, data, ok := ops.Ungroup(a)
		if !ok {
			s, err := c.Subset(ops.Dataset{a})
			if err != nil {
				return nil, err
			}
			out[i] = s[0]
			continue
		}
		s, err := c.Subset(ops.Dataset{data, g.Key})
		if err != nil {
			return nil, err
		}
		if out[i], err = ops.GroupByBins(s[0], s[1], g.Edges); err != nil {
			return nil, &UserError{Text: err.Error()}
		}
	}
	return out, nil
}
