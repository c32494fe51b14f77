package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/jobs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type testURLs struct{}

func (testURLs) Job(id int64) string    { return fmt.Sprintf("http://wps.test/wps/api/job/%d/", id) }
func (testURLs) Status(id int64) string { return fmt.Sprintf("http://wps.test/wps/api/status/%d/", id) }
func (testURLs) StatusLocation(id int64) string {
	return fmt.Sprintf("http://wps.test/wps/api/job/%d.wps", id)
}
func (testURLs) Output(o jobs.Output) string {
	return "http://wps.test/wps/dap/" + o.Token + "/" + o.Name
}
func (testURLs) DAP(o jobs.Output) string { return "http://wps.test/wps/dap/" + o.Token + "/" + o.Name }
func (testURLs) Download(o jobs.Output) string {
	return "http://wps.test/wps/outputs/" + o.Token + "/" + o.Name
}
func (testURLs) Provenance(id int64) string {
	return fmt.Sprintf("http://wps.test/wps/api/job/%d/provenance", id)
}
func (testURLs) JobList() string { return "http://wps.test/wps/api/job/" }

func golden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the golden file:\n%s\nwant:\n%s", name, buf.Bytes(), want)
	}
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC)

func TestJobDocument(t *testing.T) {
	h := &Handler{URLs: testURLs{}}
	fin := t0.Add(90*time.Second + 250*time.Millisecond)
	j := jobs.Job{
		ID: 17, UserID: 3, Identifier: "CDAT.subset", State: jobs.Succeeded, Percent: 100, Message: "1 output(s)",
		DataInputs: `{"variable":[{"uri":"file:///data/tas.nc","id":"tas|v0"}],"domain":[],"operation":[{"name":"CDAT.subset","result":"s0","input":["v0"]}]}`,
		Created:    t0, Updated: fin, Started: &t0, Finished: &fin,
		Outputs:   []jobs.Output{{ID: 5, JobID: 17, Name: "CDAT.subset_s0_1a2b3c4d.nc", Size: 1234567, VarID: "tas|s0", MimeType: "application/netcdf", Token: "tok"}},
		StatusIDs: []int64{40, 41, 42},
	}
	golden(t, "job.json", h.JobJSON(j))
	running := jobs.Job{ID: 18, Identifier: "CDAT.aggregate", State: jobs.Started, Percent: 45, Message: "Processing", DataInputs: "{}", Created: t0, Updated: t0.Add(26*time.Hour + time.Second)}
	golden(t, "job_running.json", h.JobJSON(running))
}

func TestStatusDocument(t *testing.T) {
	st := jobs.StatusRecord{ID: 42, JobID: 17, State: jobs.Failed, Created: t0, Updated: t0.Add(time.Second),
		Messages: []jobs.Message{{ID: 9, Text: `input "file:///x.nc": no such file`, Percent: 0, Created: t0.Add(time.Second)}}}
	golden(t, "status_failed.json", StatusJSON(st))
	st = jobs.StatusRecord{ID: 41, JobID: 17, State: jobs.Started, Created: t0, Updated: t0,
		Messages: []jobs.Message{{ID: 7, Text: "Subset 'lat' 36 -> 6", Created: t0}, {ID: 8, Text: "Processing", Percent: 50, Created: t0}}}
	golden(t, "status_started.json", StatusJSON(st))
}

func TestErrorDocument(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, Errorf(404, "job %d was not found", 7))
	if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var p map[string]string
	json.Unmarshal(rec.Body.Bytes(), &p)
	golden(t, "error.json", p)
	// Anything that is not a Problem is an internal error whose text stays in the logs.
	rec = httptest.NewRecorder()
	WriteError(rec, fmt.Errorf("sql: database is locked at /var/lib/x.db"))
	if rec.Code != 500 || bytes.Contains(rec.Body.Bytes(), []byte("/var/lib")) {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

func TestElapsed(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "00:00:00", 1500 * time.Millisecond: "00:00:01.500000", 26*time.Hour + 61*time.Second: "1 02:01:01", -time.Second: "00:00:00",
	} {
		if got := elapsed(d); got != want {
			t.Errorf("elapsed(%v) = %q, want %q", d, got, want)
		}
	}
}
