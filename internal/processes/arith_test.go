package processes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/computewps/computewps/internal/cdotest"
	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/workflow"
)

// cdoOracle runs the CDO command line, the numerical oracle.
func cdoOracle(t *testing.T, args ...string) {
	t.Helper()
	cdotest.Run(t, args...)
}

// outputVar is a variable read back from a NetCDF file.
type outputVar struct {
	values []float64
	shape  []int
	attrs  map[string]string
}

func readOutput(t *testing.T, path, name string) outputVar {
	t.Helper()
	f, err := netcdf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := f.Var(name)
	if err != nil {
		t.Fatal(err)
	}
	fv := outputVar{shape: v.Shape(), attrs: map[string]string{}}
	n := 1
	for _, s := range fv.shape {
		n *= s
	}
	fv.values = make([]float64, n)
	if err := f.Read(v.ID, make([]int, len(fv.shape)), fv.shape, nil, fv.values); err != nil {
		t.Fatal(err)
	}
	for _, a := range v.Attrs {
		if s, ok := a.Text(); ok {
			fv.attrs[a.Name] = s
		}
	}
	return fv
}

// matchesCDO compares a result with CDO's within 1e-5 relative; missing
// values (the fill value in both files) compare equal.
func matchesCDO(t *testing.T, what string, got, want outputVar) {
	t.Helper()
	if fmt.Sprint(got.shape) != fmt.Sprint(want.shape) {
		t.Fatalf("%s: shape %v, CDO %v", what, got.shape, want.shape)
	}
	for i, g := range got.values {
		w := want.values[i]
		if math.Abs(g-w) > 1e-5*math.Max(math.Abs(w), 1e-30) {
			t.Fatalf("%s: value %d is %v, CDO has %v", what, i, g, w)
		}
	}
}

// execRequest is one Execute as the cwt client encodes it.
type execRequest struct {
	id                         string // the process executed
	variables, domains, opJSON string
}

func (r execRequest) run(t *testing.T, env Env) ([]Result, error) {
	t.Helper()
	if r.domains == "" {
		r.domains = "[]"
	}
	w, err := workflow.Parse(r.id, r.variables, r.domains, r.opJSON, Default())
	if err != nil {
		return nil, err
	}
	return Default().Run(context.Background(), w, env)
}

