package wps

import (
	"bytes"
	"strings"
	"testing"
)

var testService = ServiceInfo{
	URL:             "http://127.0.0.1:8000/wps",
	Title:           "ComputeWPS",
	Abstract:        "Climate data operations over WPS 1.0.0",
	Keywords:        []string{"WPS", "climate", "CDAT"},
	ProviderName:    "Example Lab",
	ProviderSite:    "https://example.org/",
	ContactName:     "Ada Admin",
	ContactPosition: "Operator",
	ContactPhone:    "+1 555 0100",
	AddressDelivery: "1 Main St",
	AddressCity:     "Livermore",
	AddressArea:     "CA",
	AddressPostal:   "94550",
	AddressCountry:  "US",
	AddressEmail:    "wps@example.org",
}

var testProcesses = []ProcessInfo{
	{Identifier: "CDAT.subset", Abstract: "Subset a variable over a domain.", Version: "devel"},
	{Identifier: "CDAT.max", Title: "Maximum", Abstract: "Maximum over axes; parameters: axes=a|b", Version: "devel"},
}

func TestWriteCapabilities(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCapabilities(&buf, testService, testProcesses); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "capabilities.xml", buf.Bytes())

	root := parseDoc(t, buf.Bytes())
	checkRoot(t, root, wpsName("Capabilities"),
		"http://www.opengis.net/wps/1.0.0 http://schemas.opengis.net/wps/1.0.0/wpsGetCapabilities_response.xsd", "en-US")
	if v, _ := root.attr("", "service"); v != "WPS" {
		t.Errorf("service = %q", v)
	}
	if v, _ := root.attr("", "version"); v != "1.0.0" {
		t.Errorf("version = %q", v)
	}
	si := root.path(t, owsName("ServiceIdentification"))
	if got := si.path(t, owsName("ServiceType")).text(); got != "WPS" {
		t.Errorf("ServiceType = %q", got)
	}
	if n := len(si.path(t, owsName("Keywords")).all(owsName("Keyword"))); n != 3 {
		t.Errorf("%d keywords, want 3", n)
	}
	site := root.path(t, owsName("ServiceProvider"), owsName("ProviderSite"))
	if v, _ := site.attr(NSXLink, "href"); v != "https://example.org/" {
		t.Errorf("ProviderSite xlink:href = %q", v)
	}

	ops := root.path(t, owsName("OperationsMetadata")).all(owsName("Operation"))
	if len(ops) != 3 {
		t.Fatalf("%d operations, want 3", len(ops))
	}
	for i, want := range []string{"GetCapabilities", "DescribeProcess", "Execute"} {
		if v, _ := ops[i].attr("", "name"); v != want {
			t.Errorf("operation %d = %q, want %q", i, v, want)
		}
		http := ops[i].path(t, owsName("DCP"), owsName("HTTP"))
		if v, _ := http.path(t, owsName("Get")).attr(NSXLink, "href"); v != "http://127.0.0.1:8000/wps?" {
			t.Errorf("Get href = %q", v)
		}
		if v, _ := http.path(t, owsName("Post")).attr(NSXLink, "href"); v != "http://127.0.0.1:8000/wps" {
			t.Errorf("Post href = %q", v)
		}
	}

	// OWSLib reads Process in the namespace of ProcessOfferings and only the
	// namespaced wps:processVersion attribute.
	procs := root.path(t, wpsName("ProcessOfferings")).all(wpsName("Process"))
	if len(procs) != 2 {
		t.Fatalf("%d processes, want 2", len(procs))
	}
	if v, ok := procs[0].attr(NSWPS, "processVersion"); !ok || v != "devel" {
		t.Errorf("wps:processVersion = %q, %v", v, ok)
	}
	if got := procs[0].path(t, owsName("Title")).text(); got != "CDAT.subset" {
		t.Errorf("Title defaults to the identifier, got %q", got)
	}
	if got := procs[1].path(t, owsName("Abstract")).text(); got != testProcesses[1].Abstract {
		t.Errorf("Abstract = %q", got)
	}
	lang := root.path(t, wpsName("Languages"), wpsName("Default"), owsName("Language")).text()
	if lang != "en-US" {
		t.Errorf("default language = %q", lang)
	}
}

func TestWriteCapabilitiesEscapesEverything(t *testing.T) {
	svc := testService
	svc.URL = `http://h/wps?a=1&b="2"`
	svc.Title = `<Title> & "quotes" 'apos' {braces}`
	svc.Abstract = "bell\a null\x00 esc\x1b kept\ttab\nnewline bad\xffutf8"
	svc.Keywords = []string{"a<b", "c&d"}
	svc.Language = "en-GB"
	procs := []ProcessInfo{{Identifier: `x"><evil/>`, Abstract: "a & b < c"}}
	var buf bytes.Buffer
	if err := WriteCapabilities(&buf, svc, procs); err != nil {
		t.Fatal(err)
	}
	root := parseDoc(t, buf.Bytes())
	si := root.path(t, owsName("ServiceIdentification"))
	if got := si.path(t, owsName("Title")).text(); got != svc.Title {
		t.Errorf("Title = %q, want %q", got, svc.Title)
	}
	if got := si.path(t, owsName("Abstract")).text(); got != "bell null esc kept\ttab\nnewline bad\uFFFDutf8" {
		t.Errorf("Abstract = %q", got)
	}
	get := root.path(t, owsName("OperationsMetadata"), owsName("Operation"), owsName("DCP"), owsName("HTTP"), owsName("Get"))
	if v, _ := get.attr(NSXLink, "href"); v != svc.URL+"&" {
		t.Errorf("Get href = %q, want the URL with & appended", v)
	}
	p := root.path(t, wpsName("ProcessOfferings"), wpsName("Process"))
	if got := p.path(t, owsName("Identifier")).text(); got != procs[0].Identifier {
		t.Errorf("Identifier = %q", got)
	}
	if v, _ := p.attr(NSWPS, "processVersion"); v != "1.0.0" {
		t.Errorf("empty Version should default to 1.0.0, got %q", v)
	}
	if strings.Contains(buf.String(), "<evil") {
		t.Error("markup from data reached the document")
	}
}

func TestWriteCapabilitiesNoKeywords(t *testing.T) {
	svc := testService
	svc.Keywords = nil
	var buf bytes.Buffer
	if err := WriteCapabilities(&buf, svc, nil); err != nil {
		t.Fatal(err)
	}
	root := parseDoc(t, buf.Bytes())
	// The schema requires at least one Keyword inside Keywords.
	if root.path(t, owsName("ServiceIdentification")).child(owsName("Keywords")) != nil {
		t.Error("empty Keywords element written")
	}
	if n := len(root.path(t, wpsName("ProcessOfferings")).Kids); n != 0 {
		t.Errorf("%d processes, want 0", n)
	}
}
