package wps

import (
	"fmt"
	"strings"
	"testing"
)

// pctAll percent-encodes every byte but letters and digits ("+" as %2B).
func pctAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func mustParseKVP(t *testing.T, q string) *Request {
	t.Helper()
	req, err := ParseKVP(q)
	if err != nil {
		t.Fatalf("ParseKVP(%q): %v", q, err)
	}
	return req
}

func TestParseKVPOperations(t *testing.T) {
	// What OWSLib sends, and the same with other spellings.
	for _, q := range []string{
		"service=WPS&request=GetCapabilities&version=1.0.0",
		"SERVICE=wps&REQUEST=getcapabilities",
		"Service=Wps&Request=GETCAPABILITIES&AcceptVersions=2.0.0,1.0.0",
		"request=GetCapabilities&service=WPS&version=2.0.0", // version is not negotiated for GetCapabilities
	} {
		if req := mustParseKVP(t, q); req.Operation != "GetCapabilities" {
			t.Errorf("%q: Operation = %q", q, req.Operation)
		}
	}

	req := mustParseKVP(t, "service=WPS&request=DescribeProcess&version=1.0.0&identifier=CDAT.subset")
	if req.Operation != "DescribeProcess" || len(req.Identifiers) != 1 || req.Identifiers[0] != "CDAT.subset" {
		t.Errorf("request = %+v", req)
	}
	req = mustParseKVP(t, "sErViCe=WPS&ReQuEsT=describeprocess&IDENTIFIER=CDAT.subset,%20CDAT.max,,ALL")
	if got := strings.Join(req.Identifiers, "|"); got != "CDAT.subset|CDAT.max|ALL" {
		t.Errorf("Identifiers = %q", got)
	}

	req = mustParseKVP(t, "service=WPS&request=Execute&version=1.0.0&Identifier=CDAT.subset")
	if req.Operation != "Execute" || req.Execute == nil || req.Execute.Identifier != "CDAT.subset" {
		t.Fatalf("request = %+v", req)
	}
	if len(req.Execute.Inputs) != 0 || !req.Execute.Async() {
		t.Errorf("Execute = %+v", req.Execute)
	}
}

func TestParseKVPErrors(t *testing.T) {
	for _, tc := range []struct {
		query, code, locator, fragment string
	}{
		{"", MissingParameterValue, "request", "request"},
		{"service=WPS", MissingParameterValue, "request", "request"},
		{"service=WPS&request=", MissingParameterValue, "request", "request"},
		{"request=GetCapabilities", MissingParameterValue, "service", "service"},
		{"request=GetCapabilities&service=%20", MissingParameterValue, "service", "service"},
		{"request=GetCapabilities&service=WMS", InvalidParameterValue, "service", `"WMS"`},
		{"request=GetCapabilities&service=WPS&acceptversions=2.0.0,0.4.0", VersionNegotiationFailed, "acceptversions", "1.0.0"},
		{"request=DescribeProcess&service=WPS&version=2.0.0&identifier=x", VersionNegotiationFailed, "version", `"2.0.0"`},
		{"request=Execute&service=WPS&version=0.4.0&identifier=x", VersionNegotiationFailed, "version", `"0.4.0"`},
		{"request=GetStatus&service=WPS", OperationNotSupported, "request", `"GetStatus"`},
		{"request=" + strings.Repeat("A", 500) + "&service=WPS", OperationNotSupported, "request", "…"},
		{"request=DescribeProcess&service=WPS&version=1.0.0", MissingParameterValue, "identifier", "identifier"},
		{"request=DescribeProcess&service=WPS&identifier=,%20,", MissingParameterValue, "identifier", "identifier"},
		{"request=Execute&service=WPS&version=1.0.0", MissingParameterValue, "identifier", "identifier"},
		{"request=Execute&service=WPS&identifier=p&status=maybe", InvalidParameterValue, "status", `"maybe"`},
		{"request=Execute&service=WPS&identifier=p&storeExecuteResponse=", InvalidParameterValue, "storeexecuteresponse", "true or false"},
		{"request=Execute&service=WPS&identifier=p&ResponseDocument=output&RawDataOutput=output", InvalidParameterValue, "rawdataoutput", "together"},
		{"request=Execute&service=WPS&identifier=%zz", InvalidParameterValue, "identifier", "percent-encoded"},
		{"re%zzquest=Execute", InvalidParameterValue, "", "percent-encoded"},
		{"request=Execute&service=WPS&identifier=p&DataInputs=variable=%zz", InvalidParameterValue, "datainputs", "percent-encoded"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			req, err := ParseKVP(tc.query)
			if err == nil {
				t.Fatalf("no error, got %+v", req)
			}
			wantException(t, err, tc.code, tc.locator, tc.fragment)
		})
	}
}

