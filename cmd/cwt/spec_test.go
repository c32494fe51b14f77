package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/computewps/computewps/cwt"
)

func TestParseDomain(t *testing.T) {
	dims, err := parseDomain("time=1980-01-01:1989-12-31, lat=-30:30,lon=0.5:359.5:2,lev=i0:10,plev=85000, t2=2000-01-01T06:00..2000-01-02T18:00,x=i-3:-1")
	if err != nil {
		t.Fatal(err)
	}
	d := &cwt.Domain{Name: "d0", Dims: dims}
	p := &cwt.Process{Identifier: "CDAT.subset", Name: "s", Inputs: []cwt.Input{&cwt.Variable{URI: "file:///x.nc", Var: "tas", Name: "v"}}, Domain: d}
	di, err := p.DataInputs()
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"id": "d0", ` +
		`"time": {"start": "1980-01-01", "end": "1989-12-31", "step": 1, "crs": "timestamps"}, ` +
		`"lat": {"start": -30, "end": 30, "step": 1, "crs": "values"}, ` +
		`"lon": {"start": 0.5, "end": 359.5, "step": 2, "crs": "values"}, ` +
		`"lev": {"start": 0, "end": 10, "step": 1, "crs": "indices"}, ` +
		`"plev": {"start": 85000, "end": 85000, "step": 1, "crs": "values"}, ` +
		`"t2": {"start": "2000-01-01T06:00", "end": "2000-01-02T18:00", "step": 1, "crs": "timestamps"}, ` +
		`"x": {"start": -3, "end": -1, "step": 1, "crs": "indices"}}]`
	if di.Domain != want {
		t.Errorf("domain\n got %s\nwant %s", di.Domain, want)
	}
	for _, bad := range []string{"", "lat", "lat=", "=1:2", "lat=1:2,lat=3:4", "lev=i0:x", "lat=1:2:0", "lat=1::2",
		"time=2000-01-01T00:00:00:2000-01-02", "mask=1:2"} {
		_, err := parseDomain(bad)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}

func TestParseVar(t *testing.T) {
	cwd, _ := os.Getwd()
	for in, want := range map[string][2]string{
		"file:///data/tas.nc:tas":                     {"file:///data/tas.nc", "tas"},
		"http://host:8080/thredds/dodsC/x.nc:pr":      {"http://host:8080/thredds/dodsC/x.nc", "pr"},
		"data/sample/tas.nc:tas":                      {"file://" + filepath.Join(cwd, "data/sample/tas.nc"), "tas"},
		"/abs/tas.nc:tas":                             {"file:///abs/tas.nc", "tas"},
		"https://x/y.nc?a=1:b:ua":                     {"https://x/y.nc?a=1:b", "ua"},
		"https://esgf.example/dodsC/cmip6/tas.nc:tas": {"https://esgf.example/dodsC/cmip6/tas.nc", "tas"},
	} {
		uri, v, err := parseVar(in)
		if err != nil || uri != want[0] || v != want[1] {
			t.Errorf("%q: %q %q %v", in, uri, v, err)
		}
	}
	for _, bad := range []string{"file:///data/tas.nc", "tas.nc", "x.nc:", ":tas", "x.nc:a|b"} {
		if _, _, err := parseVar(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestBuildProcessParamsAndGridder(t *testing.T) {
	p, err := buildProcess("CDAT.average", []string{"file:///a.nc:tas"}, "", []string{"axes=lat", "axes=lon", "cond=tas>0"}, "t42", "conservative", "regrid2")
	if err != nil {
		t.Fatal(err)
	}
	di, err := p.DataInputs()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(di.Operation, `"gridder": {"tool": "regrid2", "method": "conservative", "grid": "gaussian~64"}, "axes": "lat|lon", "cond": "tas>0"}`) {
		t.Errorf("operation %s", di.Operation)
	}
	if _, err := buildProcess("CDAT.subset", nil, "", nil, "", "", ""); err == nil {
		t.Error("no input accepted")
	}
	if _, err := parseParams([]string{"novalue"}); err == nil {
		t.Error("a parameter without = accepted")
	}
}

func TestReadDataInputs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.json")
	// The job API's datainputs, and the lists given as JSON text.
	doc := `{"variable": [{"uri": "file:///a.nc", "id": "tas|v"}], "domain": "[]", "operation": [{"name": "CDAT.subset", "result": "s", "input": ["v"]}]}`
	os.WriteFile(path, []byte(doc), 0o600)
	di, err := readDataInputs(path, nil)
	if err != nil || di.Variable != `[{"uri": "file:///a.nc", "id": "tas|v"}]` || di.Domain != "[]" || !strings.Contains(di.Operation, "CDAT.subset") {
		t.Errorf("%+v %v", di, err)
	}
	if _, err := readDataInputs("-", strings.NewReader(`{"variable": []}`)); err == nil {
		t.Error("a request without operation accepted")
	}
}

// The progress: a bar with the percent and message on a terminal, plain
// lines otherwise.
func TestProgressView(t *testing.T) {
	var plain bytes.Buffer
	pv := newProgress(&plain, false, "job 7")
	pv.update(&cwt.Status{State: cwt.Accepted})
	pv.update(&cwt.Status{State: cwt.Started, Percent: 40, Message: "Subset 'lat' 36 -> 6"})
	pv.update(&cwt.Status{State: cwt.Succeeded, Percent: 100, Message: "1 output(s)"}) // printed as the result
	pv.finish()
	if plain.String() != "job 7: ProcessAccepted\njob 7: ProcessStarted 40% Subset 'lat' 36 -> 6\n" {
		t.Errorf("plain lines:\n%s", plain.String())
	}
	var tty bytes.Buffer
	pv = newProgress(&tty, true, "job 7")
	pv.update(&cwt.Status{State: cwt.Started, Percent: 40, Message: "reading tas"})
	pv.finish()
	if out := tty.String(); !strings.Contains(out, "40%") || !strings.Contains(out, "job 7 running reading tas") || !strings.Contains(out, "\r") {
		t.Errorf("bar: %q", out)
	}
}

// Every command's --help shows at least one example.
func TestHelpHasExamples(t *testing.T) {
	a := &app{getenv: func(string) string { return "" }}
	root := a.rootCommand()
	cmds := append(root.Commands(), root)
	for _, c := range cmds {
		var out bytes.Buffer
		a := &app{getenv: func(string) string { return "" }}
		code := run(context.Background(), append(strings.Fields(c.CommandPath())[1:], "--help"), streams{in: strings.NewReader(""), out: &out, err: &out}, a.getenv)
		if code != 0 || !strings.Contains(out.String(), "Examples:\n  cwt ") && !strings.Contains(out.String(), "Examples:\n  export") {
			t.Errorf("%s --help (exit %d) has no example:\n%s", c.CommandPath(), code, out.String())
		}
	}
}
