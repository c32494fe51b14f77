package wps

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const (
	cwtVariable  = `[{"uri": "http://esgf.example/thredds/dodsC/cmip6/tas_day.nc?a=1&b=2", "id": "tas|v0", "domain": "d0", "mime_type": "application/netcdf"}]`
	cwtDomain    = `[{"id": "d0", "lat": {"start": -90, "end": 0, "step": 1, "crs": "values"}, "time": {"start": "1980-01-01 00:00:00+05:00", "end": 1e+5, "step": 1, "crs": "timestamps"}}]`
	cwtOperation = `[{"name": "CDAT.subset", "result": "5a8830a2", "domain": "d0", "input": ["v0"], "cond": "pr>=1"}]`
)

// wantException asserts err is an *Exception with code and locator, and
// that its text mentions each of the given fragments.
func wantException(t *testing.T, err error, code, locator string, fragments ...string) *Exception {
	t.Helper()
	var e *Exception
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *Exception %s", err, err, code)
	}
	if e.Code != code || e.Locator != locator {
		t.Errorf("got %s locator %q (%q), want %s locator %q", e.Code, e.Locator, e.Text, code, locator)
	}
	for _, f := range fragments {
		if !strings.Contains(e.Text, f) {
			t.Errorf("text %q does not mention %q", e.Text, f)
		}
	}
	return e
}

func mustParseXML(t *testing.T, doc string) *Request {
	t.Helper()
	req, err := ParseXML([]byte(doc))
	if err != nil {
		t.Fatalf("ParseXML: %v", err)
	}
	return req
}

func TestParseXMLCwtExecute(t *testing.T) {
	body, err := os.ReadFile("testdata/cwt_execute.xml")
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseXML(body)
	if err != nil {
		t.Fatal(err)
	}
	if req.Operation != "Execute" || req.Execute == nil {
		t.Fatalf("request = %+v", req)
	}
	ex := req.Execute
	if ex.Identifier != "CDAT.subset" {
		t.Errorf("Identifier = %q", ex.Identifier)
	}
	if len(ex.Inputs) != 3 {
		t.Fatalf("%d inputs, want 3", len(ex.Inputs))
	}
	v, d, o := ex.DataInputs()
	if v != cwtVariable || d != cwtDomain || o != cwtOperation {
		t.Errorf("DataInputs() =\n%s\n%s\n%s", v, d, o)
	}
	for i, id := range []string{"variable", "domain", "operation"} {
		if in := ex.Inputs[i]; in.Identifier != id || in.MimeType != "application/json" {
			t.Errorf("input %d = %q %q", i, in.Identifier, in.MimeType)
		}
	}
	// cwt sends no ResponseForm and works best with an asynchronous answer.
	if ex.ResponseForm.Given || !ex.Async() {
		t.Errorf("ResponseForm = %+v, Async = %v", ex.ResponseForm, ex.Async())
	}
}

// executeDoc is the cwt request written with other prefixes, or with wps as
// the default namespace: only the namespace URIs may matter.
const executeOtherPrefixes = `<?xml version="1.0" encoding="UTF-8"?>
<a:Execute xmlns:a="http://www.opengis.net/wps/1.0.0" xmlns:b="http://www.opengis.net/ows/1.1" service="WPS" version="1.0.0">
  <b:Identifier>CDAT.max</b:Identifier>
  <a:DataInputs>
    <a:Input><b:Identifier>Variable</b:Identifier><a:Data><a:ComplexData mimeType="application/json"><![CDATA[[{"uri": "u", "id": "tas|v0"}]]]></a:ComplexData></a:Data></a:Input>
    <a:Input><b:Identifier>OPERATION</b:Identifier><a:Data><a:ComplexData>[{"name": "CDAT.max", "input": ["v0"]}]</a:ComplexData></a:Data></a:Input>
  </a:DataInputs>
</a:Execute>`

const executeDefaultNamespace = `<Execute xmlns="http://www.opengis.net/wps/1.0.0" service="WPS" version="1.0.0">
  <Identifier xmlns="http://www.opengis.net/ows/1.1">CDAT.max</Identifier>
  <DataInputs>
    <Input><ows:Identifier xmlns:ows="http://www.opengis.net/ows/1.1">variable</ows:Identifier><Data><ComplexData>[{"uri": "u", "id": "tas|v0"}]</ComplexData></Data></Input>
    <Input><ows:Identifier xmlns:ows="http://www.opengis.net/ows/1.1">operation</ows:Identifier><Data><ComplexData>[{"name": "CDAT.max", "input": ["v0"]}]</ComplexData></Data></Input>
  </DataInputs>
</Execute>`

