package processes

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/computewps/computewps/internal/cdotest"
	"github.com/computewps/computewps/internal/nctest"
	"github.com/computewps/computewps/internal/sample"
	"github.com/computewps/computewps/internal/workflow"
)

// reductionEnv writes the sample data and returns its directory and an
// environment whose outputs go to a temporary directory.
func reductionEnv(t *testing.T) (string, Env) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "sample")
	if _, err := sample.Ensure(data); err != nil {
		t.Fatal(err)
	}
	return data, Env{Access: &Access{Roots: []string{data}}, OutDir: filepath.Join(dir, "out"), SlabBytes: 1 << 20}
}

// runRequest parses a request as the cwt client sends it and runs it.
func runRequest(t *testing.T, env Env, id, variables, domains, operations string) ([]Result, error) {
	t.Helper()
	w, err := workflow.Parse(id, variables, domains, operations, Default())
	if err != nil {
		return nil, err
	}
	return Default().Run(context.Background(), w, env)
}

func mustRun(t *testing.T, env Env, id, variables, domains, operations string) []Result {
	t.Helper()
	res, err := runRequest(t, env, id, variables, domains, operations)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ncVar reads a whole variable from a result file.
func ncVar(t *testing.T, path, name string) ([]float64, []int) { return nctest.ReadVar(t, path, name) }

// cdoRef runs CDO, the oracle, writing to a new file it returns.
func cdoRef(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ref.nc")
	cdotest.Run(t, append(args, out)...)
	return out
}

// near compares within a relative tolerance; missing (NaN or the 1e20
// fill) must be missing in both.
func near(t *testing.T, what string, got, want []float64, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	missing := func(x float64) bool { return math.IsNaN(x) || x == float64(float32(1e20)) }
	for i := range got {
		g, w := got[i], want[i]
		if missing(g) || missing(w) {
			if missing(g) != missing(w) {
				t.Fatalf("%s: value %d is %v, want %v", what, i, g, w)
			}
			continue
		}
		if math.Abs(g-w) > rel*math.Max(math.Abs(w), math.Abs(g)) {
			t.Fatalf("%s: value %d is %v, want %v", what, i, g, w)
		}
	}
}

func variableJSON(path, id string) string { return fmt.Sprintf(`[{"uri": %q, "id": %q}]`, path, id) }

// TestReductionProcessesMatchCDO runs each reduction through the catalogue
// with axes given as the client sends them, against CDO.
func TestReductionProcessesMatchCDO(t *testing.T) {
	data, env := reductionEnv(t)
	tas := filepath.Join(data, "tas_day_2000.nc")
	ones := cdoRef(t, "-expr,area=clat(tas)*0+1", "-seltimestep,1", tas) // equal areas: CDO's weighted means become plain
	for _, c := range []struct {
		process, axes string
		cdo           []string
	}{
		{"CDAT.mean", "time", []string{"timmean"}},
		{"CDAT.max", "time", []string{"timmax"}},
		{"CDAT.min", "time", []string{"timmin"}},
		{"CDAT.sum", "time", []string{"timsum"}},
		{"CDAT.std", "time", []string{"timstd"}},
		{"CDAT.var", "time", []string{"timvar"}},
		{"CDAT.max", "time|lat", []string{"-mermax", "-timmax"}},
		{"CDAT.sum", "time|latitude", []string{"-mersum", "-timsum"}},
		{"CDAT.mean", "time|lat", []string{"-mermean", "-setgridarea," + ones, "-timmean"}},
		{"CDAT.std", "lat|lon", []string{"-fldstd", "-setgridarea," + ones}},
	} {
		t.Run(c.process+" "+c.axes, func(t *testing.T) {
			op := fmt.Sprintf(`[{"name": %q, "result": "r", "input": ["v"], "axes": %q}]`, c.process, c.axes)
			res := mustRun(t, env, c.process, variableJSON(tas, "tas|v"), "[]", op)
			got, shape := ncVar(t, res[0].Path, "tas")
			want, _ := ncVar(t, cdoRef(t, append(c.cdo, tas)...), "tas")
			if len(shape) != 3-len(strings.Split(c.axes, "|")) {
				t.Errorf("result shape %v after reducing %s", shape, c.axes)
			}
			near(t, c.process, got, want, 1e-5)
		})
	}
}

// TestCountWithoutAxes counts over every dimension, as the reference did:
// 24 months of the grid less the corner of 9 points that is always missing.
func TestCountWithoutAxes(t *testing.T) {
	data, env := reductionEnv(t)
	res := mustRun(t, env, "CDAT.count", variableJSON(filepath.Join(data, "pr_mon_360day.nc"), "pr|p"), "[]",
		`[{"name": "CDAT.count", "result": "n", "input": ["p"]}]`)
	got, shape := ncVar(t, res[0].Path, "pr")
	if len(shape) != 0 || got[0] != 24*(sample.NLat*sample.NLon-9) {
		t.Errorf("count %v with shape %v, want %d as a scalar", got, shape, 24*(sample.NLat*sample.NLon-9))
	}
}

// TestAverageProcess checks the area- and time-weighted mean through the
// catalogue against CDO given the exact cell areas (see ops'
// TestAverageOverLatLonMatchesCDO for why not CDO's own), with a domain.
func TestAverageProcess(t *testing.T) {
	data, env := reductionEnv(t)
	pr := filepath.Join(data, "pr_mon_360day.nc")
	exact := cdoRef(t, "-expr,area=(sin(rad(clat(pr)+2.5))-sin(rad(clat(pr)-2.5)))*rad(5.0)", "-seltimestep,1", pr)
	dom := `[{"id": "d", "time": {"start": 0, "end": 12, "crs": "indices"}}]`
	// Every axis by default; the 360-day months are equal, so the time
	// weights are too and CDO's timmean of fldmean is the oracle.
	res := mustRun(t, env, "CDAT.average", variableJSON(pr, "pr|p"), dom,
		`[{"name": "CDAT.average", "result": "a", "input": ["p"], "domain": "d"}]`)
	got, shape := ncVar(t, res[0].Path, "pr")
	want, _ := ncVar(t, cdoRef(t, "-timmean", "-fldmean", "-setgridarea,"+exact, "-seltimestep,1/12", pr), "pr")
	if len(shape) != 0 {
		t.Errorf("shape %v, want a scalar", shape)
	}
	near(t, "average", got, want, 1e-5)

	// weighted=false is the plain mean.
	plain := mustRun(t, env, "CDAT.average", variableJSON(pr, "pr|p"), "[]",
		`[{"name": "CDAT.average", "result": "a", "input": ["p"], "axes": "lat|lon", "weighted": "False"}]`)
	mean := mustRun(t, env, "CDAT.mean", variableJSON(pr, "pr|p"), "[]",
		`[{"name": "CDAT.mean", "result": "m", "input": ["p"], "axes": "lat|lon"}]`)
	a, _ := ncVar(t, plain[0].Path, "pr")
	m, _ := ncVar(t, mean[0].Path, "pr")
	near(t, "average weighted=false vs mean", a, m, 0)
}

// TestGroupByBinsWorkflow is the reference's workflow: subset, multiply by
// 10, group by bins, then mean, std and var of each bin with renames,
// under CDAT.workflow (three outputs), checked against a direct
// computation from the file.
func TestGroupByBinsWorkflow(t *testing.T) {
	data, env := reductionEnv(t)
	pr := filepath.Join(data, "pr_mon_360day.nc")
	edges := []float64{1e-4, 1.2e-4, 1.4e-4, 1.6e-4, 1.8e-4, 2e-4, 2.2e-4, 2.4e-4, 2.6e-4, 2.8e-4}
	var bins []string
	for _, e := range edges {
		bins = append(bins, fmt.Sprint(e))
	}
	// The domain on the subset, or on the container, which lends it to
	// every operation: the groups are then subset with their data.
	request := func(workflowDomain, subsetDomain string) string {
		return fmt.Sprintf(`[
		{"name": "CDAT.workflow", "result": "w", "input": ["m", "s", "v"]%s},
		{"name": "CDAT.subset", "result": "sub", "input": ["p"]%s},
		{"name": "CDAT.multiply", "result": "x10", "input": ["sub"], "const": "10", "variable": "pr"},
		{"name": "CDAT.groupby_bins", "result": "g", "input": ["x10"], "bins": %q, "variable": "pr"},
		{"name": "CDAT.mean", "result": "m", "input": ["g"], "rename": "pr|pr_mean"},
		{"name": "CDAT.std", "result": "s", "input": ["g"], "rename": "pr|pr_std"},
		{"name": "CDAT.var", "result": "v", "input": ["g"], "rename": "pr|pr_var"}]`, workflowDomain, subsetDomain, strings.Join(bins, "|"))
	}
	dom := `[{"id": "d", "lat": {"start": -60, "end": 60, "crs": "values"}}]`
	res := mustRun(t, env, "CDAT.workflow", variableJSON(pr, "pr|p"), dom, request("", `, "domain": "d"`))
	if len(res) != 3 || res[0].VarID != "pr_mean|m" || res[1].VarID != "pr_std|s" || res[2].VarID != "pr_var|v" {
		t.Fatalf("results %+v", res)
	}
	lent := mustRun(t, env, "CDAT.workflow", variableJSON(pr, "pr|p"), dom, request(`, "domain": "d"`, ""))
	// The values, straight from the file.
	all, _ := ncVar(t, pr, "pr")
	groups := make([][]float64, len(edges)-1)
	for m := 0; m < 24; m++ {
		for j := 0; j < sample.NLat; j++ {
			if math.Abs(sample.Lat(j)) > 60 {
				continue
			}
			for i := 0; i < sample.NLon; i++ {
				x := all[(m*sample.NLat+j)*sample.NLon+i]
				if x == float64(float32(1e20)) {
					continue
				}
				x *= 10 // in double precision: the product is not written before it is grouped
				for b := range groups {
					if x > edges[b] && x <= edges[b+1] {
						groups[b] = append(groups[b], x)
					}
				}
			}
		}
	}
	var mean, std, variance []float64
	for _, g := range groups {
		s, ss := 0.0, 0.0
		for _, x := range g {
			s += x
		}
		mu := s / float64(len(g))
		for _, x := range g {
			ss += (x - mu) * (x - mu)
		}
		if len(g) == 0 {
			mu, ss = math.NaN(), math.NaN()
		}
		mean, std, variance = append(mean, mu), append(std, math.Sqrt(ss/float64(len(g)))), append(variance, ss/float64(len(g)))
	}
	for i, c := range []struct {
		name string
		want []float64
	}{{"pr_mean", mean}, {"pr_std", std}, {"pr_var", variance}} {
		got, shape := ncVar(t, res[i].Path, c.name)
		if len(shape) != 1 || shape[0] != 9 {
			t.Fatalf("%s shape %v, want 9 bins", c.name, shape)
		}
		near(t, c.name, got, c.want, 1e-5)
		again, _ := ncVar(t, lent[i].Path, c.name)
		near(t, c.name+" with the domain on the container", again, c.want, 1e-5)
		mid, _ := ncVar(t, res[i].Path, "pr_bins")
		bnds, _ := ncVar(t, res[i].Path, "pr_bins_bnds")
		if math.Abs(mid[0]-1.1e-4) > 1e-12 || bnds[0] != 1e-4 || bnds[17] != 2.8e-4 {
			t.Errorf("%s: bins %v, bounds %v", c.name, mid, bnds)
		}
	}
}

// TestFilterMap reduces with and without a condition, and per bin.
func TestFilterMap(t *testing.T) {
	data, env := reductionEnv(t)
	pr := filepath.Join(data, "pr_mon_360day.nc")
	all, _ := ncVar(t, pr, "pr")
	var above, mx float64
	for _, x := range all {
		if x != float64(float32(1e20)) {
			if x > 2e-5 {
				above++
			}
			mx = math.Max(mx, x)
		}
	}
	run := func(params string) []float64 {
		t.Helper()
		op := fmt.Sprintf(`[{"name": "CDAT.filter_map", "result": "f", "input": ["p"], %s}]`, params)
		res := mustRun(t, env, "CDAT.filter_map", variableJSON(pr, "pr|p"), "[]", op)
		got, _ := ncVar(t, res[0].Path, "pr")
		return got
	}
	near(t, "max", run(`"func": "max"`), []float64{mx}, 1e-7)
	near(t, "count where pr>2e-5", run(`"func": "count", "cond": "pr>2e-5"`), []float64{above}, 0)
	// Over bins: the values above 2e-5 fall in the second bin only.
	op := `[{"name": "CDAT.groupby_bins", "result": "g", "input": ["p"], "bins": "0|2e-5|1", "variable": "pr"},
	        {"name": "CDAT.filter_map", "result": "f", "input": ["g"], "func": "count", "cond": "pr>2e-5", "other": "0"}]`
	res := mustRun(t, env, "CDAT.filter_map", variableJSON(pr, "pr|p"), "[]", op)
	got, _ := ncVar(t, res[0].Path, "pr")
	// other=0 keeps a value (0) for every point of the first bin.
	var first float64
	for _, x := range all {
		if x != float64(float32(1e20)) && x <= 2e-5 {
			first++
		}
	}
	near(t, "count per bin", got, []float64{first, above}, 0)
}

func TestReductionErrors(t *testing.T) {
	data, env := reductionEnv(t)
	tas := variableJSON(filepath.Join(data, "tas_day_2000.nc"), "tas|v")
	pr := variableJSON(filepath.Join(data, "pr_mon_360day.nc"), "pr|p")
	for _, c := range []struct {
		name, id, v, op, want string
	}{
		{"unknown axis", "CDAT.mean", tas, `[{"name": "CDAT.mean", "result": "m0", "input": ["v"], "axes": "time|depth"}]`,
			`CDAT.mean (m0): axis 'depth' is not a dimension of tas (time, lat, lon)`},
		{"average over an unknown axis", "CDAT.average", tas, `[{"name": "CDAT.average", "result": "a", "input": ["v"], "axes": "lev"}]`,
			`axis 'lev' is not a dimension of tas`},
		{"descending bins", "CDAT.mean", pr, `[{"name": "CDAT.groupby_bins", "result": "g", "input": ["p"], "bins": "0|2|1", "variable": "pr"},
			{"name": "CDAT.mean", "result": "m", "input": ["g"]}]`, "bins must be in ascending order"},
		{"a bin that is no number", "CDAT.mean", pr, `[{"name": "CDAT.groupby_bins", "result": "g", "input": ["p"], "bins": "0|x", "variable": "pr"},
			{"name": "CDAT.mean", "result": "m", "input": ["g"]}]`, `"x" is not a number`},
		{"one edge", "CDAT.mean", pr, `[{"name": "CDAT.groupby_bins", "result": "g", "input": ["p"], "bins": "0", "variable": "pr"},
			{"name": "CDAT.mean", "result": "m", "input": ["g"]}]`, `parameter "bins" takes at least 2`},
		{"groupby without variable", "CDAT.mean", pr, `[{"name": "CDAT.groupby_bins", "result": "g", "input": ["p"], "bins": "0|1"},
			{"name": "CDAT.mean", "result": "m", "input": ["g"]}]`, "requires the variable parameter"},
		{"groupby as the output", "CDAT.groupby_bins", pr, `[{"name": "CDAT.groupby_bins", "result": "g", "input": ["p"], "bins": "0|1", "variable": "pr"}]`,
			"reduce it with a following CDAT.mean"},
		{"axes on groups", "CDAT.mean", pr, `[{"name": "CDAT.groupby_bins", "result": "g", "input": ["p"], "bins": "0|1", "variable": "pr"},
			{"name": "CDAT.mean", "result": "m", "input": ["g"], "axes": "time"}]`, "axes cannot be chosen"},
		{"filter_map without func", "CDAT.filter_map", pr, `[{"name": "CDAT.filter_map", "result": "f", "input": ["p"]}]`,
			"requires the func parameter"},
		{"filter_map with a bad func", "CDAT.filter_map", pr, `[{"name": "CDAT.filter_map", "result": "f", "input": ["p"], "func": "median"}]`,
			`"median" is not one of max, min, sum, mean, std, var, count`},
		{"weighted that is no boolean", "CDAT.average", pr, `[{"name": "CDAT.average", "result": "a", "input": ["p"], "weighted": "maybe"}]`,
			`"maybe" is not one of`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := runRequest(t, env, c.id, c.v, "[]", c.op)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestReductionAbstracts checks that every process of this file lists its
// parameters for DescribeProcess.
func TestReductionAbstracts(t *testing.T) {
	for _, id := range []string{"CDAT.max", "CDAT.min", "CDAT.mean", "CDAT.sum", "CDAT.std", "CDAT.var", "CDAT.count",
		"CDAT.average", "CDAT.filter_map", "CDAT.groupby_bins"} {
		p, ok := Default().Lookup(id)
		if !ok || p.Build == nil {
			t.Errorf("%s is not registered with an implementation", id)
			continue
		}
		abs := p.FullAbstract()
		for _, prm := range p.Params {
			if !strings.Contains(abs, "    "+prm.Name+" (") {
				t.Errorf("%s: abstract does not list %s:\n%s", id, prm.Name, abs)
			}
		}
	}
}