func (r execRequest) mustRun(t *testing.T, env Env) []Result {
	t.Helper()
	res, err := r.run(t, env)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func variablesJSON(pairs ...string) string {
	var parts []string
	for i := 0; i < len(pairs); i += 2 {
		parts = append(parts, fmt.Sprintf(`{"uri": %q, "id": %q}`, pairs[i], pairs[i+1]))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// TestArithmeticMatchesCDO runs each arithmetic process through the
// catalogue and compares its output file with CDO's on the same inputs.
func TestArithmeticMatchesCDO(t *testing.T) {
	data, env := setup(t)
	tmp := t.TempDir()
	tas, pr := filepath.Join(data, "tas_day_2000.nc"), filepath.Join(data, "pr_mon_360day.nc")
	anom, tasb, clim := filepath.Join(data, "anom.nc"), filepath.Join(data, "tasb.nc"), filepath.Join(data, "clim.nc")
	cdoOracle(t, "-mulc,0.1", "-subc,273.15", tas, anom)
	cdoOracle(t, "-subc,200", tas, tasb)
	cdoOracle(t, "timmean", tas, clim) // one time step, squeezed in the workflow below
	for _, c := range []struct {
		name, process, params string
		in                    []string // files, with variable tas unless pr
		cdo                   []string // operator and its own inputs
	}{
		{"abs", "CDAT.abs", "", []string{anom}, []string{"abs", anom}},
		{"exp", "CDAT.exp", "", []string{anom}, []string{"exp", anom}},
		{"log", "CDAT.log", "", []string{tas}, []string{"ln", tas}},
		{"log with missing values", "CDAT.log", "", []string{pr}, []string{"ln", pr}},
		{"sqrt", "CDAT.sqrt", "", []string{pr}, []string{"sqrt", pr}},
		{"power", "CDAT.power", `, "const": "2"`, []string{tas}, []string{"pow,2", tas}},
		{"add const", "CDAT.add", `, "const": "10"`, []string{tas}, []string{"addc,10", tas}},
		{"subtract const", "CDAT.subtract", `, "const": "273.15"`, []string{tas}, []string{"subc,273.15", tas}},
		{"multiply const", "CDAT.multiply", `, "const": "2"`, []string{pr}, []string{"mulc,2", pr}},
		{"divide const", "CDAT.divide", `, "const": "4"`, []string{tas}, []string{"divc,4", tas}},
		{"add", "CDAT.add", "", []string{tas, tasb}, []string{"add", tas, tasb}},
		{"subtract", "CDAT.subtract", "", []string{tas, tasb}, []string{"sub", tas, tasb}},
		{"multiply", "CDAT.multiply", "", []string{tas, tasb}, []string{"mul", tas, tasb}},
		{"divide", "CDAT.divide", "", []string{tas, tasb}, []string{"div", tas, tasb}},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "tas"
			if c.in[0] == pr {
				name = "pr"
			}
			var pairs, inputs []string
			for i, f := range c.in {
				pairs = append(pairs, f, fmt.Sprintf("%s|v%d", name, i))
				inputs = append(inputs, fmt.Sprintf("%q", fmt.Sprintf("v%d", i)))
			}
			op := fmt.Sprintf(`[{"name": %q, "result": "r", "input": [%s]%s}]`, c.process, strings.Join(inputs, ", "), c.params)
			res := execRequest{id: c.process, variables: variablesJSON(pairs...), opJSON: op}.mustRun(t, env)
			ref := filepath.Join(tmp, strings.ReplaceAll(c.name, " ", "_")+".nc")
			cdoOracle(t, append(c.cdo, ref)...)
			matchesCDO(t, c.name, readOutput(t, res[0].Path, name), readOutput(t, ref, name))
		})
	}
	t.Run("anomaly from a climatology: squeeze then subtract, with a domain", func(t *testing.T) {
		// clim(time=1,lat,lon) squeezed to (lat,lon) is subtracted from every
		// day; the domain cuts days 10..19 from tas and the latitudes of both.
		v := variablesJSON(tas, "tas|t", clim, "tas|c")
		d := `[{"id": "d", "time": {"start": 10, "end": 20, "step": 1, "crs": "indices"}, "lat": {"start": 0, "end": 90, "step": 1, "crs": "values"}}]`
		op := `[{"name": "CDAT.subtract", "result": "anom", "input": ["t", "sq"], "domain": "d"},
		        {"name": "CDAT.squeeze", "result": "sq", "input": ["c"]}]`
		res := execRequest{id: "CDAT.subtract", variables: v, domains: d, opJSON: op}.mustRun(t, env)
		ref := filepath.Join(tmp, "anom.nc")
		cdoOracle(t, "sub", "-seltimestep,11/20", "-sellonlatbox,0,360,0,90", tas, "-sellonlatbox,0,360,0,90", clim, ref)
		got := readOutput(t, res[0].Path, "tas")
		matchesCDO(t, "anomaly", got, readOutput(t, ref, "tas"))
		if got.attrs["units"] != "K" {
			t.Errorf("a difference has units %q, want K", got.attrs["units"])
		}
	})
}

// TestUnitsOfProducts: a product or quotient of two variables has no
// units; with a constant it keeps the first's.
func TestUnitsOfProducts(t *testing.T) {
	data, env := setup(t)
	tas := filepath.Join(data, "tas_day_2000.nc")
	v := variablesJSON(tas, "tas|a", tas, "tas|b")
	for _, c := range []struct {
		op    string
		units string
	}{
		{`[{"name": "CDAT.multiply", "result": "r", "input": ["a", "b"]}]`, ""},
		{`[{"name": "CDAT.divide", "result": "r", "input": ["a", "b"]}]`, ""},
		{`[{"name": "CDAT.multiply", "result": "r", "input": ["a"], "const": "2"}]`, "K"},
		{`[{"name": "CDAT.add", "result": "r", "input": ["a", "b"]}]`, "K"},
	} {
		id := strings.Split(c.op, `"`)[3]
		res := execRequest{id: id, variables: v, opJSON: c.op}.mustRun(t, env)
		if got := readOutput(t, res[0].Path, "tas").attrs["units"]; got != c.units {
			t.Errorf("%s: units %q, want %q", c.op, got, c.units)
		}
	}
}

// TestArithmeticErrors: each failure says what was wrong with the request.
func TestArithmeticErrors(t *testing.T) {
	data, env := setup(t)
	tas, tas2001 := filepath.Join(data, "tas_day_2000.nc"), filepath.Join(data, "tas_day_2001.nc")
	v := variablesJSON(tas, "tas|a", tas2001, "tas|b", tas, "tas|c")
	for _, c := range []struct{ id, op, want string }{
		{"CDAT.add", `[{"name": "CDAT.add", "result": "r", "input": ["a"]}]`, "CDAT.add requires 2 inputs or the const parameter"},
		{"CDAT.divide", `[{"name": "CDAT.divide", "result": "r", "input": ["a"]}]`, "CDAT.divide requires 2 inputs or the const parameter"},
		{"CDAT.add", `[{"name": "CDAT.add", "result": "r", "input": ["a", "c"], "const": "1"}]`, "CDAT.add takes a second input or the const parameter, not both"},
		{"CDAT.power", `[{"name": "CDAT.power", "result": "r", "input": ["a"]}]`, "CDAT.power requires the const parameter"},
		{"CDAT.subtract", `[{"name": "CDAT.subtract", "result": "r", "input": ["a", "b"]}]`,
			`dimension "time" differs between input "a" and input "b": point 0 is 0.5 against 365.5`},
		// Input counts and parameter types are refused before anything runs.
		{"CDAT.abs", `[{"name": "CDAT.abs", "result": "r", "input": ["a", "c"]}]`, `operation "r" (CDAT.abs) takes 1 input(s), got 2`},
		{"CDAT.add", `[{"name": "CDAT.add", "result": "r", "input": ["a", "b", "c"]}]`, `operation "r" (CDAT.add) takes 1 to 2 input(s), got 3`},
		{"CDAT.multiply", `[{"name": "CDAT.multiply", "result": "r", "input": ["a"], "const": "ten"}]`, `parameter "const": "ten" is not a number`},
	} {
		_, err := execRequest{id: c.id, variables: v, opJSON: c.op}.run(t, env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.op, err, c.want)
			continue
		}
		var we *workflow.Error
		var ue *UserError
		if !errors.As(err, &we) && !errors.As(err, &ue) {
			t.Errorf("%s: error %T is neither a request error nor a UserError", c.op, err)
		}
	}
}

func TestArithmeticAbstractsListParameters(t *testing.T) {
	for _, id := range []string{"CDAT.abs", "CDAT.exp", "CDAT.log", "CDAT.sqrt", "CDAT.power", "CDAT.add", "CDAT.subtract",
		"CDAT.multiply", "CDAT.divide", "CDAT.where", "CDAT.merge", "CDAT.squeeze"} {
		p, ok := Default().Lookup(id)
		if !ok {
			t.Errorf("%s is not in the catalogue", id)
			continue
		}
		a := p.FullAbstract()
		if p.Title == "" || len(p.Abstract) < 60 || !strings.Contains(a, "variable (str)") || !strings.Contains(a, "fillna (float)") {
			t.Errorf("%s: title %q, abstract:\n%s", id, p.Title, a)
		}
	}
	for id, param := range map[string]string{"CDAT.power": "const (float)", "CDAT.add": "const (float)", "CDAT.where": "cond (str)", "CDAT.merge": "compat (str)"} {
		p, _ := Default().Lookup(id)
		if !strings.Contains(p.FullAbstract(), param) {
			t.Errorf("%s does not list %s", id, param)
		}
	}
}
