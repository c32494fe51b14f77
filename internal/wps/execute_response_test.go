package wps

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var (
	testCreated = time.Date(2026, 11, 26, 20, 32, 58, 0, time.FixedZone("CET", 3600))
	testInputs  = []Input{
		{Identifier: "variable", Value: `[{"uri": "http://x/tas.nc?a=1&b=2", "id": "tas|v0"}]`, MimeType: "application/json"},
		{Identifier: "domain", Value: `[{"id": "d0", "lat": {"start": -90, "end": 0, "step": 1, "crs": "values"}}]`, MimeType: "application/json"},
		{Identifier: "operation", Value: `[{"name": "CDAT.subset", "result": "s0", "domain": "d0", "input": ["v0"]}]`},
	}
	testOutput = `[{"uri": "http://127.0.0.1:8000/wps/data/u/j/s0.nc", "id": "tas|s0", "mime_type": "application/netcdf"}]`
)

func testResponse(st Status) ExecuteResponse {
	st.Created = testCreated
	return ExecuteResponse{
		Service:        testService,
		Process:        testProcesses[0],
		StatusLocation: "http://127.0.0.1:8000/wps/api/job/42.wps",
		Status:         st,
		Inputs:         testInputs,
		Outputs:        []Output{{Data: testOutput}},
	}
}

func TestWriteExecuteResponse(t *testing.T) {
	sync := testResponse(Status{State: Succeeded, Message: "done"})
	sync.StatusLocation = ""
	sync.Inputs = nil

	for _, tc := range []struct {
		golden  string
		resp    ExecuteResponse
		percent string // "" when the state carries no percentCompleted
		message string
	}{
		{"execute_accepted.xml", testResponse(Status{State: Accepted, Message: "queued"}), "", "queued"},
		{"execute_started.xml", testResponse(Status{State: Started, Percent: 45, Message: "reading tas"}), "45", "reading tas"},
		{"execute_paused.xml", testResponse(Status{State: Paused, Percent: 150, Message: "paused"}), "100", "paused"},
		{"execute_succeeded.xml", testResponse(Status{State: Succeeded, Message: "done"}), "", "done"},
		{"execute_failed.xml", testResponse(Status{State: Failed, Exception: Errorf(InvalidParameterValue, "domain",
			"dimension {lat} is outside the file")}), "", ""},
		{"execute_sync_succeeded.xml", sync, "", "done"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteExecuteResponse(&buf, tc.resp); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.golden, buf.Bytes())

			root := parseDoc(t, buf.Bytes())
			checkRoot(t, root, wpsName("ExecuteResponse"),
				"http://www.opengis.net/wps/1.0.0 http://schemas.opengis.net/wps/1.0.0/wpsExecute_response.xsd", "en-US")
			if v, _ := root.attr("", "serviceInstance"); v != "http://127.0.0.1:8000/wps?service=WPS&request=GetCapabilities" {
				t.Errorf("serviceInstance = %q", v)
			}
			loc, ok := root.attr("", "statusLocation")
			if loc != tc.resp.StatusLocation || ok != (tc.resp.StatusLocation != "") {
				t.Errorf("statusLocation = %q (present %v), want %q", loc, ok, tc.resp.StatusLocation)
			}
			// OWSLib fails on a response without wps:Process.
			proc := root.path(t, wpsName("Process"))
			if v, _ := proc.attr(NSWPS, "processVersion"); v != "devel" {
				t.Errorf("wps:processVersion = %q", v)
			}
			if got := proc.path(t, owsName("Identifier")).text(); got != "CDAT.subset" {
				t.Errorf("Identifier = %q", got)
			}

			// wps:Status must be in the root's namespace, with exactly one state child.
			status := root.path(t, wpsName("Status"))
			if v, _ := status.attr("", "creationTime"); v != "2026-11-26T19:32:58Z" {
				t.Errorf("creationTime = %q, want RFC 3339 UTC", v)
			}
			if len(status.Kids) != 1 {
				t.Fatalf("Status has %d children, want 1", len(status.Kids))
			}
			state := status.Kids[0]
			if state.Name != wpsName(string(tc.resp.Status.State)) {
				t.Fatalf("state element = {%s}%s", state.Name.Space, state.Name.Local)
			}
			pct, hasPct := state.attr("", "percentCompleted")
			if pct != tc.percent || hasPct != (tc.percent != "") {
				t.Errorf("percentCompleted = %q (present %v), want %q", pct, hasPct, tc.percent)
			}
			if tc.resp.Status.State != Failed && state.text() != tc.message {
				t.Errorf("status text = %q, want %q", state.text(), tc.message)
			}

			if tc.resp.Inputs == nil {
				if root.child(wpsName("DataInputs")) != nil {
					t.Error("DataInputs written for nil Inputs")
				}
			} else {
				ins := root.path(t, wpsName("DataInputs")).all(wpsName("Input"))
				if len(ins) != len(testInputs) {
					t.Fatalf("%d echoed inputs", len(ins))
				}
				for i, in := range ins {
					cd := in.path(t, wpsName("Data"), wpsName("ComplexData"))
					if cd.Text != testInputs[i].Value {
						t.Errorf("input %d echoed as %q, want the JSON %q", i, cd.Text, testInputs[i].Value)
					}
					if v, _ := cd.attr("", "mimeType"); v != "application/json" {
						t.Errorf("input %d mimeType = %q", i, v)
					}
				}
			}
			def := root.path(t, wpsName("OutputDefinitions"), wpsName("Output"))
			if got := def.path(t, owsName("Identifier")).text(); got != "output" {
				t.Errorf("OutputDefinitions identifier = %q", got)
			}

			outs := root.child(wpsName("ProcessOutputs"))
			if tc.resp.Status.State != Succeeded {
				if outs != nil {
					t.Error("ProcessOutputs written before success")
				}
				return
			}
			out := outs.path(t, wpsName("Output"))
			if got := out.path(t, owsName("Identifier")).text(); got != "output" {
				t.Errorf("output identifier = %q", got)
			}
			cd := out.path(t, wpsName("Data"), wpsName("ComplexData"))
			if cd.Text != testOutput {
				t.Errorf("output = %q, want %q", cd.Text, testOutput)
			}
			if v, _ := cd.attr("", "mimeType"); v != "application/json" {
				t.Errorf("output mimeType = %q", v)
			}
		})
	}
}