func TestParseKVPResponseForm(t *testing.T) {
	const base = "service=WPS&request=Execute&identifier=p"
	for _, tc := range []struct {
		extra string
		want  ResponseForm
		async bool
	}{
		{"", ResponseForm{}, true},
		{"&status=true", ResponseForm{Given: true, Status: true}, true},
		{"&storeExecuteResponse=TRUE&status=FALSE", ResponseForm{Given: true, StoreExecuteResponse: true}, false},
		{"&ResponseDocument=output@mimeType=application/json@asReference=false;other&status=true&storeexecuteresponse=true",
			ResponseForm{Given: true, StoreExecuteResponse: true, Status: true, OutputIdentifier: "output"}, true},
		{"&RawDataOutput=output@mimeType=application/json", ResponseForm{Given: true, RawOutput: true, OutputIdentifier: "output"}, false},
		{"&lineage=true", ResponseForm{}, true},
	} {
		ex := mustParseKVP(t, base+tc.extra).Execute
		if ex.ResponseForm != tc.want || ex.Async() != tc.async {
			t.Errorf("%q: ResponseForm = %+v Async = %v, want %+v %v", tc.extra, ex.ResponseForm, ex.Async(), tc.want, tc.async)
		}
	}
}

// llnlQuery builds an Execute query the way a careful client encodes the
// LLNL DataInputs: each JSON list percent-encoded, "+" kept raw.
func llnlQuery(dataInputs string) string {
	return "service=WPS&request=Execute&version=1.0.0&identifier=CDAT.subset&DataInputs=" + dataInputs
}

func TestParseKVPDataInputs(t *testing.T) {
	variable := `[{"uri":"http://x/tas.nc?a=1&b=2;c=3","id":"tas|v0"}]`
	domain := `[{"id":"d0","time":{"start":"1980-01-01T00:00:00+05:00","end":1e+5,"crs":"timestamps"}}]`
	operation := `[{"name":"CDAT.where","result":"w0","input":["v0"],"cond":"pr>=1","domain":"d0"}]`
	// Encode only what would break the query; "+", ";" and "=" stay raw.
	enc := func(s string) string {
		return strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", " ", "%20").Replace(s)
	}

	for name, q := range map[string]string{
		"llnl wrapped":     llnlQuery(enc("[variable=" + variable + ";domain=" + domain + ";operation=" + operation + "]")),
		"llnl unwrapped":   llnlQuery(enc("variable=" + variable + ";domain=" + domain + ";operation=" + operation)),
		"fully encoded":    llnlQuery(pctAll("[variable=" + variable + ";domain=" + domain + ";operation=" + operation + "]")),
		"standard @ attrs": llnlQuery(enc("variable=" + variable + "@mimeType=application/json;domain=" + domain + "@mimeType=application/json@encoding=UTF-8;operation=" + operation + "@mimeType=application/json")),
		"spaces around":    llnlQuery(enc(" [ variable = " + variable + " ; domain=" + domain + " ;operation=" + operation + " ; ] ")),
	} {
		t.Run(name, func(t *testing.T) {
			ex := mustParseKVP(t, q).Execute
			v, d, o := ex.DataInputs()
			if v != variable {
				t.Errorf("variable = %s", v)
			}
			if d != domain {
				t.Errorf("domain = %s (the + signs must survive)", d)
			}
			if o != operation {
				t.Errorf("operation = %s", o)
			}
			if len(ex.Inputs) != 3 {
				t.Errorf("%d inputs", len(ex.Inputs))
			}
			if strings.Contains(name, "standard") {
				if in, _ := ex.Input("domain"); in.MimeType != "application/json" {
					t.Errorf("domain mimeType = %q", in.MimeType)
				}
			}
		})
	}

	// Only DataInputs keeps "+": elsewhere it is a space, as in any form.
	req := mustParseKVP(t, "service=WPS&request=Execute&identifier=my+proc&DataInputs=x=%22a+b%22")
	if req.Execute.Identifier != "my proc" {
		t.Errorf("Identifier = %q", req.Execute.Identifier)
	}
	if in, _ := req.Execute.Input("x"); in.Value != `"a+b"` {
		t.Errorf("DataInputs value = %q", in.Value)
	}
}
