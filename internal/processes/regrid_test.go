package processes

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/computewps/computewps/internal/nctest"
	"github.com/computewps/computewps/internal/sample"
	"github.com/computewps/computewps/internal/workflow"
)

func regridSetup(t *testing.T) (string, Env) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "sample")
	if _, err := sample.Ensure(data); err != nil {
		t.Fatal(err)
	}
	return data, Env{Access: &Access{Roots: []string{data}}, OutDir: filepath.Join(dir, "out"), SlabBytes: 1 << 20,
		Server: "http://wps.test/wps", Version: "test"}
}

// regridRun parses and runs a request as the cwt client sends it and
// returns the path of its one output.
func regridRun(t *testing.T, env Env, id, v, d, op string) string {
	t.Helper()
	w, err := workflow.Parse(id, v, d, op, Default())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Default().Run(context.Background(), w, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%d outputs", len(res))
	}
	return res[0].Path
}

// readVar reads a whole variable of a file and its shape.
func readVar(t *testing.T, path, name string) ([]float64, []int) {
	return nctest.ReadVar(t, path, name)
}

func regridOp(grid, tool, method string) string {
	return fmt.Sprintf(`[{"name": "CDAT.regrid", "result": "r0", "input": ["v0"], "gridder": {"tool": %q, "method": %q, "grid": %q}}]`, tool, method, grid)
}

// regridOpDays is regridOp on the first days only, with domain "days".
func regridOpDays(grid, tool, method string) string {
	return strings.Replace(regridOp(grid, tool, method), `"input"`, `"domain": "days", "input"`, 1)
}

func TestRegridEveryGridForm(t *testing.T) {
	data, env := regridSetup(t)
	tas := fmt.Sprintf(`[{"uri": %q, "id": "tas|v0"}]`, filepath.Join(data, "tas_day_2000.nc"))
	// A 10° grid in another file, as the target of a variable.
	gridFile := filepath.Join(data, "grid10.nc")
	if out, err := exec.Command("cdo", "-s", "-f", "nc", "const,1,r36x18", gridFile).CombinedOutput(); err != nil {
		t.Fatalf("cdo: %v %s", err, out)
	}
	withGrid := fmt.Sprintf(`[{"uri": %q, "id": "tas|v0"}, {"uri": %q, "id": "const|g10"}]`, filepath.Join(data, "tas_day_2000.nc"), gridFile)
	days := `[{"id": "days", "time": {"start": 0, "end": 2, "crs": "indices"}}]`
	box := `[{"id": "days", "time": {"start": 0, "end": 2, "crs": "indices"}}, {"id": "box", "lat": {"start": -30, "end": 30, "step": 2, "crs": "values"}, "lon": {"start": 100, "end": 200, "step": 5, "crs": "values"}}]`
	cases := []struct {
		name, vars, doms, grid string
		nlat, nlon             int
		lat0, lon0             float64
	}{
		{"uniform~2x2", tas, days, "uniform~2x2", 90, 180, -89, 1},
		{"uniform~.25x.25", tas, days, "uniform~.25x.25", 720, 1440, -89.875, 0.125},
		{"start:n:delta", tas, days, "uniform~-89:90:2x0:180:2", 90, 180, -89, 0},
		{"gaussian~64", tas, days, "gaussian~64", 64, 128, -87.8637988392326, 0},
		{"T21", tas, days, "T21", 32, 64, -85.7605871204438, 0},
		{"T85", tas, days, "T85", 128, 256, -88.9277353522959, 0}, // CDO's n64
		{"domain", tas, box, "box", 31, 21, -30, 100},
		{"variable", withGrid, days, "g10", 18, 36, -85, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := regridRun(t, env, "CDAT.regrid", c.vars, c.doms, regridOpDays(c.grid, "esmf", "bilinear"))
			v, shape := readVar(t, out, "tas")
			if fmt.Sprint(shape) != fmt.Sprintf("[2 %d %d]", c.nlat, c.nlon) {
				t.Fatalf("shape %v, want [2 %d %d]", shape, c.nlat, c.nlon)
			}
			lat, _ := readVar(t, out, "lat")
			lon, _ := readVar(t, out, "lon")
			if math.Abs(lat[0]-c.lat0) > 1e-9 || math.Abs(lon[0]-c.lon0) > 1e-9 {
				t.Errorf("first point (%.13g, %g), want (%.13g, %g)", lat[0], lon[0], c.lat0, c.lon0)
			}
			// tas is smooth: the regridded field stays within the source's range.
			for _, x := range v[:c.nlat*c.nlon] {
				if !(x > 230 && x < 320) {
					t.Fatalf("value %g", x)
				}
			}
		})
	}
}