func TestWriteExecuteResponseFailedNestsReport(t *testing.T) {
	var buf bytes.Buffer
	resp := testResponse(Status{State: Failed, Exception: Errorf(InvalidParameterValue, "domain",
		"dimension {lat} <bad> & \x01 out of range")})
	if err := WriteExecuteResponse(&buf, resp); err != nil {
		t.Fatal(err)
	}
	root := parseDoc(t, buf.Bytes())
	// A nested ows:ExceptionReport element (not escaped text) turns the
	// client's status into "Exception <text>".
	report := root.path(t, wpsName("Status"), wpsName("ProcessFailed"), owsName("ExceptionReport"))
	if v, _ := report.attr("", "version"); v != "1.0.0" {
		t.Errorf("report version = %q", v)
	}
	ex := report.path(t, owsName("Exception"))
	if v, _ := ex.attr("", "exceptionCode"); v != InvalidParameterValue {
		t.Errorf("exceptionCode = %q", v)
	}
	if v, _ := ex.attr("", "locator"); v != "domain" {
		t.Errorf("locator = %q", v)
	}
	if got := ex.path(t, owsName("ExceptionText")).text(); got != "dimension (lat) <bad> &  out of range" {
		t.Errorf("ExceptionText = %q", got)
	}
}

func TestWriteExecuteResponseFailedWithoutException(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteExecuteResponse(&buf, testResponse(Status{State: Failed, Message: "worker lost"})); err != nil {
		t.Fatal(err)
	}
	ex := parseDoc(t, buf.Bytes()).path(t, wpsName("Status"), wpsName("ProcessFailed"), owsName("ExceptionReport"), owsName("Exception"))
	if v, _ := ex.attr("", "exceptionCode"); v != NoApplicableCode {
		t.Errorf("exceptionCode = %q", v)
	}
	if got := ex.path(t, owsName("ExceptionText")).text(); got != "worker lost" {
		t.Errorf("ExceptionText = %q", got)
	}
}

