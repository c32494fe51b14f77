package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/computewps/computewps/internal/auth"
	"github.com/computewps/computewps/internal/jobs"
	"github.com/computewps/computewps/internal/processes"
	"github.com/computewps/computewps/internal/workflow"
	"github.com/computewps/computewps/internal/wps"
)

// handleWPS is the OGC WPS 1.0.0 endpoint: GET with KVP, POST with XML.
func (s *Server) handleWPS(w http.ResponseWriter, r *http.Request) error {
	var req *wps.Request
	var body []byte
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		// The cwt client sends a GET with no query (and its XML body) before
		// every POST, only to pick up a CSRF cookie; it ignores the answer.
		var err error
		if req, err = wps.ParseKVP(r.URL.RawQuery); err != nil {
			return err
		}
	case http.MethodPost:
		var err error
		body, err = io.ReadAll(r.Body)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return &wps.Exception{Code: wps.FileSizeExceeded, Locator: "request",
					Text: fmt.Sprintf("the request body is larger than the limit of %d bytes", tooBig.Limit)}
			}
			return wps.Errorf(wps.NoApplicableCode, "request", "the request body could not be read")
		}
		if req, err = wps.ParseXML(body); err != nil {
			return err
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		return withStatus(http.StatusMethodNotAllowed, wps.Errorf(wps.OperationNotSupported, "method", "HTTP method %s is not supported; use GET or POST", r.Method))
	}
	setOperation(r, req.Operation)
	switch req.Operation {
	case "GetCapabilities":
		return s.writeXML(w, func(b io.Writer) error { return wps.WriteCapabilities(b, s.serviceInfo(), s.processInfos()) })
	case "DescribeProcess":
		procs, err := s.describe(req.Identifiers)
		if err != nil {
			return err
		}
		return s.writeXML(w, func(b io.Writer) error { return wps.WriteProcessDescriptions(b, s.serviceInfo(), procs) })
	case "Execute":
		return s.execute(w, r, req.Execute, body)
	}
	return wps.Errorf(wps.OperationNotSupported, "request", "operation %q is not supported", req.Operation)
}

func (s *Server) describe(ids []string) ([]wps.ProcessInfo, error) {
	if len(ids) == 1 && strings.EqualFold(ids[0], "all") {
		return s.processInfos(), nil
	}
	var out []wps.ProcessInfo
	for _, id := range ids {
		p, ok := s.cat.Lookup(id)
		if !ok {
			return nil, wps.Errorf(wps.InvalidParameterValue, "identifier", "unknown process %q; known processes: %s", id, strings.Join(s.cat.Identifiers(), ", "))
		}
		out = append(out, processInfo(p))
	}
	return out, nil
}

func processInfo(p *processes.Process) wps.ProcessInfo {
	return wps.ProcessInfo{Identifier: p.Identifier, Title: p.Title, Abstract: p.FullAbstract(), Version: processes.Version}
}

func (s *Server) processInfos() []wps.ProcessInfo {
	var out []wps.ProcessInfo
	for _, p := range s.cat.All() {
		out = append(out, processInfo(p))
	}
	return out
}

func (s *Server) serviceInfo() wps.ServiceInfo {
	c := s.cfg.Service
	return wps.ServiceInfo{
		URL: s.urls.WPS(), Title: c.Title, Abstract: c.Abstract, Keywords: c.Keywords,
		ProviderName: c.ProviderName, ProviderSite: c.ProviderSite,
		ContactName: c.ContactName, AddressEmail: c.ContactEmail,
	}
}

