// Package api is the JSON job API under /wps/api/ that the LLNL client's
// jobs() and notebook views read: job list and detail, statuses, delete.
// Every request is scoped to the caller's own jobs.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/computewps/computewps/internal/jobs"
)

// URLs builds the absolute links the API emits.
type URLs interface {
	Job(id int64) string
	Status(id int64) string
	StatusLocation(id int64) string
	Output(o jobs.Output) string   // the URL outputs are known by (remote)
	Download(o jobs.Output) string // the plain download URL
	DAP(o jobs.Output) string      // the OPeNDAP dataset URL
	Provenance(id int64) string    // the job's PROV-JSON document
	JobList() string
}

// Handler serves the job API.
type Handler struct {
	Store    *jobs.Store
	URLs     URLs
	DataPath string
	PageSize int
	Log      *slog.Logger
}

// Problem is the JSON error body: type, title and detail, plus DRF's
// "detail" key that existing clients print.
type Problem struct {
	Status int    `json:"-"`
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

func (p *Problem) Error() string { return p.Detail }

// Errorf makes a Problem with the standard title for status.
func Errorf(status int, format string, args ...any) *Problem {
	return &Problem{Status: status, Type: "about:blank", Title: http.StatusText(status), Detail: fmt.Sprintf(format, args...)}
}

// WriteError renders any error as a JSON problem; unknown errors become 500
// without their text.
func WriteError(w http.ResponseWriter, err error) {
	var p *Problem
	if !errors.As(err, &p) {
		p = Errorf(http.StatusInternalServerError, "internal error")
	}
	writeJSON(w, p.Status, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// Job is the JSON form of a job, field for field what the reference served,
// plus a few additions (status_location, percent, message, updated).
type Job struct {
	URL            string   `json:"url"`
	ID             int64    `json:"id"`
	Identifier     string   `json:"identifier"`
	Status         string   `json:"status"`
	StatusLinks    []string `json:"status_links"`
	StatusLocation string   `json:"status_location"`
	Percent        int      `json:"percent"`
	Message        string   `json:"message"`
	Elapsed        *string  `json:"elapsed"`
	Output         []Output `json:"output"`
	Provenance     string   `json:"provenance,omitempty"`
	Accepted       string   `json:"accepted"`
	Attempt        int      `json:"attempt"`
	Dismissed      *string  `json:"dismissed"`
	Expires        *string  `json:"expires"`
	Updated        string   `json:"updated"`
	DataInputs     string   `json:"datainputs"`
}

// Output is one output file of a job; size is in MB as a decimal string
// with four places, as the reference had it, plus the exact bytes.
type Output struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Remote   string `json:"remote"`
	Download string `json:"download"`
	OpenDAP  string `json:"opendap"`
	Size     string `json:"size"`
	Bytes    int64  `json:"bytes"`
	VarID    string `json:"var_id"`
}

// Status is the JSON form of one status of a job.
type Status struct {
	ID        int64     `json:"id"`
	Status    string    `json:"status"`
	Message   []Message `json:"message"`
	Exception *string   `json:"exception"`
	Created   string    `json:"created_date"`
	Updated   string    `json:"updated_date"`
	Job       int64     `json:"job"`
}

// Message is a progress message.
type Message struct {
	ID      int64   `json:"id"`
	Message string  `json:"message"`
	Percent float64 `json:"percent"`
	Created string  `json:"created_date"`
}

// Page is a DRF-style page of jobs.
type Page struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []Job   `json:"results"`
}

// Timestamp formats times the way the reference did: ISO 8601 with
// microseconds (in UTC here).
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") }

// JobJSON converts a stored job.
func (h *Handler) JobJSON(j jobs.Job) Job {
	out := Job{
		URL: h.URLs.Job(j.ID), ID: j.ID, Identifier: j.Identifier, Status: string(j.State),
		StatusLinks:    []string{},
		StatusLocation: h.URLs.StatusLocation(j.ID),
		Percent:        j.Percent, Message: j.Message,
		Output:     []Output{},
		Accepted:   Timestamp(j.Created),
		Updated:    Timestamp(j.Updated),
		DataInputs: j.DataInputs,
	}
	for _, id := range j.StatusIDs {
		out.StatusLinks = append(out.StatusLinks, h.URLs.Status(id))
	}
	if j.State == jobs.Succeeded {
		out.Provenance = h.URLs.Provenance(j.ID)
	}
	out.Attempt = j.Attempt
	if j.Dismissed != nil {
		t := Timestamp(*j.Dismissed)
		out.Dismissed = &t
	}
	if j.Expires != nil {
		t := Timestamp(*j.Expires)
		out.Expires = &t
	}
	e := elapsed(j.Updated.Sub(j.Created))
	out.Elapsed = &e
	for _, o := range j.Outputs {
		out.Output = append(out.Output, Output{
			ID: o.ID, Name: o.Name, Remote: h.URLs.Output(o), Download: h.URLs.Download(o), OpenDAP: h.URLs.DAP(o), VarID: o.VarID,
			Size: strconv.FormatFloat(float64(o.Size)/1e6, 'f', 4, 64), Bytes: o.Size,
		})
	}
	return out
}

// elapsed formats a duration like DRF: [DD ]HH:MM:SS[.ffffff].
func elapsed(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h, m := d/time.Hour, (d%time.Hour)/time.Minute
	s := d % time.Minute
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s/time.Second)
	if us := (s % time.Second) / time.Microsecond; us > 0 {
		out += fmt.Sprintf(".%06d", us)
	}
	if days > 0 {
		out = fmt.Sprintf("%d %s", days, out)
	}
	return out
}