func TestWriteExecuteResponsePercentClamped(t *testing.T) {
	for in, want := range map[int]string{-5: "0", 0: "0", 37: "37", 100: "100", 101: "100"} {
		var buf bytes.Buffer
		if err := WriteExecuteResponse(&buf, testResponse(Status{State: Started, Percent: in})); err != nil {
			t.Fatal(err)
		}
		st := parseDoc(t, buf.Bytes()).path(t, wpsName("Status"), wpsName("ProcessStarted"))
		if v, _ := st.attr("", "percentCompleted"); v != want {
			t.Errorf("percent %d written as %q, want %q", in, v, want)
		}
	}
}

func TestWriteExecuteResponseEscaping(t *testing.T) {
	resp := testResponse(Status{State: Succeeded, Message: `<done> & "ok" 'yes' {x}` + "\x00\x1f"})
	resp.StatusLocation = `http://h/status?id=1&x="y"`
	resp.Process.Title = "a < b"
	resp.Process.Abstract = "x & y ]]> z"
	resp.Outputs = []Output{{Identifier: "o<1>", Data: `{"a": "<&>", "b": "]]>"}`, MimeType: `app/"json"`}}
	resp.Inputs = []Input{{Identifier: "variable", Value: `["</wps:ComplexData>"]`}}
	var buf bytes.Buffer
	if err := WriteExecuteResponse(&buf, resp); err != nil {
		t.Fatal(err)
	}
	root := parseDoc(t, buf.Bytes())
	if v, _ := root.attr("", "statusLocation"); v != resp.StatusLocation {
		t.Errorf("statusLocation = %q", v)
	}
	if got := root.path(t, wpsName("Process"), owsName("Abstract")).text(); got != resp.Process.Abstract {
		t.Errorf("Abstract = %q", got)
	}
	if got := root.path(t, wpsName("Status"), wpsName("ProcessSucceeded")).text(); got != `<done> & "ok" 'yes' {x}` {
		t.Errorf("message = %q", got)
	}
	in := root.path(t, wpsName("DataInputs"), wpsName("Input"), wpsName("Data"), wpsName("ComplexData"))
	if in.Text != resp.Inputs[0].Value {
		t.Errorf("input echo = %q", in.Text)
	}
	out := root.path(t, wpsName("ProcessOutputs"), wpsName("Output"))
	if got := out.path(t, owsName("Identifier")).text(); got != "o<1>" {
		t.Errorf("output identifier = %q", got)
	}
	cd := out.path(t, wpsName("Data"), wpsName("ComplexData"))
	if cd.Text != resp.Outputs[0].Data {
		t.Errorf("output = %q", cd.Text)
	}
	if v, _ := cd.attr("", "mimeType"); v != `app/"json"` {
		t.Errorf("mimeType = %q", v)
	}
}

func TestWriteExecuteResponseUnknownState(t *testing.T) {
	for _, s := range []State{"", "ProcessRunning"} {
		var buf bytes.Buffer
		err := WriteExecuteResponse(&buf, testResponse(Status{State: s}))
		if err == nil || buf.Len() != 0 {
			t.Errorf("state %q: err %v, wrote %d bytes", s, err, buf.Len())
		}
	}
}

func TestWriteExecuteResponseServiceURLWithQuery(t *testing.T) {
	resp := testResponse(Status{State: Accepted})
	resp.Service.URL = "http://h/wps?tenant=a"
	var buf bytes.Buffer
	if err := WriteExecuteResponse(&buf, resp); err != nil {
		t.Fatal(err)
	}
	v, _ := parseDoc(t, buf.Bytes()).attr("", "serviceInstance")
	if v != "http://h/wps?tenant=a&service=WPS&request=GetCapabilities" {
		t.Errorf("serviceInstance = %q", v)
	}
}

func TestWriteExecuteResponseZeroCreatedIsNow(t *testing.T) {
	resp := testResponse(Status{State: Accepted})
	resp.Status.Created = time.Time{}
	var buf bytes.Buffer
	if err := WriteExecuteResponse(&buf, resp); err != nil {
		t.Fatal(err)
	}
	v, _ := parseDoc(t, buf.Bytes()).path(t, wpsName("Status")).attr("", "creationTime")
	ts, err := time.Parse(time.RFC3339, v)
	if err != nil || ts.Year() < 2025 || !strings.HasSuffix(v, "Z") {
		t.Errorf("creationTime = %q (%v)", v, err)
	}
}
