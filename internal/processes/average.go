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
		ProcessSpec: workflow.ProcessSpec{Identifier: "CDAT.average", MinInputs: 1, MaxInputs: 1,
			Params: append([]workflow.ParamSpec{
				{Name: "axes", Type: "list", Min: 1, Max: -1,
					Help: "Dimensions to average over, separated by |, by name or by axis (time, lat, latitude, lon, longitude). " +
						"Default: every latitude, longitude and time dimension of the input."},
				{Name: "weighted", Type: "str", Min: 1, Max: 1, Choices: []string{"true", "false", "True", "False", "1", "0"},
					Help: "true (default) for the weighted mean; false for the plain mean."},
			}, commonParams...)},
		Title: "Weighted average",
		Abstract: "The climate mean of the input over the chosen axes. Over latitude and longitude each value is weighted " +
			"by the area of its cell: from the cell-measure variable the data names (cell_measures = \"area: areacella\") " +
			"when it is in the same file, else from the coordinate bounds as R² (sin φ2 − sin φ1)(λ2 − λ1), else from bounds " +
			"halfway between the points (kept within the poles). Over time each value is weighted by the length of its " +
			"time step from the time bounds (months have different lengths), else from halfway between the times. Other " +
			"dimensions are averaged plainly. Missing values are left out of both the sum and the weights; where every " +
			"value is missing the result is missing. weighted=false gives the plain mean, as CDAT.mean.",
		Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) {
			weighted := true
			if v, ok := c.Op.Param("weighted"); ok {
				var err error
				if weighted, err = strconv.ParseBool(strings.TrimSpace(v)); err != nil {
					return nil, &UserError{Text: fmt.Sprintf("weighted must be true or false, got %q", v)}
				}
			}
			ds, err := subsetKeepingGroups(c, in[0])
			if err != nil {
				return nil, err
			}
			return reduceEach(ds, axesOf(c), func(a ops.Array, axes []string) (ops.Array, error) {
				return ops.Average(a, axes, weighted, reduceOptions(c))
			})
		},
	})
}
