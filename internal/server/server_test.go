package server

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/auth"
	"github.com/computewps/computewps/internal/config"
	"github.com/computewps/computewps/internal/dap/daptest"
	"github.com/computewps/computewps/internal/jobs"
	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/processes"
	"github.com/computewps/computewps/internal/sample"
	"github.com/computewps/computewps/internal/worker"
)

// headerUser is a test authenticator: the caller names itself in
// X-Test-User, so tests can act as two different users.
type headerUser struct{}

func (headerUser) Authenticate(r *http.Request) (auth.Identity, error) {
	if u := r.Header.Get("X-Test-User"); u != "" {
		return auth.Identity{User: u}, nil
	}
	return auth.Identity{User: "anonymous"}, nil
}

type env struct {
	t       *testing.T
	url     string
	data    string // DATA_PATH
	samples string // the allowed data root
	store   *jobs.Store
	logs    *syncBuffer
}

var (
	sampleOnce sync.Once
	sampleDir  string
	sampleErr  error
)

func TestMain(m *testing.M) {
	code := daptest.Run(m)
	if sampleDir != "" {
		os.RemoveAll(sampleDir)
	}
	os.Exit(code)
}

func samples(t *testing.T) string {
	sampleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "server-sample-")
		if err == nil {
			_, err = sample.Ensure(dir)
		}
		sampleDir, sampleErr = dir, err
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sampleDir
}

// start runs a whole service (HTTP and workers) on a loopback port.
func start(t *testing.T, settings map[string]string) *env {
	t.Helper()
	dataPath := t.TempDir()
	ts := httptest.NewUnstartedServer(nil)
	vars := map[string]string{
		"AUTH_ENABLED":       "false",
		"DATA_PATH":          dataPath,
		"WPS_DATA_ROOTS":     samples(t),
		"WPS_BASE_URL":       "http://" + ts.Listener.Addr().String(),
		"WPS_WORKERS":        "2",
		"WPS_MAX_BODY_BYTES": "65536",
		"WPS_SYNC_TIMEOUT":   "20s",
	}
	for k, v := range settings {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := jobs.Open(ctx, "", dataPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	store.SetLimits(jobs.Limits{MaxRunning: cfg.UserMaxRunning, MaxQueued: cfg.UserMaxQueued, MaxStorage: cfg.UserMaxStorage, Retention: cfg.JobRetention})
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cat := processes.Default()
	access := NewAccess(cfg, store)
	w := &worker.Worker{Store: store, Catalogue: cat, Access: access, DataPath: dataPath, SlabBytes: cfg.SlabBytes, MaxReadBytes: cfg.MaxReadBytes, Server: cfg.BaseURL + "/wps", Version: "test", Log: log}
	runner, err := store.NewRunner(jobs.RunnerConfig{Workers: cfg.Workers, PollInterval: 50 * time.Millisecond, Logger: log}, w.Run)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workers > 0 {
		if err := runner.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// With authentication on, the real authenticator; off, a test one that
	// takes the user from a header so tests can act as several users.
	opts := Options{Config: cfg, Store: store, Catalogue: cat, Access: access, Authenticator: headerUser{}, Logger: log, Version: "test"}
	if cfg.AuthEnabled {
		ap, err := NewAuth(cfg, store, nil)
		if err != nil {
			t.Fatal(err)
		}
		opts.Authenticator, opts.Login, opts.Registrar = ap.Authenticator, ap.Login, ap.Registrar
	}
	srv := New(opts)
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		runner.Stop(stop)
		store.Close()
	})
	return &env{t: t, url: ts.URL, data: dataPath, samples: samples(t), store: store, logs: logs}
}

// syncBuffer collects the server's log for tests that read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (e *env) do(method, path string, body io.Reader, header ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// executeXML is an Execute document shaped like the one OWSLib builds for
// the cwt client: wps100/ows110 prefixes, namespaces repeated, no ResponseForm.
func executeXML(identifier, variable, domain, operation, responseForm string) string {
	esc := func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	input := func(id, js string) string {
		return `<wps100:Input><ows110:Identifier xmlns:ows110="http://www.opengis.net/ows/1.1">` + id +
			`</ows110:Identifier><wps100:Data><wps100:ComplexData mimeType="application/json">` + esc(js) +
			`</wps100:ComplexData></wps100:Data></wps100:Input>`
	}
	return `<wps100:Execute xmlns:wps100="http://www.opengis.net/wps/1.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" service="WPS" version="1.0.0" xsi:schemaLocation="http://www.opengis.net/wps/1.0.0 http://schemas.opengis.net/wps/1.0.0/wpsExecute_request.xsd">` +
		`<ows110:Identifier xmlns:ows110="http://www.opengis.net/ows/1.1">` + identifier + `</ows110:Identifier><wps100:DataInputs>` +
		input("variable", variable) + input("domain", domain) + input("operation", operation) + `</wps100:DataInputs>` + responseForm + `</wps100:Execute>`
}

// doc is a parsed WPS response, enough to follow a job.
type doc struct {
	XMLName        xml.Name
	StatusLocation string `xml:"statusLocation,attr"`
	Status         struct {
		Created  string `xml:"creationTime,attr"`
		Accepted *struct {
			Text string `xml:",chardata"`
		} `xml:"ProcessAccepted"`
		Started *struct {
			Percent string `xml:"percentCompleted,attr"`
		} `xml:"ProcessStarted"`
		Succeeded *struct {
			Text string `xml:",chardata"`
		} `xml:"ProcessSucceeded"`
		Failed *struct {
			Report struct {
				Exception []exception `xml:"Exception"`
			} `xml:"ExceptionReport"`
		} `xml:"ProcessFailed"`
	} `xml:"Status"`
	Outputs []struct {
		Identifier string `xml:"Identifier"`
		Data       struct {
			Complex struct {
				MimeType string `xml:"mimeType,attr"`
				Text     string `xml:",chardata"`
			} `xml:"ComplexData"`
		} `xml:"Data"`
	} `xml:"ProcessOutputs>Output"`
	Exceptions []exception `xml:"Exception"`
}

type exception struct {
	Code    string `xml:"exceptionCode,attr"`
	Locator string `xml:"locator,attr"`
	Text    string `xml:"ExceptionText"`
}

func parseDoc(t *testing.T, resp *http.Response) (doc, string) {
	t.Helper()
	body := readBody(t, resp)
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml" {
		t.Fatalf("Content-Type %q, want exactly text/xml\n%s", ct, body)
	}
	var d doc
	if err := xml.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	return d, body
}

