package wps

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

var knownCodes = map[string]bool{
	MissingParameterValue: true, InvalidParameterValue: true, NoApplicableCode: true,
	OperationNotSupported: true, VersionNegotiationFailed: true, NotEnoughStorage: true,
	ServerBusy: true, FileSizeExceeded: true,
}

// checkParsed holds for every answer of either parser: an error is an
// *Exception with a known code that renders as a well-formed report without
// braces in its text; a request is complete and renders an echo.
func checkParsed(t *testing.T, req *Request, err error) {
	if err != nil {
		var e *Exception
		if !errors.As(err, &e) || e == nil {
			t.Fatalf("error %v (%T) is not an *Exception", err, err)
		}
		if req != nil {
			t.Fatalf("both a request and an error: %+v", req)
		}
		if !knownCodes[e.Code] {
			t.Fatalf("unknown exception code %q", e.Code)
		}
		var buf bytes.Buffer
		if err := WriteExceptionReport(&buf, e); err != nil {
			t.Fatal(err)
		}
		checkWellFormed(t, buf.Bytes())
		text := buf.String()
		if i := strings.Index(text, "<ows:ExceptionText>"); i >= 0 && strings.ContainsAny(text[i:], "{}") {
			t.Fatalf("braces in ExceptionText: %s", text)
		}
		return
	}
	switch req.Operation {
	case "GetCapabilities":
	case "DescribeProcess":
		if len(req.Identifiers) == 0 {
			t.Fatal("DescribeProcess without identifiers")
		}
	case "Execute":
		if req.Execute == nil || req.Execute.Identifier == "" {
			t.Fatalf("incomplete Execute: %+v", req.Execute)
		}
		for _, in := range req.Execute.Inputs {
			if in.Identifier == "" || in.Identifier != strings.ToLower(in.Identifier) {
				t.Fatalf("input identifier %q", in.Identifier)
			}
		}
		var buf bytes.Buffer
		resp := ExecuteResponse{Service: testService, Process: ProcessInfo{Identifier: req.Execute.Identifier},
			Status: Status{State: Accepted}, Inputs: req.Execute.Inputs}
		if err := WriteExecuteResponse(&buf, resp); err != nil {
			t.Fatal(err)
		}
		checkWellFormed(t, buf.Bytes())
	default:
		t.Fatalf("unknown operation %q", req.Operation)
	}
}

func checkWellFormed(t *testing.T, doc []byte) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("ill-formed document: %v\n%s", err, doc)
		}
	}
}

func FuzzParseKVP(f *testing.F) {
	f.Add("service=WPS&request=GetCapabilities&version=1.0.0")
	f.Add(llnlQuery(`[variable=[{"uri":"http://x/a.nc","id":"tas|v0"}];domain=[];operation=[{"name":"CDAT.max","input":["v0"]}]]`))
	f.Fuzz(func(t *testing.T, q string) {
		req, err := ParseKVP(q)
		checkParsed(t, req, err)
		if err == nil && req.Execute != nil {
			for _, in := range req.Execute.Inputs {
				if !json.Valid([]byte(in.Value)) {
					t.Fatalf("input %s accepted with invalid JSON %q", in.Identifier, in.Value)
				}
			}
		}
	})
}

func FuzzParseXML(f *testing.F) {
	if body, err := os.ReadFile("testdata/cwt_execute.xml"); err == nil {
		f.Add(body)
	}
	f.Add([]byte(executeDefaultNamespace))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseXML(body)
		checkParsed(t, req, err)
	})
}
