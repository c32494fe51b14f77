package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/computewps/computewps/internal/jobs"
	"github.com/computewps/computewps/internal/worker"
	"github.com/computewps/computewps/internal/wps"
)

// handleStatusDocument serves the statusLocation of a job. The cwt client
// polls it until the job ends and polls forever on anything that is not an
// ExecuteResponse, so even an unknown job is answered with one (failed).
func (s *Server) handleStatusDocument(w http.ResponseWriter, r *http.Request, id int64) error {
	setOperation(r, "Status")
	user, err := s.user(r)
	if err != nil {
		return err
	}
	job, err := s.store.Get(r.Context(), user.ID, id)
	if errors.Is(err, jobs.ErrNotFound) {
		return s.writeXML(w, func(b io.Writer) error {
			return wps.WriteExecuteResponse(b, wps.ExecuteResponse{
				Service:        s.serviceInfo(),
				Process:        wps.ProcessInfo{Identifier: "unknown", Version: "1.0.0"},
				StatusLocation: s.urls.StatusLocation(id),
				Status: wps.Status{State: wps.Failed, Exception: wps.Errorf(wps.InvalidParameterValue, "job",
					"job %d does not exist, or belongs to another user, or was deleted", id)},
			})
		})
	}
	if err != nil {
		return err
	}
	return s.writeStatus(w, job, true)
}

// writeStatus renders a job as an ExecuteResponse.
func (s *Server) writeStatus(w http.ResponseWriter, job jobs.Job, withLocation bool) error {
	resp := wps.ExecuteResponse{
		Service: s.serviceInfo(),
		Process: wps.ProcessInfo{Identifier: job.Identifier, Version: "1.0.0"},
		Status:  wps.Status{State: wps.State(job.State), Percent: job.Percent, Message: job.Message, Created: job.Updated},
		Inputs:  echoInputs(job.DataInputs),
	}
	if p, ok := s.cat.Lookup(job.Identifier); ok {
		resp.Process = processInfo(p)
	}
	if withLocation {
		resp.StatusLocation = s.urls.StatusLocation(job.ID)
	}
	switch job.State {
	case jobs.Failed:
		resp.Status.Exception = wps.Errorf(wps.NoApplicableCode, "", "%s", job.Message)
	case jobs.Succeeded:
		data, err := s.outputJSON(job.Outputs)
		if err != nil {
			return err
		}
		resp.Outputs = []wps.Output{{Identifier: "output", Title: "output", MimeType: "application/json", Data: data}}
	}
	return s.writeXML(w, func(b io.Writer) error { return wps.WriteExecuteResponse(b, resp) })
}

// OutputVariable is the cwt Variable JSON of one result.
type OutputVariable struct {
	URI      string `json:"uri"`
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
}

// outputJSON is one Variable object for a single output (cwt turns it into
// a cwt.Variable) or a list of them for several.
func (s *Server) outputJSON(outs []jobs.Output) (string, error) {
	vars := make([]OutputVariable, len(outs))
	for i, o := range outs {
		vars[i] = OutputVariable{URI: s.urls.Output(o), ID: o.VarID, MimeType: o.MimeType}
	}
	var v any = vars
	if len(vars) == 1 {
		v = vars[0]
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// echoInputs turns the stored data inputs back into the three WPS inputs.
func echoInputs(stored string) []wps.Input {
	var in worker.DataInputs
	if err := json.Unmarshal([]byte(stored), &in); err != nil {
		return nil
	}
	mk := func(id string, raw json.RawMessage) wps.Input {
		if len(raw) == 0 {
			raw = json.RawMessage("[]")
		}
		return wps.Input{Identifier: id, Value: string(raw), MimeType: "application/json"}
	}
	return []wps.Input{mk("variable", in.Variable), mk("domain", in.Domain), mk("operation", in.Operation)}
}

// urls builds every absolute URL from WPS_BASE_URL.
type urls struct {
	base string
	dap  bool // outputs are named by their OPeNDAP URL
}

func (u urls) WPS() string            { return u.base + "/wps" }
func (u urls) Job(id int64) string    { return fmt.Sprintf("%s/wps/api/job/%d/", u.base, id) }
func (u urls) JobList() string        { return u.base + "/wps/api/job/" }
func (u urls) Status(id int64) string { return fmt.Sprintf("%s/wps/api/status/%d/", u.base, id) }
func (u urls) StatusLocation(id int64) string {
	return fmt.Sprintf("%s/wps/api/job/%d.wps", u.base, id)
}

// Output is the URL an output is known by: its OPeNDAP dataset URL (which
// also downloads the file) or the plain download URL.
func (u urls) Output(o jobs.Output) string {
	if u.dap {
		return u.DAP(o)
	}
	return u.Download(o)
}

// Provenance is the URL of a job's PROV-JSON document.
func (u urls) Provenance(id int64) string {
	return fmt.Sprintf("%s/wps/api/job/%d/provenance", u.base, id)
}

// DAP is the OPeNDAP dataset URL of an output.
func (u urls) DAP(o jobs.Output) string { return u.base + "/wps/dap/" + o.Token + "/" + o.Name }

// Download is the plain download URL of an output.
func (u urls) Download(o jobs.Output) string {
	return u.base + "/wps/outputs/" + o.Token + "/" + o.Name
}

// prefix is the path the service is mounted under, from WPS_BASE_URL.
func (u urls) prefix() string {
	if p, err := url.Parse(u.base); err == nil {
		return strings.TrimRight(p.Path, "/")
	}
	return ""
}
