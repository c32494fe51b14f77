package cwt

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

const (
	nsWPS = "http://www.opengis.net/wps/1.0.0"
	nsOWS = "http://www.opengis.net/ows/1.1"
)

// Elements are matched by local name in any namespace, as OWSLib does, so
// that documents from the LLNL server and from ours both read.

type capabilitiesXML struct {
	Title     string       `xml:"ServiceIdentification>Title"`
	Abstract  string       `xml:"ServiceIdentification>Abstract"`
	Processes []processXML `xml:"ProcessOfferings>Process"`
}

type processXML struct {
	Version  string `xml:"processVersion,attr"`
	ID       string `xml:"Identifier"`
	Title    string `xml:"Title"`
	Abstract string `xml:"Abstract"`
}

type describeXML struct {
	Processes []struct {
		processXML
		StatusSupported string   `xml:"statusSupported,attr"`
		StoreSupported  string   `xml:"storeSupported,attr"`
		Inputs          []ioXML  `xml:"DataInputs>Input"`
		Outputs         []ioXML  `xml:"ProcessOutputs>Output"`
		Metadata        []string `xml:"Metadata"`
	} `xml:"ProcessDescription"`
}

type ioXML struct {
	MinOccurs string    `xml:"minOccurs,attr"`
	MaxOccurs string    `xml:"maxOccurs,attr"`
	ID        string    `xml:"Identifier"`
	Title     string    `xml:"Title"`
	Abstract  string    `xml:"Abstract"`
	Complex   *formatsX `xml:"ComplexData"`
	ComplexO  *formatsX `xml:"ComplexOutput"`
	Literal   *struct{} `xml:"LiteralData"`
	LiteralO  *struct{} `xml:"LiteralOutput"`
}

type formatsX struct {
	Default   []string `xml:"Default>Format>MimeType"`
	Supported []string `xml:"Supported>Format>MimeType"`
}

type exceptionXML struct {
	Code    string   `xml:"exceptionCode,attr"`
	Locator string   `xml:"locator,attr"`
	Texts   []string `xml:"ExceptionText"`
}

type exceptionReportXML struct {
	Exceptions []exceptionXML `xml:"Exception"`
}

type statusTextXML struct {
	Percent string `xml:"percentCompleted,attr"`
	Text    string `xml:",chardata"`
}

type executeResponseXML struct {
	XMLName        xml.Name
	StatusLocation string `xml:"statusLocation,attr"`
	Process        *struct {
		ID string `xml:"Identifier"`
	} `xml:"Process"`
	Status *struct {
		Created   string         `xml:"creationTime,attr"`
		Accepted  *statusTextXML `xml:"ProcessAccepted"`
		Started   *statusTextXML `xml:"ProcessStarted"`
		Paused    *statusTextXML `xml:"ProcessPaused"`
		Succeeded *statusTextXML `xml:"ProcessSucceeded"`
		Failed    *struct {
			Report exceptionReportXML `xml:"ExceptionReport"`
			Text   string             `xml:",chardata"`
		} `xml:"ProcessFailed"`
	} `xml:"Status"`
	Outputs []struct {
		ID        string `xml:"Identifier"`
		Reference *struct {
			Href      string `xml:"href,attr"`
			MimeType  string `xml:"mimeType,attr"`
			XlinkHref string `xml:"http://www.w3.org/1999/xlink href,attr"`
		} `xml:"Reference"`
		Complex *struct {
			MimeType string `xml:"mimeType,attr"`
			Inner    string `xml:",innerxml"`
		} `xml:"Data>ComplexData"`
		Literal *struct {
			Text string `xml:",chardata"`
		} `xml:"Data>LiteralData"`
	} `xml:"ProcessOutputs>Output"`
}

func decodeXML(body []byte, v any) error {
	dec := xml.NewDecoder(bytes.NewReader(body))
	// Documents declare UTF-8; anything else is refused rather than guessed.
	dec.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return input, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	return dec.Decode(v)
}

// rootName returns the local name of the document element.
func rootName(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.CharsetReader = func(label string, input io.Reader) (io.Reader, error) { return input, nil }
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local
		}
	}
}

// parseExceptionReport reads an ows:ExceptionReport, or returns nil.
func parseExceptionReport(body []byte) *ServerError {
	if rootName(body) != "ExceptionReport" {
		return nil
	}
	var r exceptionReportXML
	if decodeXML(body, &r) != nil {
		return nil
	}
	return exceptionOf(r)
}

func exceptionOf(r exceptionReportXML) *ServerError {
	se := &ServerError{}
	var texts []string
	for i, e := range r.Exceptions {
		if i == 0 {
			se.Code, se.Locator = e.Code, e.Locator
		}
		for _, t := range e.Texts {
			if t = strings.TrimSpace(t); t != "" {
				texts = append(texts, t)
			}
		}
	}
	se.Text = strings.Join(texts, "; ")
	return se
}

