package processes

import (
	"fmt"
	"slices"
	"strings"

	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/workflow"
)

func init() {
	register(&Process{
		ProcessSpec: workflow.ProcessSpec{Identifier: "CDAT.merge", MinInputs: 2, MaxInputs: -1,
			Params: append([]workflow.ParamSpec{
				{Name: "compat", Type: "str", Min: 1, Max: 1, Choices: []string{"no_conflicts", "override"},
					Help: "What to do when two inputs hold a variable of the same name: no_conflicts (the default) refuses, override keeps the first input's."},
			}, commonParams...)},
		Title: "Merge",
		Abstract: "Puts the variables of every input into one result, for example tas and pr in one file, or two variables " +
			"to compare with CDAT.where. Dimensions of the same name must have the same length and coordinate values. " +
			"The domain applies to every input along the dimensions it has.",
		Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) {
			compat, _ := c.Op.Param("compat")
			if err := checkDomainDims(c, in); err != nil {
				return nil, err
			}
			for i, ds := range in {
				s, err := subsetWhereDefined(c, ds)
				if err != nil {
					return nil, err
				}
				in[i] = s
			}
			out, err := ops.Merge(in, compat == "override")
			if err != nil {
				return nil, explainInputs(c, err)
			}
			return out, nil
		},
	})
	register(&Process{
		ProcessSpec: workflow.ProcessSpec{Identifier: "CDAT.squeeze", MinInputs: 1, MaxInputs: 1, Params: commonParams},
		Title:       "Squeeze",
		Abstract: "Drops the dimensions of length 1, for example the time dimension of a single time step, so that " +
			"tas(time=1,lat,lon) becomes tas(lat,lon). The dropped coordinate's value is not kept in the result. A domain, " +
			"if given, is applied first.",
		Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) {
			return mapArrays(c, in[0], ops.Squeeze)
		},
	})
}

// checkDomainDims checks that each dimension of the operation's domain is a
// dimension of some input, since each input is cut only along its own.
func checkDomainDims(c *Call, in []ops.Dataset) error {
	d := c.r.w.DomainOf(c.Op)
	if d == nil {
		return nil
	}
	var have []string
	for _, dim := range d.Dims {
		found := false
		for _, ds := range in {
			for _, a := range ds {
				found = found || domainDimApplies(a.Meta(), dim.Name)
				for _, ad := range a.Meta().Dims {
					if !slices.Contains(have, ad.Name) {
						have = append(have, ad.Name)
					}
				}
			}
		}
		if !found {
			return &UserError{Text: fmt.Sprintf("the domain names dimension %q, which none of the inputs has; they have %s", dim.Name, strings.Join(have, ", "))}
		}
	}
	return nil
}
