package cwt

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/computewps/computewps/internal/processes"
	"github.com/computewps/computewps/internal/workflow"
	"github.com/computewps/computewps/internal/wps"
)

// goldenCases build, with this package, the requests that
// testdata/python_golden.py builds with the Python client (2.3.9).
var goldenCases = map[string]func() *Process{
	"section4": func() *Process {
		dm := &Domain{Name: "dm", Dims: []Dimension{ValueRange("lat", 0, 90), IndexRange("time", 0, 10)},
			Mask: &Mask{URI: "http://x/lsm.nc", Var: "sftlf", Operation: "var_data>0.5", Name: "m0"}}
		v1 := &Variable{URI: "http://x/t.nc", Var: "tas", Name: "v1", Domain: dm, MimeType: "application/netcdf"}
		s0 := &Process{Identifier: "CDAT.subset", Name: "s0", Inputs: []Input{v1}, Domain: dm}
		s0.SetParam("axes", "lat", "lon").SetParam("weightoption", "generate")
		return (&Process{Identifier: "CDAT.max", Name: "mx0", Inputs: []Input{s0}}).SetParam("axes", "time")
	},
	"subset": func() *Process {
		tas := &Variable{URI: "file:///data/sample/tas_day_2000.nc", Var: "tas", Name: "v0"}
		d0 := &Domain{Name: "d0", Dims: []Dimension{TimeRange("time", "2000-03", "2000-04"), ValueRange("lat", -30, 30),
			ValueRange("lon", -45.5, 45.5), IndexRange("lev", 0, 10).Every(2)}}
		return &Process{Identifier: "CDAT.subset", Name: "s0", Inputs: []Input{tas}, Domain: d0}
	},
	"floats": func() *Process {
		tas := &Variable{URI: "file:///data/sample/tas_day_2000.nc", Var: "tas", Name: "v0"}
		d1 := &Domain{Name: "d1", Dims: []Dimension{ValueRange("lat", 0.0001, 1e16), ValueRange("lon", 1e-05, 123456789.25),
			ValueRange("plev", 100000.0, 1.5e300), TimeRange("time", "1980-01-01 00:00:00", "1989-12-31T23:59:59")}}
		return &Process{Identifier: "CDAT.subset", Name: "s1", Inputs: []Input{tas}, Domain: d1}
	},
	"aggregate": func() *Process {
		f0 := &Variable{URI: "file:///data/tas_2000.nc", Var: "tas", Name: "f2000"}
		f1 := &Variable{URI: "file:///data/tas_2001.nc", Var: "tas", Name: "f2001"}
		g := T42
		p := &Process{Identifier: "CDAT.aggregate", Name: "a0", Inputs: []Input{f0, f1}, Gridder: &g}
		return p.SetParam("threshold", 0.5, math.Inf(1)).SetParam("count", 3)
	},
	"escapes": func() *Process {
		odd := &Variable{URI: "file:///data/été/\"q\"\\x.nc", Var: "tas", Name: "vé"}
		p := &Process{Identifier: "CDAT.where", Name: "w0", Inputs: []Input{odd}}
		return p.SetParam("cond", "tas>273.15 && tas<300").SetParam("label", "café \U0001F600\n\t<&>")
	},
	"workflow": func() *Process {
		u := &Variable{URI: "file:///data/ua.nc", Var: "ua", Name: "u"}
		v := &Variable{URI: "file:///data/va.nc", Var: "va", Name: "v"}
		dy := &Domain{Name: "dy", Dims: []Dimension{IndexRange("time", 0, 12)}}
		su := &Process{Identifier: "CDAT.subset", Name: "su", Inputs: []Input{u}, Domain: dy}
		sv := &Process{Identifier: "CDAT.subset", Name: "sv", Inputs: []Input{v}, Domain: dy}
		sum := &Process{Identifier: "CDAT.add", Name: "sum", Inputs: []Input{su, sv}}
		avg := (&Process{Identifier: "CDAT.average", Name: "avg", Inputs: []Input{sum, u}}).SetParam("axes", "time")
		dw := &Domain{Name: "dw", Dims: []Dimension{ValueRange("lat", -30, 30)}}
		return &Process{Identifier: "CDAT.workflow", Name: "wf", Inputs: []Input{avg}, Domain: dw}
	},
}

// TestDataInputsMatchPythonClient compares the three JSON texts, byte for
// byte, with what the Python client sent for the same objects.
func TestDataInputsMatchPythonClient(t *testing.T) {
	raw, err := os.ReadFile("testdata/python_datainputs.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden map[string]DataInputs
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden) != len(goldenCases) {
		t.Fatalf("%d golden cases, %d Go cases", len(golden), len(goldenCases))
	}
	for name, build := range goldenCases {
		want, ok := golden[name]
		if !ok {
			t.Fatalf("no golden case %q", name)
		}
		got, err := build().DataInputs()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, f := range []struct{ input, got, want string }{
			{"variable", got.Variable, want.Variable}, {"domain", got.Domain, want.Domain}, {"operation", got.Operation, want.Operation},
		} {
			if f.got != f.want {
				t.Errorf("%s %s:\n got %s\nwant %s", name, f.input, f.got, f.want)
			}
		}
	}
}

