package workflow

import (
	"strings"
	"testing"
)

// testCatalogue mirrors the shapes of the real processes.
type testCatalogue map[string]ProcessSpec

func (c testCatalogue) Spec(id string) (ProcessSpec, bool) { s, ok := c[id]; return s, ok }
func (c testCatalogue) Identifiers() []string {
	return []string{"CDAT.aggregate", "CDAT.regrid", "CDAT.subset", "CDAT.workflow"}
}

var cat = testCatalogue{
	"CDAT.subset": {Identifier: "CDAT.subset", MinInputs: 1, MaxInputs: 1, Params: []ParamSpec{
		{Name: "method", Type: "str", Min: 1, Max: 1, Choices: []string{"nearest", "pad", "backfill"}},
		{Name: "variable", Type: "str", Min: 1, Max: 1},
	}},
	"CDAT.aggregate": {Identifier: "CDAT.aggregate", MinInputs: 1, MaxInputs: -1, SameVariable: true},
	"CDAT.workflow":  {Identifier: "CDAT.workflow", MinInputs: 1, MaxInputs: -1},
	"CDAT.regrid":    {Identifier: "CDAT.regrid", MinInputs: 1, MaxInputs: 1},
}

// What the cwt client sends for CDAT.subset(v, domain=d).
const (
	cwtVariable  = `[{"uri": "file:///data/tas.nc", "id": "tas|v0"}]`
	cwtDomain    = `[{"id": "d0", "time": {"start": 10, "end": 50, "step": 1, "crs": "indices"}, "lat": {"start": -90, "end": 0, "step": 1, "crs": "values"}, "lon": {"start": "1980-01", "end": "1980-12", "step": 1, "crs": "timestamps"}}]`
	cwtOperation = `[{"name": "CDAT.subset", "result": "s0", "domain": "d0", "input": ["v0"]}]`
)

func TestParseClientRequest(t *testing.T) {
	w, err := Parse("CDAT.subset", cwtVariable, cwtDomain, cwtOperation, cat)
	if err != nil {
		t.Fatal(err)
	}
	v := w.Variables["v0"]
	if v == nil || v.VarName != "tas" || v.URI != "file:///data/tas.nc" {
		t.Fatalf("variable %+v", v)
	}
	d := w.Domains["d0"]
	if len(d.Dims) != 3 || d.Dims[0].Name != "lat" || d.Dims[1].Name != "lon" || d.Dims[2].Name != "time" {
		t.Fatalf("dims %+v", d.Dims)
	}
	if d.Dims[0].CRS != Values || d.Dims[0].Start.Num != -90 || d.Dims[2].CRS != Indices || d.Dims[2].End.Num != 50 {
		t.Errorf("dims %+v", d.Dims)
	}
	if d.Dims[1].CRS != Timestamps || d.Dims[1].Start.Str != "1980-01" || !d.Dims[1].Start.IsStr {
		t.Errorf("timestamps dim %+v", d.Dims[1])
	}
	if len(w.Outputs) != 1 || w.Outputs[0].Result != "s0" || w.DomainOf(w.Outputs[0]) != d {
		t.Errorf("outputs %+v", w.Outputs)
	}
}

func TestParseWorkflowChain(t *testing.T) {
	// aggregate -> subset, operations listed top-level first as the client does.
	vars := `[{"uri": "/d/a.nc", "id": "tas|a"}, {"uri": "/d/b.nc", "id": "tas|b"}]`
	ops := `[{"name": "CDAT.subset", "result": "s", "input": ["agg"], "domain": "d", "method": "nearest"},
	         {"name": "CDAT.aggregate", "result": "agg", "input": ["b", "a"]}]`
	w, err := Parse("CDAT.subset", vars, `[{"id": "d", "lat": {"start": 0, "end": 0, "crs": "values"}}]`, ops, cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Order) != 2 || w.Order[0].Result != "agg" || w.Order[1].Result != "s" {
		t.Fatalf("order %v", names(w.Order))
	}
	if len(w.Outputs) != 1 || w.Outputs[0].Result != "s" {
		t.Fatalf("outputs %v", names(w.Outputs))
	}
	if m, _ := w.Outputs[0].Param("method"); m != "nearest" {
		t.Errorf("method %q", m)
	}
	if d := w.Domains["d"].Dims[0]; d.Step != 1 {
		t.Errorf("missing step should default to 1, got %d", d.Step)
	}
}

