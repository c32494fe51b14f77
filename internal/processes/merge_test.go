package processes

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMergeThenWhere merges pr with a second variable made by CDO, compares
// with cdo merge, then keeps pr where it exceeds the other (pr>=prw).
func TestMergeThenWhere(t *testing.T) {
	data, env := setup(t)
	pr, prw := filepath.Join(data, "pr_mon_360day.nc"), filepath.Join(data, "prw.nc")
	cdoOracle(t, "-expr,prw=2.5e-5+5e-6*sin(clon(pr)*0.0174533)+0*pr", pr, prw)
	v := variablesJSON(pr, "pr|p", prw, "prw|q")
	res := execRequest{id: "CDAT.merge", variables: v, opJSON: `[{"name": "CDAT.merge", "result": "m", "input": ["p", "q"]}]`}.mustRun(t, env)
	ref := filepath.Join(t.TempDir(), "merged.nc")
	cdoOracle(t, "merge", pr, prw, ref)
	for _, name := range []string{"pr", "prw"} {
		matchesCDO(t, "merge "+name, readOutput(t, res[0].Path, name), readOutput(t, ref, name))
	}

	op := `[{"name": "CDAT.where", "result": "w", "input": ["m"], "cond": "pr>=prw"},
	        {"name": "CDAT.merge", "result": "m", "input": ["p", "q"]}]`
	res = execRequest{id: "CDAT.where", variables: v, opJSON: op}.mustRun(t, env)
	for _, c := range []struct{ name, expr string }{
		{"pr", "pr=(pr>=prw)?pr:missval(pr)"},
		{"prw", "prw=(pr>=prw)?prw:missval(prw)"},
	} {
		want := filepath.Join(t.TempDir(), "where.nc")
		cdoOracle(t, "expr,"+c.expr, ref, want)
		matchesCDO(t, "where "+c.name, readOutput(t, res[0].Path, c.name), readOutput(t, want, c.name))
	}

	// With variable=pr only pr is masked, though the condition names prw.
	op = `[{"name": "CDAT.where", "result": "w", "input": ["m"], "cond": "pr>=prw", "variable": "pr"},
	        {"name": "CDAT.merge", "result": "m", "input": ["p", "q"]}]`
	res = execRequest{id: "CDAT.where", variables: v, opJSON: op}.mustRun(t, env)
	want := filepath.Join(t.TempDir(), "where-pr.nc")
	cdoOracle(t, "expr,pr=(pr>=prw)?pr:missval(pr)", ref, want)
	matchesCDO(t, "where variable=pr: pr", readOutput(t, res[0].Path, "pr"), readOutput(t, want, "pr"))
	matchesCDO(t, "where variable=pr: prw unchanged", readOutput(t, res[0].Path, "prw"), readOutput(t, ref, "prw"))
}

func TestMergeErrors(t *testing.T) {
	data, env := setup(t)
	tas, tas2001, pr := filepath.Join(data, "tas_day_2000.nc"), filepath.Join(data, "tas_day_2001.nc"), filepath.Join(data, "pr_mon_360day.nc")
	v := variablesJSON(tas, "tas|a", tas2001, "tas|b", pr, "pr|c", tas, "tas|d")
	for _, c := range []struct{ op, want string }{
		{`[{"name": "CDAT.merge", "result": "m", "input": ["a", "d"]}]`, `inputs "a" and "d" both hold a variable "tas"; with compat=override the first is kept`},
		{`[{"name": "CDAT.merge", "result": "m", "input": ["a", "c"]}]`, `dimension "time" differs between input "a" and input "c": 365 points against 24`},
		{`[{"name": "CDAT.merge", "result": "m", "input": ["a"]}]`, `operation "m" (CDAT.merge) takes at least 2 input(s), got 1`},
		{`[{"name": "CDAT.merge", "result": "m", "input": ["a", "d"], "compat": "identical"}]`, `"identical" is not one of no_conflicts, override`},
		{`[{"name": "CDAT.merge", "result": "m", "input": ["a", "d"], "domain": "z"}]`, `the domain names dimension "plev", which none of the inputs has`},
	} {
		_, err := execRequest{id: "CDAT.merge", variables: v, domains: `[{"id": "z", "plev": {"start": 0, "end": 1, "crs": "indices"}}]`, opJSON: c.op}.run(t, env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.op, err, c.want)
		}
	}
	// override keeps the first input's variable: a, not its double.
	double := filepath.Join(data, "double.nc")
	cdoOracle(t, "-mulc,2", tas, double)
	v = variablesJSON(double, "tas|x", tas, "tas|a")
	res := execRequest{id: "CDAT.merge", variables: v,
		opJSON: `[{"name": "CDAT.merge", "result": "m", "input": ["a", "x"], "compat": "override"}]`}.mustRun(t, env)
	matchesCDO(t, "override", readOutput(t, res[0].Path, "tas"), readOutput(t, tas, "tas"))
}

func TestSqueeze(t *testing.T) {
	data, env := setup(t)
	tas := filepath.Join(data, "tas_day_2000.nc")
	v := variablesJSON(tas, "tas|a")
	d := `[{"id": "d", "time": {"start": 5, "end": 5, "crs": "indices"}}]`
	res := execRequest{id: "CDAT.squeeze", variables: v, domains: d,
		opJSON: `[{"name": "CDAT.squeeze", "result": "s", "input": ["a"], "domain": "d"}]`}.mustRun(t, env)
	ref := filepath.Join(t.TempDir(), "ref.nc")
	cdoOracle(t, "--reduce_dim", "-seltimestep,6", tas, ref)
	got := readOutput(t, res[0].Path, "tas")
	if len(got.shape) != 2 {
		t.Fatalf("squeezed shape %v, want (lat, lon)", got.shape)
	}
	matchesCDO(t, "squeeze", got, readOutput(t, ref, "tas"))
}