// TestServerAcceptsRequests: the server's own parser takes what this
// package writes, in an XML document and in a KVP query, and reads the
// same workflow from both.
func TestServerAcceptsRequests(t *testing.T) {
	tas := NewVariable("file:///data/tas_day_2000.nc", "tas")
	sub := NewProcess("CDAT.subset", tas)
	sub.Domain = NewDomain(TimeRange("time", "2000-01-01 00:00:00+05:00", "2000-02-01"), ValueRange("lat", -30.5, 30), IndexRange("lon", 0, 10).Every(2))
	avg := NewProcess("CDAT.average", sub).SetParam("axes", "time")
	g := U2
	avg.Gridder = &g
	wf := NewProcess("CDAT.workflow", avg)
	cases := map[string]*Process{"workflow": wf, "section4 without its mask": withoutMask(goldenCases["section4"]()),
		"subset": goldenCases["subset"]()}
	for name, p := range cases {
		di, err := p.DataInputs()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		xmlReq, err := wps.ParseXML(executeXML(p.Identifier, di))
		if err != nil {
			t.Fatalf("%s: the server cannot parse the Execute document: %v", name, err)
		}
		kvpReq, err := wps.ParseKVP(executeQuery("", p.Identifier, di))
		if err != nil {
			t.Fatalf("%s: the server cannot parse the KVP Execute: %v", name, err)
		}
		for _, req := range []*wps.Request{xmlReq, kvpReq} {
			ex := req.Execute
			if ex == nil || ex.Identifier != p.Identifier || !ex.Async() {
				t.Fatalf("%s: %+v", name, req)
			}
			v, d, o := ex.DataInputs()
			if v != di.Variable || d != di.Domain || o != di.Operation {
				t.Errorf("%s: the server read other inputs:\n%s\n%s\n%s", name, v, d, o)
			}
			if _, err := workflow.Parse(ex.Identifier, v, d, o, processes.Default()); err != nil {
				t.Errorf("%s: the server refuses the workflow: %v", name, err)
			}
		}
	}
}

func withoutMask(p *Process) *Process {
	for _, in := range p.Inputs {
		if s, ok := in.(*Process); ok && s.Domain != nil {
			s.Domain.Mask = nil
		}
	}
	return p
}

func TestDataInputsRefusesAmbiguousNames(t *testing.T) {
	a := &Variable{URI: "file:///a.nc", Var: "tas", Name: "x"}
	b := &Variable{URI: "file:///b.nc", Var: "tas", Name: "x"}
	for name, p := range map[string]*Process{
		"two variables":         {Identifier: "CDAT.merge", Name: "m", Inputs: []Input{a, b}},
		"variable and op":       {Identifier: "CDAT.subset", Name: "x", Inputs: []Input{a}},
		"two domains":           {Identifier: "CDAT.add", Name: "s", Inputs: []Input{&Process{Identifier: "CDAT.subset", Name: "p", Inputs: []Input{a}, Domain: &Domain{Name: "d"}}}, Domain: &Domain{Name: "d"}},
		"pipe in a name":        {Identifier: "CDAT.subset", Name: "a|b", Inputs: []Input{a}},
		"parameter over input":  (&Process{Identifier: "CDAT.subset", Name: "s", Inputs: []Input{a}}).SetParam("input", "v"),
		"NaN in a domain":       {Identifier: "CDAT.subset", Name: "s", Inputs: []Input{a}, Domain: &Domain{Name: "d", Dims: []Dimension{ValueRange("lat", math.NaN(), 1)}}},
		"nil input":             {Identifier: "CDAT.subset", Name: "s", Inputs: []Input{(*Variable)(nil)}},
		"dimension called mask": {Identifier: "CDAT.subset", Name: "s", Inputs: []Input{a}, Domain: &Domain{Name: "d", Dims: []Dimension{IndexRange("mask", 0, 1)}}},
	} {
		if _, err := p.DataInputs(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The same variable used twice is one variable.
	p := &Process{Identifier: "CDAT.add", Name: "s", Inputs: []Input{a, a}}
	if di, err := p.DataInputs(); err != nil || strings.Count(di.Variable, `"uri"`) != 1 {
		t.Errorf("%v %s", err, di.Variable)
	}
}

// TestVariableDomainIsSent: a domain named only by a variable is sent (the
// Python client leaves it out, and the server then refuses the request).
func TestVariableDomainIsSent(t *testing.T) {
	d := &Domain{Name: "dv", Dims: []Dimension{IndexRange("time", 0, 1)}}
	v := &Variable{URI: "file:///data/tas.nc", Var: "tas", Name: "v", Domain: d}
	di, err := (&Process{Identifier: "CDAT.subset", Name: "s", Inputs: []Input{v}}).DataInputs()
	if err != nil {
		t.Fatal(err)
	}
	if di.Domain != `[{"id": "dv", "time": {"start": 0, "end": 1, "step": 1, "crs": "indices"}}]` {
		t.Errorf("domain: %s", di.Domain)
	}
	if _, err := workflow.Parse("CDAT.subset", di.Variable, di.Domain, di.Operation, processes.Default()); err != nil {
		t.Errorf("the server refuses it: %v", err)
	}
}

func TestPythonFloatAndStr(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 90: "90.0", -0.5: "-0.5", 1e16: "1e+16", 1e15: "1000000000000000.0", 0.0001: "0.0001",
		0.00001: "1e-05", 1.5e300: "1.5e+300", 123456789.25: "123456789.25", 1.0 / 3: "0.3333333333333333",
		math.Inf(1): "inf", math.Inf(-1): "-inf",
	} {
		if got := pyFloat(f); got != want {
			t.Errorf("pyFloat(%v) = %s, want %s", f, got, want)
		}
	}
	for v, want := range map[any]string{true: "True", 3: "3", "lat": "lat", 2.0: "2.0"} {
		if got := pyStr(v); got != want {
			t.Errorf("pyStr(%v) = %s, want %s", v, got, want)
		}
	}
}