func TestParseXMLNamespacesByURI(t *testing.T) {
	for name, doc := range map[string]string{"prefixes": executeOtherPrefixes, "default namespace": executeDefaultNamespace} {
		t.Run(name, func(t *testing.T) {
			ex := mustParseXML(t, doc).Execute
			if ex.Identifier != "CDAT.max" {
				t.Errorf("Identifier = %q", ex.Identifier)
			}
			v, d, o := ex.DataInputs()
			if v != `[{"uri": "u", "id": "tas|v0"}]` || d != "[]" || o != `[{"name": "CDAT.max", "input": ["v0"]}]` {
				t.Errorf("DataInputs() = %s | %s | %s", v, d, o)
			}
			if in, ok := ex.Input("VARIABLE"); !ok || in.Identifier != "variable" {
				t.Errorf("Input(VARIABLE) = %+v, %v; identifiers are lower-cased", in, ok)
			}
		})
	}

	// The usual prefixes bound to the wrong URIs must not be accepted.
	wrongNS := strings.ReplaceAll(executeOtherPrefixes, `xmlns:a="http://www.opengis.net/wps/1.0.0"`, `xmlns:a="http://www.opengis.net/wps/2.0"`)
	_, err := ParseXML([]byte(wrongNS))
	wantException(t, err, OperationNotSupported, "Execute", "{http://www.opengis.net/wps/2.0}Execute")

	// An Identifier in the wps namespace is not the ows:Identifier.
	wpsIdent := strings.Replace(executeOtherPrefixes, "<b:Identifier>CDAT.max</b:Identifier>", "<a:Identifier>CDAT.max</a:Identifier>", 1)
	_, err = ParseXML([]byte(wpsIdent))
	wantException(t, err, MissingParameterValue, "Identifier")
}

func TestParseXMLGetCapabilitiesAndDescribe(t *testing.T) {
	req := mustParseXML(t, `<wps:GetCapabilities xmlns:wps="http://www.opengis.net/wps/1.0.0" xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS" language="en-US">
  <wps:AcceptVersions><ows:Version>2.0.0</ows:Version><ows:Version>1.0.0</ows:Version></wps:AcceptVersions>
</wps:GetCapabilities>`)
	if req.Operation != "GetCapabilities" {
		t.Errorf("Operation = %q", req.Operation)
	}
	_, err := ParseXML([]byte(`<wps:GetCapabilities xmlns:wps="http://www.opengis.net/wps/1.0.0" xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS">
  <wps:AcceptVersions><ows:Version>2.0.0</ows:Version></wps:AcceptVersions></wps:GetCapabilities>`))
	wantException(t, err, VersionNegotiationFailed, "AcceptVersions", "1.0.0")

	req = mustParseXML(t, `<wps:DescribeProcess xmlns:wps="http://www.opengis.net/wps/1.0.0" xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS" version="1.0.0">
  <ows:Identifier>CDAT.subset</ows:Identifier><ows:Identifier> ALL </ows:Identifier></wps:DescribeProcess>`)
	if req.Operation != "DescribeProcess" || strings.Join(req.Identifiers, ",") != "CDAT.subset,ALL" {
		t.Errorf("request = %+v", req)
	}
	_, err = ParseXML([]byte(`<wps:DescribeProcess xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS" version="1.0.0"/>`))
	wantException(t, err, MissingParameterValue, "Identifier")
}

func TestParseXMLRefusesDTD(t *testing.T) {
	billionLaughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS" version="1.0.0"><ows:Identifier>&lol9;</ows:Identifier></wps:Execute>`
	externalEntity := `<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS" version="1.0.0"><ows:Identifier>&xxe;</ows:Identifier></wps:Execute>`
	plainDoctype := `<!DOCTYPE Execute SYSTEM "http://example.org/x.dtd"><Execute/>`
	for name, doc := range map[string]string{"billion laughs": billionLaughs, "external entity": externalEntity, "doctype": plainDoctype} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseXML([]byte(doc))
			wantException(t, err, NoApplicableCode, "", "document type declarations (DTD) are not accepted")
		})
	}
	// Without a DTD an undeclared entity is simply not well-formed.
	_, err := ParseXML([]byte(`<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS">&lol;</wps:Execute>`))
	wantException(t, err, NoApplicableCode, "", "not well-formed XML", "line 1")
}