func TestParseWorkflowContainer(t *testing.T) {
	vars := `[{"uri": "/d/a.nc", "id": "tas|a"}]`
	ops := `[{"name": "CDAT.workflow", "result": "w", "input": ["s1", "s2"], "domain": "d", "method": "nearest"},
	         {"name": "CDAT.subset", "result": "s1", "input": ["a"]},
	         {"name": "CDAT.subset", "result": "s2", "input": ["a"], "domain": "e"}]`
	doms := `[{"id": "d", "lat": {"start": 0, "end": 10, "crs": "values"}}, {"id": "e", "lat": {"start": 0, "end": 1, "crs": "indices"}}]`
	w, err := Parse("CDAT.workflow", vars, doms, ops, cat)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(w.Outputs); strings.Join(got, ",") != "s1,s2" {
		t.Fatalf("outputs %v, want s1,s2", got)
	}
	if w.Operations["s1"].Domain != "d" || w.Operations["s2"].Domain != "e" {
		t.Errorf("the container's domain goes to operations without one: %q %q", w.Operations["s1"].Domain, w.Operations["s2"].Domain)
	}
	if m, _ := w.Operations["s1"].Param("method"); m != "nearest" {
		t.Errorf("the container's parameters go to its operations")
	}
	if _, ok := w.Operations["w"]; ok {
		t.Errorf("the container stays in the DAG")
	}
}

func names(ops []*Operation) []string {
	var n []string
	for _, o := range ops {
		n = append(n, o.Result)
	}
	return n
}