// List serves GET /wps/api/job/?limit=&offset=.
func (h *Handler) List(w http.ResponseWriter, r *http.Request, user jobs.User) error {
	q := r.URL.Query()
	limit, offset := h.PageSize, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Errorf(http.StatusBadRequest, "limit must be a positive integer, got %q", v)
		}
		limit = min(n, 1000)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Errorf(http.StatusBadRequest, "offset must be a non-negative integer, got %q", v)
		}
		offset = n
	}
	list, total, err := h.Store.List(r.Context(), user.ID, limit, offset)
	if err != nil {
		return err
	}
	page := Page{Count: total, Results: []Job{}}
	for _, j := range list {
		page.Results = append(page.Results, h.JobJSON(j))
	}
	link := func(off int) *string {
		v := url.Values{}
		v.Set("limit", strconv.Itoa(limit))
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		s := h.URLs.JobList() + "?" + v.Encode()
		return &s
	}
	if offset+limit < total {
		page.Next = link(offset + limit)
	}
	if offset > 0 {
		page.Previous = link(max(0, offset-limit))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// Get serves GET /wps/api/job/{id}/ as JSON.
func (h *Handler) Get(w http.ResponseWriter, r *http.Request, user jobs.User, id int64) error {
	j, err := h.Store.Get(r.Context(), user.ID, id)
	if err != nil {
		return notFound(err, "job %d", id)
	}
	writeJSON(w, http.StatusOK, h.JobJSON(j))
	return nil
}

// Delete serves DELETE /wps/api/job/{id}/: the job is dismissed (a running
// attempt stops within seconds, wherever it runs) and its files removed.
// The record stays, marked dismissed, until it expires.
func (h *Handler) Delete(w http.ResponseWriter, r *http.Request, user jobs.User, id int64) error {
	d, err := h.Store.Cancel(r.Context(), user.ID, id)
	if err != nil {
		return notFound(err, "job %d", id)
	}
	if err := jobs.RemoveFiles(h.DataPath, d.Dir, d.Outputs); err != nil {
		h.Log.Warn("removing the files of a dismissed job", "job", id, "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Status serves GET /wps/api/status/{id}/.
func (h *Handler) Status(w http.ResponseWriter, r *http.Request, user jobs.User, id int64) error {
	st, err := h.Store.Status(r.Context(), user.ID, id)
	if err != nil {
		return notFound(err, "status %d", id)
	}
	writeJSON(w, http.StatusOK, StatusJSON(st))
	return nil
}

// StatusJSON converts a stored status.
func StatusJSON(st jobs.StatusRecord) Status {
	out := Status{ID: st.ID, Status: string(st.State), Message: []Message{}, Created: Timestamp(st.Created), Updated: Timestamp(st.Updated), Job: st.JobID}
	for _, m := range st.Messages {
		out.Message = append(out.Message, Message{ID: m.ID, Message: m.Text, Percent: float64(m.Percent), Created: Timestamp(m.Created)})
	}
	if st.State == jobs.Failed && len(st.Messages) > 0 {
		e := st.Messages[len(st.Messages)-1].Text
		out.Exception = &e
	}
	return out
}

func notFound(err error, format string, args ...any) error {
	if errors.Is(err, jobs.ErrNotFound) {
		return Errorf(http.StatusNotFound, "%s was not found", fmt.Sprintf(format, args...))
	}
	return err
}