func TestParseXMLDepthLimit(t *testing.T) {
	nested := func(depth int) string {
		// The root plus depth-1 nested elements under wps:DataInputs' sibling.
		inner := strings.Repeat("<x>", depth-2) + strings.Repeat("</x>", depth-2)
		return `<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS" version="1.0.0"><ows:Identifier>p</ows:Identifier><y>` + inner + `</y></wps:Execute>`
	}
	mustParseXML(t, nested(64))
	_, err := ParseXML([]byte(nested(65)))
	wantException(t, err, NoApplicableCode, "", "deeper than 64")
	_, err = ParseXML([]byte(nested(100000)))
	wantException(t, err, NoApplicableCode, "", "deeper than 64")
}

func TestParseXMLErrors(t *testing.T) {
	const open = `<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS" version="1.0.0">`
	input := func(body string) string {
		return open + `<ows:Identifier>p</ows:Identifier><wps:DataInputs><wps:Input>` + body + `</wps:Input></wps:DataInputs></wps:Execute>`
	}
	for _, tc := range []struct {
		name, doc, code, locator, fragment string
	}{
		{"empty body", " \n", MissingParameterValue, "request", "empty"},
		{"malformed", open + "<ows:Identifier>p</wps:Execute>", NoApplicableCode, "", "not well-formed XML: line 1"},
		{"truncated", open, NoApplicableCode, "", "not well-formed XML"},
		{"no root", "<!-- nothing -->", NoApplicableCode, "", "no root element"},
		{"two roots", open + "<ows:Identifier>p</ows:Identifier></wps:Execute><wps:Execute/>", NoApplicableCode, "", "second element"},
		{"text after root", open + "<ows:Identifier>p</ows:Identifier></wps:Execute>junk", NoApplicableCode, "", "outside the root"},
		{"latin-1", `<?xml version="1.0" encoding="ISO-8859-1"?>` + open + `</wps:Execute>`, NoApplicableCode, "", `"ISO-8859-1"; send UTF-8`},
		{"wrong root", `<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS"/>`, OperationNotSupported, "GetStatus", "{http://www.opengis.net/wps/1.0.0}GetStatus"},
		{"root without namespace", `<Execute service="WPS" version="1.0.0"/>`, OperationNotSupported, "Execute", "(no namespace)"},
		{"ows root", `<ows:GetCapabilities xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS"/>`, OperationNotSupported, "GetCapabilities", "{http://www.opengis.net/ows/1.1}GetCapabilities"},
		{"no service", `<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" version="1.0.0"/>`, MissingParameterValue, "service", "service"},
		{"wrong service", `<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WMS" version="1.0.0"/>`, InvalidParameterValue, "service", `"WMS"`},
		{"wrong version", `<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS" version="2.0.0"/>`, VersionNegotiationFailed, "version", `"2.0.0"`},
		{"describe wrong version", `<wps:DescribeProcess xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS" version="0.4.0"/>`, VersionNegotiationFailed, "version", "1.0.0"},
		{"no identifier", open + "</wps:Execute>", MissingParameterValue, "Identifier", "ows:Identifier"},
		{"blank identifier", open + "<ows:Identifier> </ows:Identifier></wps:Execute>", MissingParameterValue, "Identifier", ""},
		{"input without identifier", input(`<wps:Data><wps:LiteralData>1</wps:LiteralData></wps:Data>`), MissingParameterValue, "Identifier", "wps:Input"},
		{"reference", input(`<ows:Identifier>Variable</ows:Identifier><wps:Reference xlink:href="http://x/v.json" xmlns:xlink="http://www.w3.org/1999/xlink"/>`), InvalidParameterValue, "variable", "inputs by reference are not supported"},
		{"no data", input(`<ows:Identifier>domain</ows:Identifier>`), MissingParameterValue, "domain", "no wps:Data"},
		{"empty data", input(`<ows:Identifier>domain</ows:Identifier><wps:Data/>`), MissingParameterValue, "domain", "ComplexData"},
		{"bounding box", input(`<ows:Identifier>bbox</ows:Identifier><wps:Data><wps:BoundingBoxData/></wps:Data>`), InvalidParameterValue, "bbox", "bounding box"},
		{"empty response form", open + "<ows:Identifier>p</ows:Identifier><wps:ResponseForm/></wps:Execute>", MissingParameterValue, "ResponseForm", "ResponseDocument"},
		{"bad status", open + `<ows:Identifier>p</ows:Identifier><wps:ResponseForm><wps:ResponseDocument status="yes"/></wps:ResponseForm></wps:Execute>`, InvalidParameterValue, "status", `"yes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseXML([]byte(tc.doc))
			if err == nil {
				t.Fatalf("no error, got %+v", req)
			}
			wantException(t, err, tc.code, tc.locator, tc.fragment)
		})
	}
}

func TestParseXMLInputs(t *testing.T) {
	doc := `<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" xmlns:ows="http://www.opengis.net/ows/1.1" service="wps" version="1.0.0">
<ows:Identifier> CDAT.subset </ows:Identifier>
<wps:DataInputs>
  <wps:Input><ows:Identifier>variable</ows:Identifier><wps:Data><wps:ComplexData mimeType="application/json">
    [1]
  </wps:ComplexData></wps:Data></wps:Input>
  <wps:Input><ows:Identifier>axes</ows:Identifier><wps:Data><wps:LiteralData> lat|lon </wps:LiteralData></wps:Data></wps:Input>
  <wps:Input><ows:Identifier>grid</ows:Identifier><wps:Data><wps:ComplexData mimeType="text/xml"><g:grid xmlns:g="urn:g" n="1">x &amp; y</g:grid></wps:ComplexData></wps:Data></wps:Input>
  <wps:Input><ows:Identifier>VARIABLE</ows:Identifier><wps:Data><wps:ComplexData>[2]</wps:ComplexData></wps:Data></wps:Input>
</wps:DataInputs>
</wps:Execute>`
	ex := mustParseXML(t, doc).Execute
	if ex.Identifier != "CDAT.subset" {
		t.Errorf("Identifier = %q", ex.Identifier)
	}
	if len(ex.Inputs) != 4 {
		t.Fatalf("%d inputs, want all 4 in order", len(ex.Inputs))
	}
	if in := ex.Inputs[0]; in.Value != "[1]" || in.MimeType != "application/json" {
		t.Errorf("first input = %+v", in)
	}
	if in, _ := ex.Input("axes"); in.Value != " lat|lon " {
		t.Errorf("LiteralData = %q, want the exact text", in.Value)
	}
	if in, _ := ex.Input("grid"); in.Value != `<g:grid xmlns:g="urn:g" n="1">x &amp; y</g:grid>` || in.MimeType != "text/xml" {
		t.Errorf("XML ComplexData = %+v, want the serialised elements", in)
	}
	if in, _ := ex.Input("Variable"); in.Value != "[2]" {
		t.Errorf("duplicate input: got %q, want the last one", in.Value)
	}
	if _, ok := ex.Input("domain"); ok {
		t.Error("absent input found")
	}
	if _, d, _ := ex.DataInputs(); d != "[]" {
		t.Errorf("absent domain = %q, want []", d)
	}
}

func TestParseXMLResponseForm(t *testing.T) {
	const open = `<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS" version="1.0.0"><ows:Identifier>p</ows:Identifier>`
	for _, tc := range []struct {
		name, form string
		want       ResponseForm
		async      bool
	}{
		{"none", "", ResponseForm{}, true},
		{"status", `<wps:ResponseDocument storeExecuteResponse="true" status="true"><wps:Output><ows:Identifier>output</ows:Identifier></wps:Output></wps:ResponseDocument>`,
			ResponseForm{Given: true, StoreExecuteResponse: true, Status: true, OutputIdentifier: "output"}, true},
		{"store only", `<wps:ResponseDocument storeExecuteResponse="true" status="false"/>`,
			ResponseForm{Given: true, StoreExecuteResponse: true}, false},
		{"document defaults", `<wps:ResponseDocument lineage="1"/>`, ResponseForm{Given: true}, false},
		{"raw", `<wps:RawDataOutput mimeType="application/json"><ows:Identifier>output</ows:Identifier></wps:RawDataOutput>`,
			ResponseForm{Given: true, RawOutput: true, OutputIdentifier: "output"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := open
			if tc.form != "" {
				doc += "<wps:ResponseForm>" + tc.form + "</wps:ResponseForm>"
			}
			ex := mustParseXML(t, doc+"</wps:Execute>").Execute
			if ex.ResponseForm != tc.want {
				t.Errorf("ResponseForm = %+v, want %+v", ex.ResponseForm, tc.want)
			}
			if ex.Async() != tc.async {
				t.Errorf("Async() = %v, want %v", ex.Async(), tc.async)
			}
		})
	}
}

func TestParseXMLByteOrderMarkAndDeclaration(t *testing.T) {
	doc := "\xEF\xBB\xBF" + `<?xml version="1.0" encoding="utf-8"?><wps:GetCapabilities xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS"/>`
	if req := mustParseXML(t, doc); req.Operation != "GetCapabilities" {
		t.Errorf("Operation = %q", req.Operation)
	}
}