func TestParseErrors(t *testing.T) {
	v := cwtVariable
	d := cwtDomain
	op := cwtOperation
	cases := []struct {
		name, id, vars, doms, ops string
		input, want               string
	}{
		{"unknown process", "CDAT.regrid9", v, d, op, "operation", `unknown process "CDAT.regrid9"`},
		{"unknown process in DAG", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": ["x"]}, {"name": "CDAT.nope", "result": "x", "input": ["v0"]}]`, "operation", `unknown process "CDAT.nope"`},
		{"identifier not among operations", "CDAT.aggregate", v, d, op, "operation", `no operation named "CDAT.aggregate"`},
		{"missing bar in id", "CDAT.subset", `[{"uri": "/x.nc", "id": "tas"}]`, d, op, "variable", `id "tas" must be "<variable name>|<name>" with exactly one "|"`},
		{"two bars in id", "CDAT.subset", `[{"uri": "/x.nc", "id": "tas|a|b"}]`, d, op, "variable", "exactly one"},
		{"missing uri", "CDAT.subset", `[{"id": "tas|v0"}]`, d, op, "variable", `no "uri"`},
		{"unknown input name", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": ["v9"]}]`, "operation", `input "v9" is neither a variable nor the result of an operation`},
		{"unknown domain", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": ["v0"], "domain": "zz"}]`, "operation", `domain "zz" is not in the domain input`},
		{"cycle", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "a", "input": ["b"]}, {"name": "CDAT.subset", "result": "b", "input": ["a"]}]`, "operation", "cycle: a -> b -> a"},
		{"self input", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "a", "input": ["a"]}]`, "operation", "uses its own result as input"},
		{"bad crs", "CDAT.subset", v, `[{"id": "d0", "lat": {"start": 0, "end": 1, "crs": "degrees"}}]`, op, "domain", `crs "degrees" is not one of indices, values, timestamps`},
		{"missing crs", "CDAT.subset", v, `[{"id": "d0", "lat": {"start": 0, "end": 1}}]`, op, "domain", `"crs" is missing`},
		{"missing end", "CDAT.subset", v, `[{"id": "d0", "lat": {"start": 0, "crs": "values"}}]`, op, "domain", `"end" is missing`},
		{"fractional index", "CDAT.subset", v, `[{"id": "d0", "lat": {"start": 0.5, "end": 1, "crs": "indices"}}]`, op, "domain", "an index must be an integer"},
		{"numeric timestamp", "CDAT.subset", v, `[{"id": "d0", "time": {"start": 0, "end": 1, "crs": "timestamps"}}]`, op, "domain", "a timestamp must be a string"},
		{"bad step", "CDAT.subset", v, `[{"id": "d0", "lat": {"start": 0, "end": 1, "step": 0, "crs": "values"}}]`, op, "domain", "step must be a positive integer"},
		{"mask", "CDAT.subset", v, `[{"id": "d0", "mask": {"uri": "/m.nc", "id": "sftlf|m", "operation": "var_data>0.5"}}]`, op, "domain", "masks are not supported"},
		{"too many inputs", "CDAT.subset", `[{"uri": "/a.nc", "id": "tas|a"}, {"uri": "/b.nc", "id": "tas|b"}]`, d, `[{"name": "CDAT.subset", "result": "s", "input": ["a", "b"]}]`, "operation", "takes 1 input(s), got 2"},
		{"no inputs", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": []}]`, "operation", "takes 1 input(s), got 0"},
		{"aggregate of different variables", "CDAT.aggregate", `[{"uri": "/a.nc", "id": "tas|a"}, {"uri": "/b.nc", "id": "pr|b"}]`, d, `[{"name": "CDAT.aggregate", "result": "g", "input": ["a", "b"]}]`, "operation", "every input must hold the same variable, got tas, pr"},
		{"bad method", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": ["v0"], "method": "cubic"}]`, "operation", `"cubic" is not one of nearest, pad, backfill`},
		{"variable not in input", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": ["v0"], "variable": "pr"}]`, "operation", `variable "pr" is not in its input; found tas`},
		{"gridder with a bad grid", "CDAT.regrid", v, d, `[{"name": "CDAT.regrid", "result": "r0", "input": ["v0"], "gridder": {"tool": "esmf", "method": "linear", "grid": "gaussian~0"}}]`, "operation", "CDAT.regrid (r0): target grid 'gaussian~0' is not valid"},
		{"gridder naming no grid", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": ["v0"], "gridder": {"grid": "g1"}}]`, "operation", "CDAT.subset (s): target grid 'g1' is not valid: not a grid description"},
		{"gridder with a bad method", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": ["v0"], "gridder": {"tool": "esmf", "method": "patch", "grid": "T42"}}]`, "operation", "CDAT.subset (s): unknown regridding method 'patch'"},
		{"gridder with a bad tool", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": ["v0"], "gridder": {"tool": "scipy", "method": "linear", "grid": "T42"}}]`, "operation", "unknown regridding tool 'scipy'"},
		{"gridder on a domain in indices", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": ["v0"], "gridder": {"grid": "d0"}}]`, "operation", "domain 'd0' is not a valid target grid"},
		{"regrid without gridder", "CDAT.regrid", v, d, `[{"name": "CDAT.regrid", "result": "r0", "input": ["v0"]}]`, "operation", "CDAT.regrid (r0): a gridder is required"},
		{"empty operations", "CDAT.subset", v, d, `[]`, "operation", "empty"},
		{"invalid JSON", "CDAT.subset", `[{"uri": "/x.nc", "id": }]`, d, op, "variable", "not valid JSON"},
		{"not a list of objects", "CDAT.subset", `[1, 2]`, d, op, "variable", "item 1 must be a JSON object"},
		{"duplicate result", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "s", "input": ["v0"]}, {"name": "CDAT.subset", "result": "s", "input": ["v0"]}]`, "operation", `two operations have the result name "s"`},
		{"result shadows variable", "CDAT.subset", v, d, `[{"name": "CDAT.subset", "result": "v0", "input": ["v0"]}]`, "operation", "same name as a variable"},
		{"container with variable input", "CDAT.workflow", v, d, `[{"name": "CDAT.workflow", "result": "w", "input": ["v0"]}]`, "operation", "must be an operation, not a variable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.id, c.vars, c.doms, c.ops, cat)
			we, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %v (%T), want a *workflow.Error", err, err)
			}
			if we.Input != c.input || !strings.Contains(we.Text, c.want) {
				t.Errorf("error [%s] %q, want [%s] containing %q", we.Input, we.Text, c.input, c.want)
			}
		})
	}
}

func TestParseGridders(t *testing.T) {
	vars := `[{"uri": "/d/a.nc", "id": "tas|a"}, {"uri": "/d/grid.nc", "id": "sftlf|g"}]`
	doms := `[{"id": "box", "lat": {"start": -30, "end": 30, "step": 2, "crs": "values"}, "lon": {"start": 0, "end": 358, "step": 2, "crs": "values"}}]`
	for _, grid := range []string{"T42", "gaussian~96", "uniform~2x2", "uniform~.25x.25", "uniform~-89:90:2x0:180:2", "box", "g"} {
		ops := `[{"name": "CDAT.regrid", "result": "r", "input": ["a"], "gridder": {"tool": "regrid2", "method": "linear", "grid": "` + grid + `"}}]`
		w, err := Parse("CDAT.regrid", vars, doms, ops, cat)
		if err != nil {
			t.Errorf("grid %q: %v", grid, err)
			continue
		}
		if g := w.Operations["r"].Gridder; g == nil || g.Grid != grid || g.Tool != "regrid2" {
			t.Errorf("grid %q: gridder %+v", grid, g)
		}
	}
}

func TestParamValuesSplitOnBar(t *testing.T) {
	ops := `[{"name": "CDAT.subset", "result": "s", "input": ["v0"], "axes": "time|lat", "const": 10, "weightoption": "generate"}]`
	w, err := Parse("CDAT.subset", cwtVariable, "[]", ops, cat)
	if err != nil {
		t.Fatal(err)
	}
	p := w.Operations["s"].Params
	if strings.Join(p["axes"], ",") != "time,lat" || p["const"][0] != "10" {
		t.Errorf("params %v", p)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(cwtVariable, cwtDomain, cwtOperation)
	f.Add(`[{"uri":"/a","id":"x|y"}]`, `[{"id":"d","t":{"start":"1","end":"2","crs":"timestamps"}}]`, `[{"name":"CDAT.workflow","result":"w","input":["s"]},{"name":"CDAT.subset","result":"s","input":["y"],"domain":"d"}]`)
	f.Fuzz(func(t *testing.T, v, d, o string) {
		w, err := Parse("CDAT.subset", v, d, o, cat)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(w.Outputs) == 0 {
			t.Fatal("a valid workflow without outputs")
		}
	})
}
