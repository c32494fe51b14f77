package cwt

import (
	"errors"
	"fmt"
	"strings"
)

// ServerError is an OWS ExceptionReport: the server refused a request.
type ServerError struct {
	HTTPStatus int
	Code       string // exceptionCode, e.g. InvalidParameterValue
	Locator    string
	Text       string
}

func (e *ServerError) Error() string {
	var b strings.Builder
	b.WriteString("the server refused the request")
	if e.Code != "" {
		b.WriteString(" (" + e.Code)
		if e.Locator != "" {
			b.WriteString(", " + e.Locator)
		}
		b.WriteString(")")
	}
	if e.Text != "" {
		b.WriteString(": " + e.Text)
	}
	return b.String()
}

// HTTPError is an unexpected HTTP answer: the job API's JSON problem, or
// anything that is not the document asked for.
type HTTPError struct {
	Method, URL string
	Status      int
	Detail      string // the problem's detail, or the start of the body
}

func (e *HTTPError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%s (HTTP %d from %s %s)", e.Detail, e.Status, e.Method, e.URL)
	}
	return fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.Status)
}

// AuthError is a refused or impossible authentication: the server answered
// 401 or 403, the identity provider refused a grant, or a login is needed.
type AuthError struct {
	Status int    // the server's or provider's HTTP status, 0 if none
	Text   string // what was refused and why
	Hint   string // what to do next
	Err    error
}

func (e *AuthError) Error() string {
	msg := e.Text
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

func (e *AuthError) Unwrap() error { return e.Err }

// ErrLoginRequired is returned (inside an *AuthError) when a token can only
// be had by an interactive login, and none is allowed.
var ErrLoginRequired = errors.New("a login is required")

// JobFailedError is a job that ended in ProcessFailed.
type JobFailedError struct {
	JobID  string // empty when the server gave no job id
	Status *Status
}

func (e *JobFailedError) Error() string {
	text := e.Status.Message
	if ex := e.Status.Exception; ex != nil && ex.Text != "" {
		text = ex.Text
	}
	job := "the job"
	if e.JobID != "" {
		job = "job " + e.JobID
	}
	if text == "" {
		return job + " failed"
	}
	return job + " failed: " + text
}
