package processes

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/workflow"
)

func init() {
	register(&Process{
		ProcessSpec: workflow.ProcessSpec{Identifier: "CDAT.where", MinInputs: 1, MaxInputs: 1,
			Params: append([]workflow.ParamSpec{
				{Name: "cond", Type: "str", Min: 1, Max: 1, Check: checkCond,
					Help: "The condition (required): <name> <op> <number>, <name> <op> <name>, <name> isnull or <name> notnull, " +
						"with <op> one of > >= < <= == !=, e.g. lat>-45, tas>=273.15, pr>2.3e-5, pr>=prw, pr isnull."},
				{Name: "other", Type: "float", Min: 1, Max: 1,
					Help: "The value where the condition does not hold; missing if not given."},
			}, commonParams...)},
		Title: "Where",
		Abstract: "Keeps the values of every variable of the input where the condition holds and puts other (missing by " +
			"default) where it does not. A name in the condition is a variable of the input or the coordinate of one of its " +
			"dimensions (lat, lon, time, compared in the file's values: time in its units, e.g. days since a date); a " +
			"variable is repeated along the condition's dimensions it lacks, so lat>0 applies to every time step. Spaces " +
			"are optional (prisnull), and numbers may have any number of decimals and an exponent. A number is compared in " +
			"the precision of the data (tas==273.15 finds a float32 273.15). Where a comparison meets a missing value the " +
			"result is missing (not other), so missing data never turns into data.",
		Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) {
			text, ok := c.Op.Param("cond")
			if !ok {
				return nil, &UserError{Text: "CDAT.where requires the cond parameter, e.g. tas>273.15"}
			}
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
			ds, err := c.Subset(in[0])
			if err != nil {
				return nil, err
			}
			out, err := ops.Where(ds, cond, other)
			if err != nil {
				return nil, &UserError{Text: err.Error()}
			}
			// With "variable", only that one is masked; the condition may
			// still name the others.
			if name, ok := c.Op.Param("variable"); ok {
				found := false
				for i, a := range ds {
					if a.Meta().Name == name {
						found = true
					} else {
						out[i] = a
					}
				}
				if !found {
					return nil, &UserError{Text: fmt.Sprintf("variable %q is not in the input", name)}
				}
			}
			return out, nil
		},
		OwnVariable: true,
	})
}

// checkCond validates a condition's grammar at request time.
func checkCond(s string) error {
	_, err := ops.ParseCond(s)
	return err
}