// The client's default gridder (tool regrid2, method linear) is
// conservative, and matches cdo remapcon on the same grid.
func TestRegridDefaultGridderMatchesCDO(t *testing.T) {
	data, env := regridSetup(t)
	in := filepath.Join(data, "pr_mon_360day.nc")
	v := fmt.Sprintf(`[{"uri": %q, "id": "pr|v0"}]`, in)
	out := regridRun(t, env, "CDAT.regrid", v, "[]", regridOp("uniform~-89:90:2x0:180:2", "regrid2", "linear"))
	ref := filepath.Join(t.TempDir(), "cdo.nc")
	if msg, err := exec.Command("cdo", "-s", "-f", "nc4", "remapcon,r180x90", in, ref).CombinedOutput(); err != nil {
		t.Fatalf("cdo: %v %s", err, msg)
	}
	got, gs := readVar(t, out, "pr")
	want, ws := readVar(t, ref, "pr")
	if fmt.Sprint(gs) != fmt.Sprint(ws) {
		t.Fatalf("shape %v, CDO %v", gs, ws)
	}
	missing := 0
	for k := range want {
		if want[k] > 1e19 {
			missing++
		}
		if (got[k] > 1e19) != (want[k] > 1e19) || want[k] < 1e19 && math.Abs(got[k]-want[k]) > 1e-5*math.Abs(want[k]) {
			t.Fatalf("value %d = %g, CDO %g", k, got[k], want[k])
		}
	}
	if missing == 0 {
		t.Error("the missing corner of pr was filled in")
	}
}

// A gridder on another operation regrids its result: here a subset of
// three days and the northern hemisphere, onto a 2° grid.
func TestGridderOnSubset(t *testing.T) {
	data, env := regridSetup(t)
	v := fmt.Sprintf(`[{"uri": %q, "id": "tas|v0"}]`, filepath.Join(data, "tas_day_2000.nc"))
	d := `[{"id": "d0", "time": {"start": 0, "end": 3, "crs": "indices"}, "lat": {"start": 0, "end": 90, "crs": "values"}}]`
	op := `[{"name": "CDAT.subset", "result": "s0", "input": ["v0"], "domain": "d0", "gridder": {"tool": "esmf", "method": "conservative", "grid": "uniform~2x2"}}]`
	out := regridRun(t, env, "CDAT.subset", v, d, op)
	got, shape := readVar(t, out, "tas")
	if fmt.Sprint(shape) != "[3 90 180]" {
		t.Fatalf("shape %v, want [3 90 180]", shape)
	}
	// The southern hemisphere was cut away before regridding: missing.
	// The northern cells are covered and hold values.
	if got[0] < 1e19 || got[89*180] > 1e19 || got[45*180] > 1e19 {
		t.Errorf("south pole %g, north pole %g, equator %g", got[0], got[89*180], got[45*180])
	}
}

func TestRegridErrors(t *testing.T) {
	data, env := regridSetup(t)
	v := fmt.Sprintf(`[{"uri": %q, "id": "tas|v0"}]`, filepath.Join(data, "tas_day_2000.nc"))
	for _, c := range []struct{ op, want string }{
		{regridOp("gaussian~0", "esmf", "linear"), "CDAT.regrid (r0): target grid 'gaussian~0' is not valid"},
		{regridOp("T42", "esmf", "cubic"), "CDAT.regrid (r0): unknown regridding method 'cubic'; known methods: linear, bilinear, conservative, nearest"},
		{regridOp("T42", "ncl", "linear"), "CDAT.regrid (r0): unknown regridding tool 'ncl'; known tools: regrid2, esmf, xesmf"},
		{`[{"name": "CDAT.regrid", "result": "r0", "input": ["v0"]}]`, "CDAT.regrid (r0): a gridder is required"},
	} {
		_, err := workflow.Parse("CDAT.regrid", v, "[]", c.op, Default())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
	// Found only when the data is opened: a variable without a grid.
	bnds := fmt.Sprintf(`[{"uri": %q, "id": "time_bnds|v0"}]`, filepath.Join(data, "tas_day_2000.nc"))
	w, err := workflow.Parse("CDAT.regrid", bnds, "[]", regridOp("T42", "esmf", "linear"), Default())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Default().Run(context.Background(), w, env)
	if ue, ok := err.(*UserError); !ok || !strings.Contains(ue.Text, `CDAT.regrid (r0): nothing to regrid: variable "time_bnds" has dimensions (time, bnds) and no latitude and longitude`) {
		t.Errorf("error %v (%T)", err, err)
	}
}

func TestRegridIsInTheCatalogue(t *testing.T) {
	p, ok := Default().Lookup("CDAT.regrid")
	if !ok {
		t.Fatal("CDAT.regrid is not registered")
	}
	for _, s := range []string{"uniform~DLATxDLON", "gaussian~NLAT", "T42", "regrid2", "conservative", "nearest", "variable (str)"} {
		if !strings.Contains(p.FullAbstract(), s) {
			t.Errorf("the abstract does not mention %q", s)
		}
	}
}