// writeXML renders a document into memory first, so a rendering error
// becomes an ExceptionReport instead of half a document.
func (s *Server) writeXML(w http.ResponseWriter, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", wps.ContentType)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// writeWPSError answers with an ExceptionReport, Content-Type exactly
// text/xml and HTTP 200 (what OWSLib turns into a clean error), except for
// authentication failures and bodies over the limit.
func (s *Server) writeWPSError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusOK
	var ae *auth.Error
	if errors.As(err, &ae) {
		status = ae.Status
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="compute-wps"`)
		}
		err = wps.Errorf(wps.NoApplicableCode, "Authorization", "%s", ae.Text)
	}
	var hs *statusError
	if errors.As(err, &hs) {
		status = hs.status
	}
	var le *jobs.LimitError
	if errors.As(err, &le) {
		status, err = http.StatusTooManyRequests, wps.Errorf(wps.ServerBusy, "", "%s", le.Text)
	}
	ex := wps.AsException(err)
	if ex.Code == wps.FileSizeExceeded {
		status = http.StatusRequestEntityTooLarge
	}
	if ex.Cause != nil || ex.Text == "internal error" {
		s.logFrom(r).Error("WPS request failed", "err", err)
	} else {
		s.logFrom(r).Info("WPS request refused", "code", ex.Code, "locator", ex.Locator, "text", ex.Text)
	}
	var buf bytes.Buffer
	if werr := wps.WriteExceptionReport(&buf, ex); werr != nil {
		s.logFrom(r).Error("writing exception report", "err", werr)
	}
	w.Header().Set("Content-Type", wps.ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// execute validates the request, records and queues the job, and answers
// with its status (after waiting for it, for status=false).
func (s *Server) execute(w http.ResponseWriter, r *http.Request, req *wps.ExecuteRequest, body []byte) error {
	id, err := s.authn.Authenticate(r)
	if err != nil {
		return err
	}
	if az, ok := s.authn.(auth.ProcessAuthorizer); ok {
		if err := az.AllowProcess(r.Context(), id, req.Identifier); err != nil {
			return err
		}
	}
	user, err := s.store.User(r.Context(), id.User)
	if err != nil {
		return err
	}
	variable, domain, operation := req.DataInputs()
	wf, err := workflow.Parse(req.Identifier, variable, domain, operation, s.cat)
	if err != nil {
		var we *workflow.Error
		if errors.As(err, &we) {
			return wps.Errorf(wps.InvalidParameterValue, we.Input, "%s", we.Text)
		}
		return err
	}
	for _, v := range wf.Variables {
		if _, err := s.access.Resolve(v.URI); err != nil {
			var ae *processes.AccessError
			if errors.As(err, &ae) {
				return wps.Errorf(wps.InvalidParameterValue, "variable", "%s", ae.Error())
			}
			return err
		}
	}
	inputs, err := json.Marshal(map[string]json.RawMessage{
		"variable": compact(variable), "domain": compact(domain), "operation": compact(operation),
	})
	if err != nil {
		return err
	}
	document := string(body)
	if document == "" {
		document = s.urls.WPS() + "?" + r.URL.RawQuery
	}
	job, err := s.store.Submit(r.Context(), jobs.Submission{UserID: user.ID, Identifier: req.Identifier, DataInputs: string(inputs), Request: document})
	if err != nil {
		return err
	}
	s.logFrom(r).Info("job submitted", "job", job.ID, "user", user.Name, "process", req.Identifier)
	if !req.Async() {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.SyncTimeout)
		done, err := s.store.Wait(ctx, user.ID, job.ID, 100*time.Millisecond)
		cancel()
		if err == nil {
			job = done
		} else if r.Context().Err() != nil {
			return r.Context().Err()
		}
		if job.State.Done() && !req.ResponseForm.StoreExecuteResponse {
			return s.writeStatus(w, job, false)
		}
	}
	return s.writeStatus(w, job, true)
}

func compact(js string) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(js)); err != nil {
		return json.RawMessage("[]")
	}
	return buf.Bytes()
}

// statusError gives an error the HTTP status its answer should carry.
type statusError struct {
	status int
	err    error
}

func withStatus(status int, err error) error { return &statusError{status, err} }
func (e *statusError) Error() string         { return e.err.Error() }
func (e *statusError) Unwrap() error         { return e.err }
