package wps

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exception codes (OWS 1.1 / WPS 1.0.0).
const (
	MissingParameterValue    = "MissingParameterValue"
	InvalidParameterValue    = "InvalidParameterValue"
	NoApplicableCode         = "NoApplicableCode"
	OperationNotSupported    = "OperationNotSupported"
	VersionNegotiationFailed = "VersionNegotiationFailed"
	NotEnoughStorage         = "NotEnoughStorage"
	ServerBusy               = "ServerBusy"
	FileSizeExceeded         = "FileSizeExceeded"
)

// Exception is every error the WPS endpoint reports. Text is shown to the
// user; Cause is for logs only and never reaches a document.
type Exception struct {
	Code    string // one of the exception codes above
	Locator string // the parameter or input at fault; may be empty
	Text    string // user-safe message
	Cause   error  // internal detail, for logs
}

// Error describes the exception for logs, including the cause. Documents use
// Text, never Error.
func (e *Exception) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Locator != "" {
		fmt.Fprintf(&b, " (%s)", e.Locator)
	}
	b.WriteString(": ")
	b.WriteString(e.Text)
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the internal cause.
func (e *Exception) Unwrap() error { return e.Cause }

// WithCause returns a copy of e that records err as its internal cause.
func (e *Exception) WithCause(err error) *Exception {
	c := *e
	c.Cause = err
	return &c
}

// Errorf builds an Exception whose user text is the formatted message.
// Only put in the message what the user may see.
func Errorf(code, locator, format string, args ...any) *Exception {
	return &Exception{Code: code, Locator: locator, Text: fmt.Sprintf(format, args...)}
}

// AsException finds the Exception in err's chain. Any other error becomes a
// NoApplicableCode "internal error" that keeps err only as its Cause, so
// internal details (paths, SQL, stack) never reach the user. nil gives nil.
func AsException(err error) *Exception {
	if err == nil {
		return nil
	}
	var e *Exception
	if errors.As(err, &e) && e != nil {
		return e
	}
	return &Exception{Code: NoApplicableCode, Text: "internal error", Cause: err}
}

// exceptionView is an Exception made safe for a document.
type exceptionView struct {
	Code, Locator, Text string
}

// exceptionViews fills in defaults and removes braces from the text: the cwt
// client passes the message through Python's str.format, where "{" or "}"
// crash it (KeyError/IndexError) instead of showing the error.
func exceptionViews(exs []*Exception) ([]exceptionView, error) {
	if len(exs) == 0 {
		return nil, errors.New("wps: an ExceptionReport needs at least one exception")
	}
	views := make([]exceptionView, 0, len(exs))
	for _, e := range exs {
		if e == nil {
			return nil, errors.New("wps: nil exception")
		}
		code := e.Code
		if code == "" {
			code = NoApplicableCode
		}
		views = append(views, exceptionView{Code: code, Locator: e.Locator, Text: noBraces(e.Text)})
	}
	return views, nil
}

var braceReplacer = strings.NewReplacer("{", "(", "}", ")")

func noBraces(s string) string { return braceReplacer.Replace(s) }

// WriteExceptionReport writes an ows:ExceptionReport with one ows:Exception
// per exception. Serve it with ContentType.
func WriteExceptionReport(w io.Writer, exs ...*Exception) error {
	views, err := exceptionViews(exs)
	if err != nil {
		return err
	}
	data := struct {
		Lang       string
		Exceptions []exceptionView
	}{defaultLanguage, views}
	return render(w, "exception_report.xml", data)
}
