package processes

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestWhereMatchesCDO runs CDAT.where through the catalogue, as the cwt
// client sends it, against CDO's expr.
func TestWhereMatchesCDO(t *testing.T) {
	data, env := setup(t)
	tmp := t.TempDir()
	tas, pr := filepath.Join(data, "tas_day_2000.nc"), filepath.Join(data, "pr_mon_360day.nc")
	for _, c := range []struct {
		in, name, params, expr string
	}{
		// The reference compared pr>0.000023 with pr>0.0.
		{pr, "pr", `"cond": "pr>0.000023"`, "pr=(pr>0.000023)?pr:missval(pr)"},
		{pr, "pr", `"cond": "pr > 2.3e-5", "other": "0"`, "pr=(pr>2.3e-5)?pr:0"},
		{tas, "tas", `"cond": "tas>=273.15", "other": "-1"`, "tas=(tas>=273.15)?tas:-1"},
		{tas, "tas", `"cond": "lat>-45"`, "tas=(clat(tas)>-45)?tas:missval(tas)"},
		{pr, "pr", `"cond": "prisnull", "other": "7"`, "pr=isMissval(pr)?pr:7"},
	} {
		t.Run(c.params, func(t *testing.T) {
			op := fmt.Sprintf(`[{"name": "CDAT.where", "result": "w", "input": ["v"], %s}]`, c.params)
			res := execRequest{id: "CDAT.where", variables: variablesJSON(c.in, c.name+"|v"), opJSON: op}.mustRun(t, env)
			ref := filepath.Join(tmp, "ref.nc")
			cdoOracle(t, "expr,"+c.expr, c.in, ref)
			matchesCDO(t, c.params, readOutput(t, res[0].Path, c.name), readOutput(t, ref, c.name))
		})
	}
}

// TestSubsetMultiplyWhere is a workflow of three operations, each reading
// the previous one's result, against the same chain in CDO.
func TestSubsetMultiplyWhere(t *testing.T) {
	data, env := setup(t)
	pr := filepath.Join(data, "pr_mon_360day.nc")
	// As the client sends it: the executed operation first, names from uuids.
	v := fmt.Sprintf(`[{"uri": %q, "id": "pr|9f1c2d3e", "domain": "south"}]`, pr)
	d := `[{"id": "south", "lat": {"start": -90, "end": 0, "step": 1, "crs": "values"}, "time": {"start": "2000-01", "end": "2000-06", "step": 1, "crs": "timestamps"}}]`
	op := `[{"name": "CDAT.where", "result": "a1b2c3d4", "input": ["m"], "cond": "pr>0.00023", "other": "0"},
	        {"name": "CDAT.multiply", "result": "m", "input": ["s"], "const": "10"},
	        {"name": "CDAT.subset", "result": "s", "input": ["9f1c2d3e"], "domain": "south"}]`
	res := execRequest{id: "CDAT.where", variables: v, domains: d, opJSON: op}.mustRun(t, env)
	if len(res) != 1 || res[0].VarID != "pr|a1b2c3d4" {
		t.Fatalf("results %+v", res)
	}
	ref := filepath.Join(t.TempDir(), "ref.nc")
	cdoOracle(t, "-expr,pr=(pr>0.00023)?pr:0", "-mulc,10", "-seltimestep,1/6", "-selindexbox,1,72,1,18", pr, ref)
	got := readOutput(t, res[0].Path, "pr")
	matchesCDO(t, "subset, multiply, where", got, readOutput(t, ref, "pr"))
	// The missing corner is still missing, written as the _FillValue.
	if got.values[0] != float64(float32(1e20)) || got.attrs["units"] != "kg m-2 s-1" {
		t.Errorf("corner %v, units %q; want the _FillValue and the units kept", got.values[0], got.attrs["units"])
	}
}

// TestWhereAcceptsTheReferenceForms runs every condition form the
// reference's tests accept.
func TestWhereAcceptsTheReferenceForms(t *testing.T) {
	data, env := setup(t)
	v := variablesJSON(filepath.Join(data, "pr_mon_360day.nc"), "pr|v")
	for _, cond := range []string{"lat>-45", "lon>=360", "lon==180", "lon!=180", "pr isnull", "pr notnull", "prisnull", "time<100"} {
		op := fmt.Sprintf(`[{"name": "CDAT.where", "result": "w", "input": ["v"], "cond": %q}]`, cond)
		if _, err := (execRequest{id: "CDAT.where", variables: v, opJSON: op}).run(t, env); err != nil {
			t.Errorf("%s: %v", cond, err)
		}
	}
}

func TestWhereErrors(t *testing.T) {
	data, env := setup(t)
	v := variablesJSON(filepath.Join(data, "pr_mon_360day.nc"), "pr|v")
	const grammar = "is not valid: expected <name> <op> <number>, <name> isnull or <name> notnull"
	for _, c := range []struct{ params, want string }{
		{`"cond": "lon>>>>180"`, "condition 'lon>>>>180' " + grammar},
		{`"cond": "lon>>180"`, "condition 'lon>>180' " + grammar},
		{`"cond": ""`, "condition '' " + grammar},
		{`"cond": "tas>-45"`, "condition 'tas>-45': 'tas' is neither a variable nor a coordinate of the input, which has pr, time, lat, lon"},
		{`"other": "1"`, "CDAT.where requires the cond parameter"},
		{`"cond": "pr>0", "other": "none"`, `parameter "other": "none" is not a number`},
	} {
		op := fmt.Sprintf(`[{"name": "CDAT.where", "result": "w", "input": ["v"], %s}]`, c.params)
		_, err := execRequest{id: "CDAT.where", variables: v, opJSON: op}.run(t, env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.params, err, c.want)
		}
	}
}
