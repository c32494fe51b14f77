package processes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/sample"
	"github.com/computewps/computewps/internal/workflow"
)

func setup(t *testing.T) (string, Env) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "sample")
	if _, err := sample.Ensure(data); err != nil {
		t.Fatal(err)
	}
	return data, Env{Access: &Access{Roots: []string{data}}, OutDir: filepath.Join(dir, "out"), SlabBytes: 1 << 20,
		Server: "http://wps.test/wps", Version: "test", Document: "<Execute/>"}
}

func parse(t *testing.T, id, v, d, op string) *workflow.Workflow {
	t.Helper()
	w, err := workflow.Parse(id, v, d, op, Default())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestRunWorkflowWithTwoOutputs(t *testing.T) {
	data, env := setup(t)
	var messages []string
	env.Progress = func(p int, m string) { messages = append(messages, fmt.Sprintf("%d %s", p, m)) }
	v := fmt.Sprintf(`[{"uri": %q, "id": "tas|a"}, {"uri": %q, "id": "tas|b"}]`, filepath.Join(data, "tas_day_2000.nc"), filepath.Join(data, "tas_day_2001.nc"))
	// The subsets read the aggregate's result: the reference could not subset another operation's output.
	ops := `[{"name": "CDAT.workflow", "result": "w", "input": ["north", "south"], "domain": "t"},
	         {"name": "CDAT.aggregate", "result": "agg", "input": ["b", "a"]},
	         {"name": "CDAT.subset", "result": "north", "input": ["agg"], "domain": "n"},
	         {"name": "CDAT.subset", "result": "south", "input": ["agg"]}]`
	doms := `[{"id": "t", "time": {"start": "2000-12-31", "end": "2001-01-01", "crs": "timestamps"}},
	          {"id": "n", "lat": {"start": 80, "end": 90, "crs": "values"}}]`
	res, err := Default().Run(context.Background(), parse(t, "CDAT.workflow", v, doms, ops), env)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Op != "north" || res[1].Op != "south" || res[0].VarID != "tas|north" {
		t.Fatalf("results %+v", res)
	}
	if !strings.HasPrefix(res[0].Name, "CDAT.subset_north_") || filepath.Dir(res[0].Path) != env.OutDir || res[0].Size == 0 {
		t.Errorf("result %+v", res[0])
	}
	// north: its own domain "n" on the aggregate, which took the container's
	// domain "t" (two days) because it had none.
	f, err := netcdf.Open(res[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v0, _ := f.Var("tas")
	if s := v0.Shape(); s[0] != 2 || s[1] != 2 || s[2] != 72 {
		t.Errorf("north shape %v, want [2 2 72]", s)
	}
	attrs, _ := f.Attrs()
	want := map[string]string{"provenance.wps_identifier": "CDAT.workflow", "provenance.wps_server": "http://wps.test/wps",
		"provenance.wps_document": "<Execute/>", "computewps_process": "CDAT.subset"}
	for _, a := range attrs {
		if w, ok := want[a.Name]; ok {
			if got, _ := a.Text(); got != w {
				t.Errorf("attribute %s = %q, want %q", a.Name, got, w)
			}
			delete(want, a.Name)
		}
	}
	if len(want) != 0 {
		t.Errorf("attributes missing: %v", want)
	}
	// south: the container's domain "t", two days across the year boundary.
	g, err := netcdf.Open(res[1].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	v1, _ := g.Var("tas")
	if s := v1.Shape(); s[0] != 2 {
		t.Errorf("south shape %v, want 2 time steps", s)
	}
	got := make([]float64, 1)
	if err := g.Read(v1.ID, []int{1, 0, 0}, []int{1, 1, 1}, nil, got); err != nil || got[0] != sample.Tas(365, 0, 0) {
		t.Errorf("south[1,0,0] = %v (%v), want %v", got, err, sample.Tas(365, 0, 0))
	}
	joined := strings.Join(messages, "\n")
	for _, m := range []string{"Subset 'lat' 36 -> 2", "Writing CDAT.subset_north_", "Processing"} {
		if !strings.Contains(joined, m) {
			t.Errorf("progress lacks %q:\n%s", m, joined)
		}
	}
}

func TestRunFailuresAreExplained(t *testing.T) {
	data, env := setup(t)
	op := `[{"name": "CDAT.subset", "result": "s", "input": ["v"], "domain": "d"}]`
	cases := []struct{ v, d, want string }{
		{fmt.Sprintf(`[{"uri": %q, "id": "tas|v"}]`, filepath.Join(data, "nope.nc")), `[{"id": "d"}]`, "no such file"},
		{fmt.Sprintf(`[{"uri": %q, "id": "zg|v"}]`, filepath.Join(data, "tas_day_2000.nc")), `[{"id": "d"}]`, `variable "zg" is not in`},
		{fmt.Sprintf(`[{"uri": %q, "id": "tas|v"}]`, filepath.Join(data, "tas_day_2000.nc")), `[{"id": "d", "plev": {"start": 0, "end": 1, "crs": "indices"}}]`, `the domain names dimension "plev"`},
	}
	for _, c := range cases {
		_, err := Default().Run(context.Background(), parse(t, "CDAT.subset", c.v, c.d, op), env)
		ue, ok := err.(*UserError)
		if !ok || !strings.Contains(ue.Text, c.want) {
			t.Errorf("error %v (%T), want a UserError containing %q", err, err, c.want)
		}
	}
}

func TestRunCancelledLeavesNothing(t *testing.T) {
	data, env := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	env.Progress = func(p int, m string) {
		if strings.HasPrefix(m, "Writing") {
			cancel()
		}
	}
	v := fmt.Sprintf(`[{"uri": %q, "id": "tas|v"}]`, filepath.Join(data, "tas_day_2000.nc"))
	_, err := Default().Run(ctx, parse(t, "CDAT.subset", v, "[]", `[{"name": "CDAT.subset", "result": "s", "input": ["v"]}]`), env)
	if err == nil {
		t.Fatal("a cancelled run succeeded")
	}
	left, _ := os.ReadDir(env.OutDir)
	if len(left) != 0 {
		t.Errorf("a cancelled run left %v", left)
	}
}

func TestRunCommonParameters(t *testing.T) {
	data, env := setup(t)
	v := fmt.Sprintf(`[{"uri": %q, "id": "pr|p"}]`, filepath.Join(data, "pr_mon_360day.nc"))
	op := `[{"name": "CDAT.subset", "result": "s", "input": ["p"], "domain": "d", "fillna": "0", "rename": "pr|precip", "variable": "pr"}]`
	res, err := Default().Run(context.Background(), parse(t, "CDAT.subset", v, `[{"id": "d", "time": {"start": 0, "end": 1, "crs": "indices"}}]`, op), env)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].VarID != "precip|s" {
		t.Errorf("var id %q, want precip|s", res[0].VarID)
	}
	f, err := netcdf.Open(res[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pv, err := f.Var("precip")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 2)
	if err := f.Read(pv.ID, []int{0, 0, 2}, []int{1, 1, 2}, nil, got); err != nil {
		t.Fatal(err)
	}
	if got[0] != 0 || got[1] != float64(float32(sample.Pr(0, 0, 3))) {
		t.Errorf("corner after fillna = %v, want [0 %v]", got, sample.Pr(0, 0, 3))
	}
	bad := `[{"name": "CDAT.subset", "result": "s", "input": ["p"], "rename": "tas|x"}]`
	if _, err := Default().Run(context.Background(), parse(t, "CDAT.subset", v, "[]", bad), env); err == nil || !strings.Contains(err.Error(), `rename: variable "tas" is not in the result`) {
		t.Errorf("rename of a missing variable: %v", err)
	}
}

func TestGroupsOnlyGoToReductions(t *testing.T) {
	data, env := setup(t)
	v := fmt.Sprintf(`[{"uri": %q, "id": "pr|p"}]`, filepath.Join(data, "pr_mon_360day.nc"))
	ops := `[{"name": "CDAT.multiply", "result": "m", "input": ["g"], "const": "10"},
	         {"name": "CDAT.groupby_bins", "result": "g", "input": ["p"], "variable": "pr", "bins": "0|0.00002|0.0001"}]`
	_, err := Default().Run(context.Background(), parse(t, "CDAT.multiply", v, "[]", ops), env)
	if err == nil || !strings.Contains(err.Error(), `CDAT.multiply (m): input "g" is the result of CDAT.groupby_bins`) {
		t.Errorf("error %v", err)
	}
}

func TestReadLimit(t *testing.T) {
	data, env := setup(t)
	v := fmt.Sprintf(`[{"uri": %q, "id": "tas|v"}]`, filepath.Join(data, "tas_day_2000.nc"))
	op := `[{"name": "CDAT.mean", "result": "m", "input": ["v"], "domain": "d", "axes": "time"}]`
	// tas_day_2000.nc holds 365×36×72 float32: 3.6 MiB.
	env.MaxReadBytes = 1 << 20
	_, err := Default().Run(context.Background(), parse(t, "CDAT.mean", v, `[{"id": "d"}]`, op), env)
	if err == nil || !strings.Contains(err.Error(), "would read about 3.6 MiB from its inputs, more than this server's limit of 1.0 MiB per job") {
		t.Fatalf("error %v", err)
	}
	if left, _ := os.ReadDir(env.OutDir); len(left) != 0 {
		t.Errorf("a refused run wrote %v", left)
	}
	// The domain narrows what is read: one month is well under the limit.
	if _, err := Default().Run(context.Background(), parse(t, "CDAT.mean", v, `[{"id": "d", "time": {"start": "2000-01", "end": "2000-01", "crs": "timestamps"}}]`, op), env); err != nil {
		t.Errorf("a month: %v", err)
	}
}

func TestConditionCheckedAtRequestTime(t *testing.T) {
	v := `[{"uri": "/x/pr.nc", "id": "pr|p"}]`
	_, err := workflow.Parse("CDAT.where", v, "[]", `[{"name": "CDAT.where", "result": "w", "input": ["p"], "cond": "lon>>>>180"}]`, Default())
	if err == nil || !strings.Contains(err.Error(), `parameter "cond"`) || !strings.Contains(err.Error(), "lon>>>>180") {
		t.Errorf("error %v", err)
	}
}