// parseStatus reads an ExecuteResponse (or an ExceptionReport, as a
// *ServerError).
func parseStatus(body []byte) (*Status, string, error) {
	if rootName(body) == "ExceptionReport" {
		if se := parseExceptionReport(body); se != nil {
			return nil, "", se
		}
	}
	var r executeResponseXML
	if err := decodeXML(body, &r); err != nil {
		return nil, "", fmt.Errorf("the status document is not valid XML: %w", err)
	}
	if r.XMLName.Local != "ExecuteResponse" {
		return nil, "", fmt.Errorf("expected an ExecuteResponse, got %s", r.XMLName.Local)
	}
	if r.Status == nil {
		return nil, "", fmt.Errorf("the ExecuteResponse has no Status")
	}
	st := &Status{}
	if r.Process != nil {
		st.Identifier = strings.TrimSpace(r.Process.ID)
	}
	if t, err := time.Parse(time.RFC3339, strings.TrimSpace(r.Status.Created)); err == nil {
		st.Created = t
	}
	percent := func(s string) int {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0
		}
		return int(f)
	}
	switch s := r.Status; {
	case s.Failed != nil:
		st.State = Failed
		st.Exception = exceptionOf(s.Failed.Report)
		if st.Exception.Text == "" && st.Exception.Code == "" {
			st.Exception = nil
		}
		st.Message = strings.TrimSpace(s.Failed.Text)
	case s.Succeeded != nil:
		st.State, st.Message, st.Percent = Succeeded, strings.TrimSpace(s.Succeeded.Text), 100
	case s.Paused != nil:
		st.State, st.Message, st.Percent = Paused, strings.TrimSpace(s.Paused.Text), percent(s.Paused.Percent)
	case s.Started != nil:
		st.State, st.Message, st.Percent = Started, strings.TrimSpace(s.Started.Text), percent(s.Started.Percent)
	case s.Accepted != nil:
		st.State, st.Message = Accepted, strings.TrimSpace(s.Accepted.Text)
	default:
		return nil, "", fmt.Errorf("the ExecuteResponse's Status has no known state")
	}
	for _, o := range r.Outputs {
		out := Output{Identifier: strings.TrimSpace(o.ID)}
		switch {
		case o.Complex != nil:
			out.MimeType = o.Complex.MimeType
			out.Data = strings.TrimSpace(innerText(o.Complex.Inner))
		case o.Literal != nil:
			out.Data = strings.TrimSpace(o.Literal.Text)
		case o.Reference != nil:
			out.Reference = o.Reference.Href
			if out.Reference == "" {
				out.Reference = o.Reference.XlinkHref
			}
			out.MimeType = o.Reference.MimeType
		}
		st.Outputs = append(st.Outputs, out)
	}
	return st, strings.TrimSpace(r.StatusLocation), nil
}

// innerText unescapes the text of ComplexData, which is JSON written as
// character data (possibly in CDATA).
func innerText(inner string) string {
	dec := xml.NewDecoder(strings.NewReader("<x>" + inner + "</x>"))
	var s struct {
		Text string `xml:",chardata"`
	}
	if dec.Decode(&s) != nil {
		return inner
	}
	return s.Text
}

// executeXML writes the Execute request: the three JSON inputs as
// ComplexData, and a ResponseForm asking for an asynchronous answer with a
// status location (the Python client sends none, which servers take the
// same way).
func executeXML(identifier string, di DataInputs) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<wps:Execute xmlns:wps="` + nsWPS + `" xmlns:ows="` + nsOWS + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
		` service="WPS" version="1.0.0" xsi:schemaLocation="http://www.opengis.net/wps/1.0.0 http://schemas.opengis.net/wps/1.0.0/wpsExecute_request.xsd">` + "\n")
	b.WriteString("  <ows:Identifier>" + xmlEscape(identifier) + "</ows:Identifier>\n  <wps:DataInputs>\n")
	for _, in := range []struct{ id, value string }{{"variable", di.Variable}, {"domain", di.Domain}, {"operation", di.Operation}} {
		b.WriteString("    <wps:Input>\n      <ows:Identifier>" + in.id + "</ows:Identifier>\n")
		b.WriteString(`      <wps:Data><wps:ComplexData mimeType="application/json">` + xmlEscape(in.value) + "</wps:ComplexData></wps:Data>\n")
		b.WriteString("    </wps:Input>\n")
	}
	b.WriteString("  </wps:DataInputs>\n")
	b.WriteString(`  <wps:ResponseForm><wps:ResponseDocument storeExecuteResponse="true" status="true">` +
		`<wps:Output asReference="false"><ows:Identifier>output</ows:Identifier></wps:Output>` +
		"</wps:ResponseDocument></wps:ResponseForm>\n")
	b.WriteString("</wps:Execute>\n")
	return b.Bytes()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
