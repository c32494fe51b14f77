package processes

import (
	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/workflow"
)

// commonParams are accepted by every process that computes on variables.
var commonParams = []workflow.ParamSpec{
	{Name: "variable", Type: "str", Min: 1, Max: 1, Help: "Name of the variable to compute on, when an input holds several; the others are carried through unchanged."},
	{Name: "rename", Type: "list", Min: 2, Max: -1, Help: "Pairs old|new renaming variables of the result, e.g. pr|pr_max."},
	{Name: "fillna", Type: "float", Min: 1, Max: 1, Help: "A number that replaces missing values in the result."},
}

func init() {
	register(&Process{
		ProcessSpec: workflow.ProcessSpec{
			Identifier: "CDAT.subset", MinInputs: 1, MaxInputs: 1,
			Params: append([]workflow.ParamSpec{
				{Name: "method", Type: "str", Min: 1, Max: 1, Choices: []string{"nearest", "pad", "backfill"},
					Help: "How a single value (start equal to end) that is not on a coordinate is matched: nearest, pad (the point before) or backfill (the point after)."},
			}, commonParams...),
		},
		Title: "Subset",
		Abstract: "Selects a region of a variable with the operation's domain. Each dimension of the domain is given in " +
			"indices (zero-based, end exclusive), values (coordinate values, both ends inclusive) or timestamps " +
			"(dates such as 1980-01 or 1980-01-15T12:00 in the variable's calendar, both ends inclusive, a partial date " +
			"covering its whole month or year). Equal start and end select one point. Longitude ranges may cross the " +
			"0/360 or -180/180 seam. Dimensions may be named as in the file or by axis (lat, latitude, lon, longitude, time, lev).",
		Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) { return c.Subset(in[0]) },
	})
	register(&Process{
		ProcessSpec: workflow.ProcessSpec{
			Identifier: "CDAT.aggregate", MinInputs: 1, MaxInputs: -1, SameVariable: true,
			Params: commonParams[1:], // rename and fillna; every input holds the same single variable
		},
		Title: "Aggregate",
		Abstract: "Joins inputs that hold the same variable split along time (one file per year, say) into one, in time " +
			"order. The inputs must agree on the other dimensions, the units and the calendar, and must not overlap in " +
			"time. A domain, if given, subsets the joined result.",
		Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) {
			// Each input holds the one variable checked at validation.
			parts := make([]ops.Array, len(in))
			for i, ds := range in {
				parts[i] = ds[0]
			}
			a, err := ops.Aggregate(parts)
			if err != nil {
				return nil, &UserError{Text: err.Error()}
			}
			return c.Subset(ops.Dataset{a})
		},
	})
	register(&Process{
		ProcessSpec: workflow.ProcessSpec{Identifier: workflow.Container, MinInputs: 1, MaxInputs: -1},
		Title:       "Workflow",
		Abstract: "Groups operations so that one request returns several results: each input of the workflow is an " +
			"output. Its domain applies to the operations that have none, and its parameters to those that lack them.",
	})
}