func (d doc) state() string {
	switch {
	case d.Status.Accepted != nil:
		return "ProcessAccepted"
	case d.Status.Started != nil:
		return "ProcessStarted"
	case d.Status.Succeeded != nil:
		return "ProcessSucceeded"
	case d.Status.Failed != nil:
		return "ProcessFailed"
	}
	return ""
}

// wait polls a status location like the cwt client until the job ends.
func (e *env) wait(location string, header ...string) doc {
	e.t.Helper()
	if !strings.HasPrefix(location, e.url+"/wps/api/job/") || !strings.HasSuffix(location, ".wps") {
		e.t.Fatalf("statusLocation %q is not an absolute status URL of this server", location)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		d, body := parseDoc(e.t, e.do("GET", strings.TrimPrefix(location, e.url), nil, header...))
		if d.XMLName.Local != "ExecuteResponse" {
			e.t.Fatalf("status document is not an ExecuteResponse:\n%s", body)
		}
		if s := d.state(); s == "ProcessSucceeded" || s == "ProcessFailed" {
			return d
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatal("job did not finish in 30 s")
	return doc{}
}

type variable struct {
	URI      string `json:"uri"`
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
}

func outputVariable(t *testing.T, d doc) variable {
	t.Helper()
	if len(d.Outputs) != 1 || d.Outputs[0].Data.Complex.MimeType != "application/json" {
		t.Fatalf("outputs %+v", d.Outputs)
	}
	var v variable
	if err := json.Unmarshal([]byte(strings.TrimSpace(d.Outputs[0].Data.Complex.Text)), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// download fetches an output and reads one variable from it.
func (e *env) download(uri, name string) ([]float64, []int) {
	e.t.Helper()
	resp, err := http.Get(uri)
	if err != nil {
		e.t.Fatal(err)
	}
	body := readBody(e.t, resp)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %s", uri, resp.StatusCode, body)
	}
	path := filepath.Join(e.t.TempDir(), "out.nc")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
	f, err := netcdf.Open(path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	v, err := f.Var(name)
	if err != nil {
		e.t.Fatal(err)
	}
	shape := v.Shape()
	n := 1
	for _, s := range shape {
		n *= s
	}
	vals := make([]float64, n)
	if err := f.Read(v.ID, make([]int, len(shape)), shape, nil, vals); err != nil {
		e.t.Fatal(err)
	}
	return vals, shape
}

func (e *env) fileURI(name string) string { return "file://" + filepath.Join(e.samples, name) }

func TestExecuteXMLSubset(t *testing.T) {
	e := start(t, nil)
	v := fmt.Sprintf(`[{"uri": %q, "id": "tas|v0"}]`, e.fileURI("tas_day_2000.nc"))
	d := `[{"id": "d0", "time": {"start": "2000-02-01", "end": "2000-02-03", "step": 1, "crs": "timestamps"}, "lat": {"start": 0, "end": 10, "step": 1, "crs": "values"}, "lon": {"start": -10, "end": 5, "step": 1, "crs": "values"}}]`
	op := `[{"name": "CDAT.subset", "result": "s0", "domain": "d0", "input": ["v0"]}]`
	resp := e.do("POST", "/wps", strings.NewReader(executeXML("CDAT.subset", v, d, op, "")), "Content-Type", "text/xml")
	accepted, body := parseDoc(t, resp)
	if accepted.state() != "ProcessAccepted" || accepted.StatusLocation == "" {
		t.Fatalf("Execute answer:\n%s", body)
	}
	if _, err := time.Parse(time.RFC3339, accepted.Status.Created); err != nil {
		t.Errorf("creationTime %q is not RFC 3339", accepted.Status.Created)
	}
	done := e.wait(accepted.StatusLocation)
	if done.state() != "ProcessSucceeded" {
		t.Fatalf("job failed: %+v", done.Status.Failed)
	}
	out := outputVariable(t, done)
	if !strings.HasPrefix(out.ID, "tas|") || out.MimeType != "application/netcdf" {
		t.Errorf("output variable %+v", out)
	}
	vals, shape := e.download(out.URI, "tas")
	if fmt.Sprint(shape) != "[3 2 4]" {
		t.Fatalf("shape %v, want [3 2 4] (3 days, lat 2.5 and 7.5, lon -10..5)", shape)
	}
	lonIdx := []int{70, 71, 0, 1}
	k := 0
	for day := 31; day < 34; day++ {
		for j := 18; j < 20; j++ {
			for _, i := range lonIdx {
				if want := sample.Tas(day, j, i); vals[k] != want {
					t.Fatalf("value %d = %v, want %v", k, vals[k], want)
				}
				k++
			}
		}
	}
}

func TestExecuteKVPAggregate(t *testing.T) {
	e := start(t, nil)
	v := fmt.Sprintf(`[{"uri":%q,"id":"tas|a"},{"uri":%q,"id":"tas|b"}]`, e.fileURI("tas_day_2001.nc"), e.fileURI("tas_day_2000.nc"))
	d := `[{"id":"d","time":{"start":"2000-12-31","end":"2001-01-01","crs":"timestamps"},"lat":{"start":0,"end":0,"crs":"indices"},"lon":{"start":0,"end":0,"crs":"indices"}}]`
	op := `[{"name":"CDAT.aggregate","result":"g","input":["a","b"],"domain":"d"}]`
	q := url.Values{"service": {"WPS"}, "Request": {"Execute"}, "version": {"1.0.0"}, "identifier": {"CDAT.aggregate"},
		"DataInputs": {"variable=" + v + ";domain=" + d + ";operation=" + op}}
	accepted, body := parseDoc(t, e.do("GET", "/wps?"+q.Encode(), nil))
	if accepted.StatusLocation == "" {
		t.Fatalf("no statusLocation:\n%s", body)
	}
	done := e.wait(accepted.StatusLocation)
	if done.state() != "ProcessSucceeded" {
		t.Fatalf("job failed: %+v", done.Status.Failed)
	}
	vals, shape := e.download(outputVariable(t, done).URI, "tas")
	if fmt.Sprint(shape) != "[2 1 1]" || vals[0] != sample.Tas(364, 0, 0) || vals[1] != sample.Tas(365, 0, 0) {
		t.Errorf("aggregate across the year boundary: shape %v values %v", shape, vals)
	}
	times, _ := e.download(outputVariable(t, done).URI, "time")
	if times[0] != 364.5 || times[1] != 365.5 {
		t.Errorf("time %v, want [364.5 365.5] in the units of the earlier file", times)
	}
}

func TestExecuteSynchronous(t *testing.T) {
	e := start(t, nil)
	v := fmt.Sprintf(`[{"uri": %q, "id": "pr|p"}]`, e.fileURI("pr_mon_360day.nc"))
	op := `[{"name": "CDAT.subset", "result": "s", "domain": "d", "input": ["p"]}]`
	d := `[{"id": "d", "time": {"start": 0, "end": 2, "crs": "indices"}}]`
	form := `<wps100:ResponseForm><wps100:ResponseDocument storeExecuteResponse="false" status="false"><wps100:Output><ows110:Identifier xmlns:ows110="http://www.opengis.net/ows/1.1">output</ows110:Identifier></wps100:Output></wps100:ResponseDocument></wps100:ResponseForm>`
	got, body := parseDoc(t, e.do("POST", "/wps/", strings.NewReader(executeXML("CDAT.subset", v, d, op, form))))
	if got.state() != "ProcessSucceeded" || got.StatusLocation != "" {
		t.Fatalf("status=false should answer when the job is done, without a statusLocation:\n%s", body)
	}
	if _, shape := e.download(outputVariable(t, got).URI, "pr"); fmt.Sprint(shape) != "[2 36 72]" {
		t.Errorf("shape %v", shape)
	}
}

// TestExecuteErrors checks that bad requests are answered at once with an
// ExceptionReport that names what was wrong.
func TestExecuteErrors(t *testing.T) {
	e := start(t, nil)
	good := fmt.Sprintf(`[{"uri": %q, "id": "tas|v0"}]`, e.fileURI("tas_day_2000.nc"))
	op := `[{"name": "CDAT.subset", "result": "s", "input": ["v0"]}]`
	cases := []struct {
		name, id, v, d, op, code, locator, want string
	}{
		{"unknown process", "CDAT.nope", good, "[]", op, "InvalidParameterValue", "operation", `unknown process "CDAT.nope"`},
		{"missing bar", "CDAT.subset", `[{"uri": "/x.nc", "id": "tas"}]`, "[]", op, "InvalidParameterValue", "variable", `exactly one "|"`},
		{"unknown input", "CDAT.subset", good, "[]", `[{"name": "CDAT.subset", "result": "s", "input": ["zz"]}]`, "InvalidParameterValue", "operation", `input "zz"`},
		{"cycle", "CDAT.subset", good, "[]", `[{"name": "CDAT.subset", "result": "a", "input": ["b"]}, {"name": "CDAT.subset", "result": "b", "input": ["a"]}]`, "InvalidParameterValue", "operation", "cycle"},
		{"bad crs", "CDAT.subset", good, `[{"id": "d", "lat": {"start": 0, "end": 1, "crs": "furlongs"}}]`, op, "InvalidParameterValue", "domain", `crs "furlongs"`},
		{"wrong input count", "CDAT.subset", good, "[]", `[{"name": "CDAT.subset", "result": "s", "input": ["v0", "v0"]}]`, "InvalidParameterValue", "operation", "takes 1 input(s), got 2"},
		{"outside data roots", "CDAT.subset", `[{"uri": "/etc/passwd", "id": "x|v0"}]`, "[]", op, "InvalidParameterValue", "variable", "outside the data directories"},
		{"remote host not allowed", "CDAT.subset", `[{"uri": "http://169.254.169.254/latest/meta-data", "id": "x|v0"}]`, "[]", op, "InvalidParameterValue", "variable", "remote data is not allowed"},
		{"braces never reach the client", "CDAT.subset", `[{"uri": "/x.nc", "id": "{tas}"}]`, "[]", op, "InvalidParameterValue", "variable", `"(tas)"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, body := parseDoc(t, e.do("POST", "/wps", strings.NewReader(executeXML(c.id, c.v, c.d, c.op, ""))))
			if len(d.Exceptions) != 1 {
				t.Fatalf("want one exception:\n%s", body)
			}
			ex := d.Exceptions[0]
			if ex.Code != c.code || ex.Locator != c.locator || !strings.Contains(ex.Text, c.want) {
				t.Errorf("got %+v, want code %s locator %s text containing %q", ex, c.code, c.locator, c.want)
			}
			if strings.ContainsAny(ex.Text, "{}") {
				t.Errorf("ExceptionText contains braces, which crash the cwt client: %q", ex.Text)
			}
		})
	}
	jobsList := readBody(t, e.do("GET", "/wps/api/job/", nil))
	if !strings.Contains(jobsList, `"count":0`) {
		t.Errorf("a refused request must not create a job: %s", jobsList)
	}
}

func TestRequestErrors(t *testing.T) {
	e := start(t, nil)
	// Over the body limit of 64 KiB.
	big := executeXML("CDAT.subset", `[{"uri": "/x.nc", "id": "tas|v", "pad": "`+strings.Repeat("x", 70000)+`"}]`, "[]", "[]", "")
	resp := e.do("POST", "/wps", strings.NewReader(big))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	d, body := parseDoc(t, resp)
	if len(d.Exceptions) != 1 || d.Exceptions[0].Code != "FileSizeExceeded" || !strings.Contains(d.Exceptions[0].Text, "65536") {
		t.Errorf("over the limit:\n%s", body)
	}
	// An entity declaration is refused before anything is expanded.
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
		`<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS" version="1.0.0"><ows:Identifier xmlns:ows="http://www.opengis.net/ows/1.1">&lol2;</ows:Identifier></wps:Execute>`
	d, body = parseDoc(t, e.do("POST", "/wps", strings.NewReader(laughs)))
	if len(d.Exceptions) != 1 || !strings.Contains(d.Exceptions[0].Text, "DTD") {
		t.Errorf("entity declaration:\n%s", body)
	}
	// Malformed XML.
	d, body = parseDoc(t, e.do("POST", "/wps", strings.NewReader(`<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0"`)))
	if len(d.Exceptions) != 1 || !strings.Contains(d.Exceptions[0].Text, "not well-formed") {
		t.Errorf("malformed XML:\n%s", body)
	}
	// The cwt client's CSRF preflight: a GET without a query, with a body.
	resp = e.do("GET", "/wps", strings.NewReader(executeXML("CDAT.subset", "[]", "[]", "[]", "")), "Content-Type", "text/xml")
	d, _ = parseDoc(t, resp)
	if resp.StatusCode != 200 || len(d.Exceptions) != 1 || d.Exceptions[0].Code != "MissingParameterValue" || d.Exceptions[0].Locator != "request" {
		t.Errorf("preflight: %d %+v", resp.StatusCode, d.Exceptions)
	}
	// Unknown operation, and DescribeProcess of an unknown process.
	d, _ = parseDoc(t, e.do("GET", "/wps?service=WPS&request=Dance", nil))
	if d.Exceptions[0].Code != "OperationNotSupported" {
		t.Errorf("unknown request: %+v", d.Exceptions)
	}
	d, _ = parseDoc(t, e.do("GET", "/wps?service=WPS&request=DescribeProcess&version=1.0.0&identifier=CDAT.nope", nil))
	if d.Exceptions[0].Code != "InvalidParameterValue" || d.Exceptions[0].Locator != "identifier" {
		t.Errorf("unknown process: %+v", d.Exceptions)
	}
	resp = e.do("PUT", "/wps", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("PUT /wps: %d %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if d, _ := parseDoc(t, resp); len(d.Exceptions) != 1 || d.Exceptions[0].Code != "OperationNotSupported" {
		t.Errorf("PUT /wps: %+v", d.Exceptions)
	}
}

func TestCapabilitiesAndDescribe(t *testing.T) {
	e := start(t, nil)
	body := readBody(t, e.do("GET", "/wps?SERVICE=WPS&REQUEST=GetCapabilities", nil))
	for _, want := range []string{`wps:processVersion="1.0.0"`, "<ows:Identifier>CDAT.subset</ows:Identifier>", "<ows:Identifier>CDAT.aggregate</ows:Identifier>", e.url + "/wps"} {
		if !strings.Contains(body, want) {
			t.Errorf("capabilities lack %q", want)
		}
	}
	resp := e.do("GET", "/wps/?service=WPS&request=DescribeProcess&version=1.0.0&identifier=CDAT.subset", nil)
	body = readBody(t, resp)
	var descs struct {
		Process []struct {
			Identifier string `xml:"http://www.opengis.net/ows/1.1 Identifier"`
			Abstract   string `xml:"http://www.opengis.net/ows/1.1 Abstract"`
			Inputs     []struct {
				Identifier string `xml:"http://www.opengis.net/ows/1.1 Identifier"`
				MimeType   string `xml:"ComplexData>Default>Format>MimeType"`
			} `xml:"DataInputs>Input"`
		} `xml:"ProcessDescription"`
	}
	if err := xml.Unmarshal([]byte(body), &descs); err != nil {
		t.Fatal(err)
	}
	if len(descs.Process) != 1 || descs.Process[0].Identifier != "CDAT.subset" || len(descs.Process[0].Inputs) != 3 {
		t.Fatalf("DescribeProcess:\n%s", body)
	}
	if !strings.Contains(descs.Process[0].Abstract, "method (str)") {
		t.Errorf("the abstract lists the parameters: %q", descs.Process[0].Abstract)
	}
}

func submit(t *testing.T, e *env, user, file, varName string) string {
	t.Helper()
	v := fmt.Sprintf(`[{"uri": %q, "id": "%s|v"}]`, e.fileURI(file), varName)
	op := `[{"name": "CDAT.subset", "result": "s", "domain": "d", "input": ["v"]}]`
	d := `[{"id": "d", "time": {"start": 0, "end": 1, "crs": "indices"}}]`
	accepted, body := parseDoc(t, e.do("POST", "/wps", strings.NewReader(executeXML("CDAT.subset", v, d, op, "")), "X-Test-User", user))
	if accepted.StatusLocation == "" {
		t.Fatalf("submit:\n%s", body)
	}
	return accepted.StatusLocation
}

func jobID(t *testing.T, location string) string {
	t.Helper()
	base := location[strings.LastIndex(location, "/")+1:]
	return strings.TrimSuffix(base, ".wps")
}

func TestJobOwnership(t *testing.T) {
	e := start(t, nil)
	loc := submit(t, e, "alice", "tas_day_2000.nc", "tas")
	done := e.wait(loc, "X-Test-User", "alice")
	out := outputVariable(t, done)
	id := jobID(t, loc)

	// Bob sees nothing of Alice's job.
	for _, path := range []string{"/wps/api/job/" + id + "/", "/wps/api/job/" + id + ".json", "/wpsapi/job/" + id + "/"} {
		if resp := e.do("GET", path, nil, "X-Test-User", "bob"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("bob GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	st, body := parseDoc(t, e.do("GET", "/wps/api/job/"+id+".wps", nil, "X-Test-User", "bob"))
	if st.state() != "ProcessFailed" || !strings.Contains(body, "does not exist") {
		t.Errorf("bob's status document of alice's job:\n%s", body)
	}
	if resp := e.do("DELETE", "/wps/api/job/"+id+"/", nil, "X-Test-User", "bob"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob DELETE: %d, want 404", resp.StatusCode)
	}
	if list := readBody(t, e.do("GET", "/wps/api/job/", nil, "X-Test-User", "bob")); !strings.Contains(list, `"count":0`) {
		t.Errorf("bob's job list: %s", list)
	}
	statusLinks := func(user string) []string {
		var j struct {
			StatusLinks []string `json:"status_links"`
		}
		json.Unmarshal([]byte(readBody(t, e.do("GET", "/wps/api/job/"+id+"/", nil, "X-Test-User", user))), &j)
		return j.StatusLinks
	}
	links := statusLinks("alice")
	if len(links) != 3 {
		t.Fatalf("alice's job has status links %v, want Accepted, Started, Succeeded", links)
	}
	statusPath := strings.TrimPrefix(links[0], e.url)
	if resp := e.do("GET", statusPath, nil, "X-Test-User", "bob"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob reads alice's status: %d", resp.StatusCode)
	}
	if resp := e.do("GET", statusPath, nil, "X-Test-User", "alice"); resp.StatusCode != http.StatusOK {
		t.Errorf("alice reads her status: %d", resp.StatusCode)
	}
	// The output URL works for anyone who has it (the token is the
	// permission), and stops working once Alice deletes the job.
	if resp, _ := http.Get(out.URI); resp.StatusCode != 200 {
		t.Errorf("output download: %d", resp.StatusCode)
	}
	if resp := e.do("DELETE", "/wps/api/job/"+id+"/", nil, "X-Test-User", "alice"); resp.StatusCode != http.StatusNoContent {
		t.Errorf("alice DELETE: %d", resp.StatusCode)
	}
	if resp, _ := http.Get(out.URI); resp.StatusCode != http.StatusNotFound {
		t.Errorf("output after delete: %d, want 404", resp.StatusCode)
	}
	left, _ := filepath.Glob(filepath.Join(e.data, "*", id, "*"))
	if len(left) != 0 {
		t.Errorf("files left after delete: %v", left)
	}
	// A guessed token gets nothing.
	u, _ := url.Parse(out.URI)
	parts := strings.Split(u.Path, "/")
	parts[3] = "AAAAAAAAAAAAAAAAAAAAAA"
	if resp := e.do("GET", strings.Join(parts, "/"), nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("guessed token: %d", resp.StatusCode)
	}
}

func TestOutputByteRanges(t *testing.T) {
	e := start(t, nil)
	done := e.wait(submit(t, e, "anonymous", "tas_day_2000.nc", "tas"))
	uri := outputVariable(t, done).URI
	full, err := http.Get(uri)
	if err != nil {
		t.Fatal(err)
	}
	whole := readBody(t, full)
	if full.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("Accept-Ranges %q", full.Header.Get("Accept-Ranges"))
	}
	req, _ := http.NewRequest("GET", uri, nil)
	req.Header.Set("Range", "bytes=0-7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part := readBody(t, resp)
	if resp.StatusCode != http.StatusPartialContent || part != whole[:8] || part[1:4] != "HDF" {
		t.Errorf("range 0-7: %d %q", resp.StatusCode, part)
	}
	head := e.do("HEAD", strings.TrimPrefix(uri, e.url), nil)
	if head.ContentLength != int64(len(whole)) {
		t.Errorf("HEAD Content-Length %d, file has %d bytes", head.ContentLength, len(whole))
	}
}

func TestJobAPI(t *testing.T) {
	e := start(t, nil)
	var locs []string
	for i := 0; i < 3; i++ {
		locs = append(locs, submit(t, e, "anonymous", "pr_mon_360day.nc", "pr"))
	}
	for _, l := range locs {
		e.wait(l)
	}
	var page struct {
		Count    int     `json:"count"`
		Next     *string `json:"next"`
		Previous *string `json:"previous"`
		Results  []struct {
			URL         string   `json:"url"`
			ID          int64    `json:"id"`
			Identifier  string   `json:"identifier"`
			Status      string   `json:"status"`
			StatusLinks []string `json:"status_links"`
			Elapsed     string   `json:"elapsed"`
			Accepted    string   `json:"accepted"`
			DataInputs  string   `json:"datainputs"`
			Output      []struct {
				Remote string `json:"remote"`
				Size   string `json:"size"`
			} `json:"output"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(readBody(t, e.do("GET", "/wps/api/job/?limit=2", nil))), &page); err != nil {
		t.Fatal(err)
	}
	if page.Count != 3 || len(page.Results) != 2 || page.Next == nil || page.Previous != nil {
		t.Fatalf("first page: %+v", page)
	}
	j := page.Results[0]
	if j.Identifier != "CDAT.subset" || j.Status != "ProcessSucceeded" || len(j.Output) != 1 || !strings.Contains(j.Output[0].Size, ".") ||
		j.URL != fmt.Sprintf("%s/wps/api/job/%d/", e.url, j.ID) || !strings.Contains(j.DataInputs, `"variable"`) {
		t.Errorf("job %+v", j)
	}
	next, _ := url.Parse(*page.Next)
	if err := json.Unmarshal([]byte(readBody(t, e.do("GET", next.RequestURI(), nil))), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Results) != 1 || page.Next != nil || page.Previous == nil {
		t.Errorf("second page: %+v", page)
	}
	if resp := e.do("GET", "/wps/api/job/?limit=zero", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad limit: %d", resp.StatusCode)
	}
	if body := readBody(t, e.do("GET", "/wps/api/ping/", nil)); body != "pong" {
		t.Errorf("ping: %q", body)
	}
	if body := readBody(t, e.do("GET", "/wps/api/ready", nil)); body != "ready" {
		t.Errorf("ready: %q", body)
	}
	e.store.Close() // the database gone: not ready, still alive
	if resp := e.do("GET", "/wps/api/ready", nil); resp.StatusCode != 503 {
		t.Errorf("ready without a database: %d", resp.StatusCode)
	}
	if body := readBody(t, e.do("GET", "/wps/api/ping/", nil)); body != "pong" {
		t.Errorf("ping without a database: %q", body)
	}
	metrics := readBody(t, e.do("GET", "/wps/api/metrics", nil))
	if !strings.Contains(metrics, `wps_request_seconds_count{code="200",method="POST",operation="Execute",route="wps"}`) {
		t.Errorf("metrics lack the Execute requests:\n%.2000s", metrics)
	}
}

func TestFailedJobSaysWhy(t *testing.T) {
	e := start(t, nil)
	for _, c := range []struct {
		v, d, want string
	}{
		{fmt.Sprintf(`[{"uri": %q, "id": "tas|v"}]`, e.fileURI("tas_day_2000.nc")), `[{"id": "d", "lat": {"start": 95, "end": 99, "crs": "values"}}]`, `subset of "lat" resulted in a zero length dimension`},
		{fmt.Sprintf(`[{"uri": %q, "id": "psl|v"}]`, e.fileURI("tas_day_2000.nc")), `[{"id": "d", "lat": {"start": 0, "end": 9, "crs": "values"}}]`, `variable "psl" is not in`},
	} {
		op := `[{"name": "CDAT.subset", "result": "s", "domain": "d", "input": ["v"]}]`
		acc, _ := parseDoc(t, e.do("POST", "/wps", strings.NewReader(executeXML("CDAT.subset", c.v, c.d, op, ""))))
		done := e.wait(acc.StatusLocation)
		if done.state() != "ProcessFailed" || len(done.Status.Failed.Report.Exception) != 1 {
			t.Fatalf("want a failed job with a nested exception, got %+v", done.Status)
		}
		if text := done.Status.Failed.Report.Exception[0].Text; !strings.Contains(text, c.want) {
			t.Errorf("failure %q, want it to contain %q", text, c.want)
		}
	}
}

// TestOPeNDAPInput subsets a dataset served over OPeNDAP by another process
// on an allowed host, and checks the result equals the same subset of the
// local file.
func TestOPeNDAPInput(t *testing.T) {
	dapSrv := daptest.Start(t, daptest.Config{Root: samples(t)})
	host := strings.TrimPrefix(dapSrv.Base, "http://")
	e := start(t, map[string]string{"WPS_DATA_HOSTS": host})
	d := `[{"id": "d", "time": {"start": "2000-06-01", "end": "2000-06-03", "crs": "timestamps"}, "lat": {"start": -20, "end": 20, "crs": "values"}, "lon": {"start": 170, "end": 200, "crs": "values"}}]`
	op := `[{"name": "CDAT.subset", "result": "s", "domain": "d", "input": ["v"]}]`
	results := map[string][]float64{}
	for _, uri := range []string{dapSrv.URL + "tas_day_2000.nc", e.fileURI("tas_day_2000.nc")} {
		v := fmt.Sprintf(`[{"uri": %q, "id": "tas|v"}]`, uri)
		acc, body := parseDoc(t, e.do("POST", "/wps", strings.NewReader(executeXML("CDAT.subset", v, d, op, ""))))
		if acc.StatusLocation == "" {
			t.Fatalf("%s:\n%s", uri, body)
		}
		done := e.wait(acc.StatusLocation)
		if done.state() != "ProcessSucceeded" {
			t.Fatalf("%s: %+v", uri, done.Status.Failed)
		}
		vals, shape := e.download(outputVariable(t, done).URI, "tas")
		if fmt.Sprint(shape) != "[3 8 7]" {
			t.Fatalf("%s: shape %v, want [3 8 7]", uri, shape)
		}
		results[uri] = vals
	}
	remote, local := results[dapSrv.URL+"tas_day_2000.nc"], results[e.fileURI("tas_day_2000.nc")]
	for i := range local {
		if remote[i] != local[i] {
			t.Fatalf("value %d over OPeNDAP %v, locally %v", i, remote[i], local[i])
		}
	}
	// libnetcdf asked the server for the hyperslab, not the whole variable.
	constrained := false
	for _, r := range dapSrv.Requests(t) {
		if strings.Contains(r, ".dods?") && strings.Contains(r, "tas") && (strings.Contains(r, "[151:153]") || strings.Contains(r, "%5b151:153%5d")) {
			constrained = true
		}
	}
	if !constrained {
		t.Errorf("no constrained .dods request for the subset among %v", dapSrv.Requests(t))
	}

	// Another host is refused, and an allowed host with a missing dataset fails with a clear message.
	v := `[{"uri": "http://127.0.0.2:9/tas.nc", "id": "tas|v"}]`
	ex, _ := parseDoc(t, e.do("POST", "/wps", strings.NewReader(executeXML("CDAT.subset", v, d, op, ""))))
	if len(ex.Exceptions) != 1 || !strings.Contains(ex.Exceptions[0].Text, "not in the list of allowed data hosts") {
		t.Errorf("other host: %+v", ex.Exceptions)
	}
	v = fmt.Sprintf(`[{"uri": %q, "id": "tas|v"}]`, dapSrv.URL+"nope.nc")
	acc, _ := parseDoc(t, e.do("POST", "/wps", strings.NewReader(executeXML("CDAT.subset", v, d, op, ""))))
	done := e.wait(acc.StatusLocation)
	if done.state() != "ProcessFailed" || !strings.Contains(done.Status.Failed.Report.Exception[0].Text, "nope.nc") {
		t.Errorf("missing remote dataset: %+v", done.Status.Failed)
	}
}

// TestProvenance: a succeeded job has a W3C PROV-JSON document linking its
// output to the operation and the input file, served to its owner only.
func TestProvenance(t *testing.T) {
	e := start(t, nil)
	loc := submit(t, e, "alice", "tas_day_2000.nc", "tas")
	e.wait(loc, "X-Test-User", "alice")
	id := jobID(t, loc)
	var job struct {
		Provenance string `json:"provenance"`
	}
	json.Unmarshal([]byte(readBody(t, e.do("GET", "/wps/api/job/"+id+"/", nil, "X-Test-User", "alice"))), &job)
	if job.Provenance != e.url+"/wps/api/job/"+id+"/provenance" {
		t.Fatalf("provenance link %q", job.Provenance)
	}
	resp := e.do("GET", "/wps/api/job/"+id+"/provenance", nil, "X-Test-User", "alice")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("provenance: %d", resp.StatusCode)
	}
	var doc struct {
		Entity         map[string]map[string]any `json:"entity"`
		Activity       map[string]map[string]any `json:"activity"`
		Agent          map[string]map[string]any `json:"agent"`
		Used           map[string]map[string]any `json:"used"`
		WasGeneratedBy map[string]map[string]any `json:"wasGeneratedBy"`
		WasDerivedFrom map[string]map[string]any `json:"wasDerivedFrom"`
	}
	if err := json.Unmarshal([]byte(readBody(t, resp)), &doc); err != nil {
		t.Fatal(err)
	}
	input := doc.Entity["cwps:input/v"]
	if input == nil || input["prov:location"] != e.fileURI("tas_day_2000.nc") {
		t.Errorf("input entity %v", input)
	}
	act := doc.Activity["cwps:job/"+id+"/s"]
	if act == nil || act["prov:type"] != "CDAT.subset" || act["cwps:domain"] == nil {
		t.Errorf("activity %v", act)
	}
	var used, generated, derived bool
	for _, u := range doc.Used {
		used = used || (u["prov:activity"] == "cwps:job/"+id+"/s" && u["prov:entity"] == "cwps:input/v")
	}
	for _, g := range doc.WasGeneratedBy {
		generated = generated || (g["prov:entity"] == "cwps:result/s" && g["prov:activity"] == "cwps:job/"+id+"/s")
	}
	for _, d := range doc.WasDerivedFrom {
		derived = derived || d["prov:usedEntity"] == "cwps:result/s"
	}
	if !used || !generated || !derived || len(doc.Agent) != 2 {
		t.Errorf("relations: used %v generated %v derived %v agents %v", used, generated, derived, doc.Agent)
	}
	if resp := e.do("GET", "/wps/api/job/"+id+"/provenance", nil, "X-Test-User", "bob"); resp.StatusCode != 404 {
		t.Errorf("bob reads alice's provenance: %d", resp.StatusCode)
	}
}

// TestLimits: a user over the queued-jobs limit is refused with the numbers.
func TestLimits(t *testing.T) {
	e := start(t, map[string]string{"WPS_USER_MAX_QUEUED": "2", "WPS_WORKERS": "0"})
	for i := 0; i < 2; i++ {
		submit(t, e, "alice", "pr_mon_360day.nc", "pr")
	}
	v := fmt.Sprintf(`[{"uri": %q, "id": "pr|v"}]`, e.fileURI("pr_mon_360day.nc"))
	resp := e.do("POST", "/wps", strings.NewReader(executeXML("CDAT.subset", v, "[]", `[{"name": "CDAT.subset", "result": "s", "input": ["v"]}]`, "")), "X-Test-User", "alice")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429", resp.StatusCode)
	}
	d, body := parseDoc(t, resp)
	if len(d.Exceptions) != 1 || d.Exceptions[0].Code != "ServerBusy" || !strings.Contains(d.Exceptions[0].Text, "You already have 2 jobs waiting to run, the most one user may have (2)") {
		t.Errorf("over the limit:\n%s", body)
	}
	// Another user is not affected.
	submit(t, e, "bob", "pr_mon_360day.nc", "pr")
}
