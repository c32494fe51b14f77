package cwt

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The status documents the server writes (its golden files) read as the
// states, percents, messages, failures and outputs a user sees.
func TestParseServerStatusDocuments(t *testing.T) {
	dir := filepath.Join("..", "internal", "wps", "testdata", "golden")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		file, loc string
		state     State
		percent   int
		message   string
	}{
		{"execute_accepted.xml", "http://127.0.0.1:8000/wps/api/job/42.wps", Accepted, 0, "queued"},
		{"execute_started.xml", "http://127.0.0.1:8000/wps/api/job/42.wps", Started, 45, "reading tas"},
		{"execute_paused.xml", "http://127.0.0.1:8000/wps/api/job/42.wps", Paused, 100, "paused"},
		{"execute_succeeded.xml", "http://127.0.0.1:8000/wps/api/job/42.wps", Succeeded, 100, "done"},
		{"execute_sync_succeeded.xml", "", Succeeded, 100, "done"},
		{"execute_failed.xml", "http://127.0.0.1:8000/wps/api/job/42.wps", Failed, 0, ""},
	} {
		st, loc, err := parseStatus(read(c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if loc != c.loc || st.State != c.state || st.Percent != c.percent || st.Message != c.message || st.Identifier != "CDAT.subset" {
			t.Errorf("%s: %q %+v", c.file, loc, st)
		}
		if loc != "" && jobIDOf(loc) != "42" {
			t.Errorf("%s: job id %q", c.file, jobIDOf(loc))
		}
	}

	st, _, _ := parseStatus(read("execute_failed.xml"))
	if st.Exception == nil || st.Exception.Code != "InvalidParameterValue" || st.Exception.Text != "dimension (lat) is outside the file" {
		t.Errorf("failure: %+v", st.Exception)
	}
	fe := &JobFailedError{JobID: "42", Status: st}
	if fe.Error() != "job 42 failed: dimension (lat) is outside the file" {
		t.Errorf("failure message: %s", fe.Error())
	}

	st, _, _ = parseStatus(read("execute_succeeded.xml"))
	vs, err := st.Variables()
	if err != nil || len(vs) != 1 {
		t.Fatalf("outputs: %v %v", vs, err)
	}
	if v := vs[0]; v.URI != "http://127.0.0.1:8000/wps/data/u/j/s0.nc" || v.Var != "tas" || v.Name != "s0" || v.MimeType != "application/netcdf" {
		t.Errorf("output variable: %+v", v)
	}

	_, _, err = parseStatus(read("exception_locator.xml"))
	var se *ServerError
	if !errors.As(err, &se) || se.Code != "MissingParameterValue" || se.Locator != "identifier" || se.Text != "the parameter identifier is required" {
		t.Errorf("exception report: %v", err)
	}
}

// Outputs as the LLNL server and the Python client know them: one
// Variable object, or a list.
func TestOutputVariables(t *testing.T) {
	one := Output{Data: `{"uri": "https://aims2.llnl.gov/threddsCWT/dodsC/public/x.nc", "id": "tas|abc"}`}
	if vs, err := one.Variables(); err != nil || len(vs) != 1 || vs[0].ID() != "tas|abc" {
		t.Errorf("%v %v", vs, err)
	}
	two := Output{Data: `[{"uri": "a.nc", "id": "tas|a"}, {"uri": "b.nc", "id": "pr|b"}]`}
	if vs, err := two.Variables(); err != nil || len(vs) != 2 || vs[1].Var != "pr" {
		t.Errorf("%v %v", vs, err)
	}
	for _, bad := range []string{`{"uri": "a.nc", "id": "tas"}`, `{"id": "tas|a"}`, `not json`, ``} {
		if _, err := (Output{Data: bad}).Variables(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPercentEncodingKeepsJSONIntact(t *testing.T) {
	in := `variable=[{"uri": "file:///a b+c.nc?x=1&y=2", "id": "tas|v"}];domain=[{"t": "1980-01-01 00:00:00+05:00"}]`
	enc := percentEncode(in)
	for _, ch := range []string{" ", "+", "&", ";", "=", "\"", "[", "{"} {
		for i := 0; i < len(enc); i++ {
			if enc[i:i+1] == ch {
				t.Fatalf("%q left unencoded in %s", ch, enc)
			}
		}
	}
}
