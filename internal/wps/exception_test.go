package wps

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExceptionErrorAndUnwrap(t *testing.T) {
	cause := errors.New("open /data/secret.nc: permission denied")
	e := Errorf(InvalidParameterValue, "variable", "cannot open %s", "tas").WithCause(cause)
	if !errors.Is(e, cause) {
		t.Error("Unwrap does not reach the cause")
	}
	if got := e.Error(); got != "InvalidParameterValue (variable): cannot open tas: open /data/secret.nc: permission denied" {
		t.Errorf("Error() = %q", got)
	}
	if e.Text != "cannot open tas" {
		t.Errorf("Text = %q; the cause must stay out of it", e.Text)
	}
}

func TestAsException(t *testing.T) {
	if AsException(nil) != nil {
		t.Error("AsException(nil) != nil")
	}
	orig := Errorf(MissingParameterValue, "identifier", "the parameter identifier is required")
	if got := AsException(fmt.Errorf("handler: %w", orig)); got != orig {
		t.Errorf("wrapped Exception not found: %v", got)
	}
	internal := errors.New("pq: password authentication failed for user wps")
	got := AsException(internal)
	if got.Code != NoApplicableCode || got.Text != "internal error" || got.Cause != internal {
		t.Errorf("AsException(internal) = %+v", got)
	}
	var buf bytes.Buffer
	if err := WriteExceptionReport(&buf, got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "password") {
		t.Error("the internal cause leaked into the document")
	}
}

func TestWriteExceptionReport(t *testing.T) {
	for _, tc := range []struct {
		golden string
		exs    []*Exception
	}{
		{"exception_locator.xml", []*Exception{Errorf(MissingParameterValue, "identifier", "the parameter identifier is required")}},
		{"exception_no_locator.xml", []*Exception{Errorf(NoApplicableCode, "", "XML document type declarations (DTD) are not accepted")}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteExceptionReport(&buf, tc.exs...); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.golden, buf.Bytes())

			root := parseDoc(t, buf.Bytes())
			checkRoot(t, root, owsName("ExceptionReport"),
				"http://www.opengis.net/ows/1.1 http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd", "en-US")
			if v, _ := root.attr("", "version"); v != "1.0.0" {
				t.Errorf("version = %q", v)
			}
			// OWSLib raises ServiceException only for an ows:Exception child.
			ex := root.path(t, owsName("Exception"))
			want := tc.exs[0]
			if v, _ := ex.attr("", "exceptionCode"); v != want.Code {
				t.Errorf("exceptionCode = %q", v)
			}
			loc, ok := ex.attr("", "locator")
			if loc != want.Locator || ok != (want.Locator != "") {
				t.Errorf("locator = %q (present %v), want %q", loc, ok, want.Locator)
			}
			if got := ex.path(t, owsName("ExceptionText")).text(); got != want.Text {
				t.Errorf("ExceptionText = %q", got)
			}
		})
	}
}

func TestWriteExceptionReportSafeText(t *testing.T) {
	e := &Exception{Code: InvalidParameterValue, Locator: `a"<b>`, Text: "value {0} of <%s> & 'x' \x07\x00bad\xfe"}
	var buf bytes.Buffer
	if err := WriteExceptionReport(&buf, e, Errorf("", "", "second")); err != nil {
		t.Fatal(err)
	}
	root := parseDoc(t, buf.Bytes())
	exs := root.all(owsName("Exception"))
	if len(exs) != 2 {
		t.Fatalf("%d exceptions, want 2", len(exs))
	}
	// Braces would crash the cwt client's str.format; control characters
	// would make the document ill-formed.
	if got := exs[0].path(t, owsName("ExceptionText")).text(); got != "value (0) of <%s> & 'x' bad\uFFFD" {
		t.Errorf("ExceptionText = %q", got)
	}
	if v, _ := exs[0].attr("", "locator"); v != `a"<b>` {
		t.Errorf("locator = %q", v)
	}
	if v, _ := exs[1].attr("", "exceptionCode"); v != NoApplicableCode {
		t.Errorf("empty code written as %q, want NoApplicableCode", v)
	}
}

func TestWriteExceptionReportNeedsAnException(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteExceptionReport(&buf); err == nil {
		t.Error("no error without exceptions")
	}
	if err := WriteExceptionReport(&buf, nil); err == nil {
		t.Error("no error for a nil exception")
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes on error", buf.Len())
	}
}
