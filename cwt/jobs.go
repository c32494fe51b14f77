package cwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Job is a job as the job API (/wps/api/job/) describes it. Fields the
// LLNL server lacked are empty when talking to it.
type Job struct {
	URL            string      `json:"url"`
	ID             int64       `json:"id"`
	Identifier     string      `json:"identifier"`
	Status         State       `json:"status"`
	StatusLinks    []string    `json:"status_links"`
	StatusLocation string      `json:"status_location,omitempty"`
	Percent        int         `json:"percent"`
	Message        string      `json:"message,omitempty"`
	Elapsed        *string     `json:"elapsed"`
	Output         []JobOutput `json:"output"`
	Accepted       string      `json:"accepted"`
	Updated        string      `json:"updated,omitempty"`
	DataInputs     string      `json:"datainputs,omitempty"`
}

// JobOutput is one output file of a job.
type JobOutput struct {
	ID     int64  `json:"id,omitempty"`
	Name   string `json:"name,omitempty"`
	Remote string `json:"remote"`
	Size   any    `json:"size"` // MB, a string or a number depending on the server
	Bytes  int64  `json:"bytes,omitempty"`
	VarID  string `json:"var_id,omitempty"`
}

// FileName is the name to save the output under: the server's name, or
// the last segment of its URL.
func (o JobOutput) FileName() string {
	name := o.Name
	if name == "" {
		if u, err := url.Parse(o.Remote); err == nil {
			name = path.Base(u.Path)
		}
	}
	name = filepath.Base(filepath.Clean("/" + name))
	if name == "/" || name == "." || name == "" {
		return "output.nc"
	}
	return name
}

// JobPage is one page of the job list.
type JobPage struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []Job   `json:"results"`
}

// JobStatus is one status of a job with its messages.
type JobStatus struct {
	ID        int64        `json:"id"`
	Status    State        `json:"status"`
	Message   []JobMessage `json:"message"`
	Exception *string      `json:"exception"`
	Created   string       `json:"created_date"`
	Updated   string       `json:"updated_date,omitempty"`
	Job       int64        `json:"job,omitempty"`
}

// JobMessage is a progress message.
type JobMessage struct {
	Message string  `json:"message"`
	Percent float64 `json:"percent"`
	Created string  `json:"created_date"`
}

// Jobs reads one page of the caller's jobs, newest first. limit 0 means
// the server's page size.
func (c *Client) Jobs(ctx context.Context, limit, offset int) (*JobPage, error) {
	base, err := c.apiBase()
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	u := base + "job/"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return c.jobPage(ctx, u, false)
}

// NextJobs reads the page after p, or returns nil at the end.
func (c *Client) NextJobs(ctx context.Context, p *JobPage) (*JobPage, error) {
	if p == nil || p.Next == nil || *p.Next == "" {
		return nil, nil
	}
	return c.jobPage(ctx, c.fixURL(*p.Next), true)
}

// AllJobs iterates over every job, page after page.
func (c *Client) AllJobs(ctx context.Context) iter.Seq2[Job, error] {
	return func(yield func(Job, error) bool) {
		page, err := c.Jobs(ctx, 0, 0)
		for page != nil || err != nil {
			if err != nil {
				yield(Job{}, err)
				return
			}
			for _, j := range page.Results {
				if !yield(j, nil) {
					return
				}
			}
			page, err = c.NextJobs(ctx, page)
		}
	}
}

func (c *Client) jobPage(ctx context.Context, u string, fromServer bool) (*JobPage, error) {
	var p JobPage
	if err := c.getJSON(ctx, u, &p, fromServer); err != nil {
		return nil, err
	}
	return &p, nil
}

// Job reads one job.
func (c *Client) Job(ctx context.Context, id int64) (*Job, error) {
	u, err := c.jobURL(id)
	if err != nil {
		return nil, err
	}
	var j Job
	if err := c.getJSON(ctx, u, &j, false); err != nil {
		return nil, err
	}
	return &j, nil
}

// JobStatuses reads every status of a job, oldest first.
func (c *Client) JobStatuses(ctx context.Context, j *Job) ([]JobStatus, error) {
	var out []JobStatus
	for _, link := range j.StatusLinks {
		var st JobStatus
		if err := c.getJSON(ctx, c.fixURL(link), &st, true); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// DeleteJob deletes a job with its output files.
func (c *Client) DeleteJob(ctx context.Context, id int64) error {
	u, err := c.jobURL(id)
	if err != nil {
		return err
	}
	resp, body, err := c.fetch(ctx, request{method: http.MethodDelete, url: u, accept: "application/json", auth: authAlways})
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return answerError(http.MethodDelete, u, resp, body)
	}
	return nil
}

// Download copies the output at rawURL to w. Output URLs carry their own
// permission, so no credentials are sent.
func (c *Client) Download(ctx context.Context, rawURL string, w io.Writer) (int64, error) {
	resp, err := c.send(ctx, request{method: http.MethodGet, url: rawURL, auth: authNone})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, answerError(http.MethodGet, rawURL, resp, body)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("downloading %s: %w", rawURL, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("downloading %s: got %d of %d bytes", rawURL, n, resp.ContentLength)
	}
	return n, nil
}

// DownloadFile saves the output at rawURL as path, which appears only once
// complete.
func (c *Client) DownloadFile(ctx context.Context, rawURL, dst string, progress io.Writer) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	var w io.Writer = f
	if progress != nil {
		w = io.MultiWriter(f, progress)
	}
	n, err := c.Download(ctx, rawURL, w)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return n, err
	}
	return n, os.Rename(f.Name(), dst)
}

func (c *Client) jobURL(id int64) (string, error) {
	base, err := c.apiBase()
	if err != nil {
		return "", err
	}
	return base + "job/" + strconv.FormatInt(id, 10) + "/", nil
}

// fixURL accepts the LLNL server's /wpsapi/ links, as the Python client's
// fix_url does.
func (c *Client) fixURL(u string) string {
	return strings.Replace(u, "/wpsapi/", "/wps/api/", 1)
}

func (c *Client) getJSON(ctx context.Context, u string, v any, fromServer bool) error {
	resp, body, err := c.fetch(ctx, request{method: http.MethodGet, url: u, accept: "application/json", auth: authAlways, fromServer: fromServer})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return answerError(http.MethodGet, u, resp, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: the answer is not the expected JSON: %w", u, err)
	}
	return nil
}

// IsNotFound reports whether err is an HTTP 404 answer.
func IsNotFound(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status == http.StatusNotFound
	}
	var se *ServerError
	return errors.As(err, &se) && se.HTTPStatus == http.StatusNotFound
}
