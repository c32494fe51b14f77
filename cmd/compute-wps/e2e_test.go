package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/jobs/pgtest"
	"github.com/computewps/computewps/internal/netcdf"
)

var binary string

// TestMain builds the real binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "compute-wps-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "compute-wps")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(gobin, "build", "-ldflags", "-X main.version=e2e", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building compute-wps:", err)
		os.Exit(1)
	}
	code := pgtest.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestVersionAndUsage(t *testing.T) {
	if out, code := run(t, nil, "version"); code != 0 || strings.TrimSpace(out) != "compute-wps e2e" {
		t.Errorf("version: %d %q", code, out)
	}
	if out, code := run(t, nil, "frobnicate"); code != 2 || !strings.Contains(out, `unknown command "frobnicate"`) || !strings.Contains(out, "usage:") {
		t.Errorf("unknown command: %d %q", code, out)
	}
}

func TestRefusesToStartWithoutIdentityProvider(t *testing.T) {
	out, code := run(t, []string{"DATA_PATH=" + t.TempDir()}, "serve")
	if code != 2 || !strings.Contains(out, "AUTH_ENABLED is true (the default) but no identity provider is configured") {
		t.Errorf("exit %d, output %q", code, out)
	}
	// Every problem is listed at once.
	out, code = run(t, []string{"AUTH_ENABLED=maybe", "WPS_WORKERS=many", "WPS_ADDR=nowhere"}, "serve")
	for _, want := range []string{"AUTH_ENABLED must be true or false", "WPS_WORKERS must be an integer", `WPS_ADDR "nowhere" is not host:port`} {
		if code != 2 || !strings.Contains(out, want) {
			t.Errorf("exit %d, output %q lacks %q", code, out, want)
		}
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	env := []string{"AUTH_ENABLED=false", "DATA_PATH=" + t.TempDir()}
	for i := 0; i < 2; i++ {
		if out, code := run(t, env, "migrate"); code != 0 {
			t.Fatalf("migrate run %d: %d %s", i+1, code, out)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestEndToEnd starts the real server on loopback and drives it over HTTP
// through Execute, polling and download, as the cwt client does, then
// checks the result with ncdump and stops the server with SIGTERM.
func TestEndToEnd(t *testing.T) {
	data := t.TempDir()
	samples := filepath.Join(data, "sample")
	if out, code := run(t, nil, "sample", samples); code != 0 || !strings.Contains(out, "wrote the sample dataset") {
		t.Fatalf("sample: %d %s", code, out)
	}
	if out, _ := run(t, nil, "sample", samples); out != "" {
		t.Errorf("a second sample run should leave the data alone, said %q", out)
	}
	addr := freeAddr(t)
	base := "http://" + addr
	cmd := exec.Command(binary, "serve")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AUTH_ENABLED=false", "DATA_PATH=" + data, "WPS_ADDR=" + addr,
		"WPS_DATA_ROOTS=" + samples, "WPS_WORKERS=2"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	}()
	waitReady(t, base+"/wps/api/ping/")

	// The cwt client's first request.
	caps := get(t, base+"/wps?service=WPS&request=GetCapabilities&version=1.0.0")
	if !strings.Contains(caps, "CDAT.subset") {
		t.Fatalf("capabilities:\n%s", caps)
	}
	uri := "file://" + filepath.Join(samples, "tas_day_2000.nc")
	body := fmt.Sprintf(`<wps100:Execute xmlns:wps100="http://www.opengis.net/wps/1.0.0" service="WPS" version="1.0.0">`+
		`<ows110:Identifier xmlns:ows110="http://www.opengis.net/ows/1.1">CDAT.subset</ows110:Identifier><wps100:DataInputs>`+
		`<wps100:Input><ows110:Identifier xmlns:ows110="http://www.opengis.net/ows/1.1">variable</ows110:Identifier><wps100:Data><wps100:ComplexData mimeType="application/json">[{&quot;uri&quot;: &quot;%s&quot;, &quot;id&quot;: &quot;tas|v0&quot;}]</wps100:ComplexData></wps100:Data></wps100:Input>`+
		`<wps100:Input><ows110:Identifier xmlns:ows110="http://www.opengis.net/ows/1.1">domain</ows110:Identifier><wps100:Data><wps100:ComplexData mimeType="application/json">[{&quot;id&quot;: &quot;d0&quot;, &quot;time&quot;: {&quot;start&quot;: &quot;2000-01-01&quot;, &quot;end&quot;: &quot;2000-01-05&quot;, &quot;step&quot;: 1, &quot;crs&quot;: &quot;timestamps&quot;}, &quot;lat&quot;: {&quot;start&quot;: -10, &quot;end&quot;: 10, &quot;step&quot;: 1, &quot;crs&quot;: &quot;values&quot;}}]</wps100:ComplexData></wps100:Data></wps100:Input>`+
		`<wps100:Input><ows110:Identifier xmlns:ows110="http://www.opengis.net/ows/1.1">operation</ows110:Identifier><wps100:Data><wps100:ComplexData mimeType="application/json">[{&quot;name&quot;: &quot;CDAT.subset&quot;, &quot;result&quot;: &quot;s0&quot;, &quot;domain&quot;: &quot;d0&quot;, &quot;input&quot;: [&quot;v0&quot;]}]</wps100:ComplexData></wps100:Data></wps100:Input>`+
		`</wps100:DataInputs></wps100:Execute>`, uri)
	resp, err := http.Post(base+"/wps", "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer := readAll(t, resp)
	location := attr(t, answer, "statusLocation")
	if !strings.HasPrefix(location, base+"/wps/api/job/") {
		t.Fatalf("statusLocation %q\n%s", location, answer)
	}
	var status string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		status = get(t, location)
		if strings.Contains(status, "ProcessSucceeded") || strings.Contains(status, "ProcessFailed") {
			break
		}
	}
	if !strings.Contains(status, "<wps:ProcessSucceeded") {
		t.Fatalf("job did not succeed:\n%s", status)
	}
	var out struct {
		URI string `json:"uri"`
		ID  string `json:"id"`
	}
	if err := json.Unmarshal([]byte(complexData(t, status)), &out); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "result.nc")
	if err := os.WriteFile(file, []byte(get(t, out.URI)), 0o644); err != nil {
		t.Fatal(err)
	}
	ncdump, err := exec.LookPath("ncdump")
	if err != nil {
		t.Fatal("ncdump is not installed: run scripts/setup.sh test (Debian package netcdf-bin)")
	}
	dump, err := exec.Command(ncdump, "-v", "lat,time", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ncdump: %v\n%s", err, dump)
	}
	for _, want := range []string{"float tas(time, lat, lon)", "time = UNLIMITED ; // (5 currently)", "lat = -7.5, -2.5, 2.5, 7.5 ;",
		"time = 0.5, 1.5, 2.5, 3.5, 4.5 ;", `:provenance.wps_identifier = "CDAT.subset"`, `:computewps_version = "e2e"`} {
		if !strings.Contains(string(dump), want) {
			t.Errorf("ncdump output lacks %q:\n%s", want, dump)
		}
	}

	// The job is listed by the job API, with its output.
	jobs := get(t, base+"/wps/api/job/")
	if !strings.Contains(jobs, `"count":1`) || !strings.Contains(jobs, out.URI) {
		t.Errorf("job list:\n%s", jobs)
	}

	// The metrics count the job.
	m := get(t, base+"/wps/api/metrics")
	for _, want := range []string{`wps_jobs{state="ProcessSucceeded"} 1`, `wps_jobs_finished_total{process="CDAT.subset",state="ProcessSucceeded"} 1`,
		`wps_job_run_seconds_count{process="CDAT.subset"} 1`, `wps_job_queue_wait_seconds_count 1`, "wps_workers 2", `wps_output_bytes_written_total`, "wps_input_bytes_read_total 5760",
		`wps_request_seconds_count{code="200",method="POST",operation="Execute",route="wps"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// SIGTERM stops the server cleanly.
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("server exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop within 20 s of SIGTERM")
	}
	if !strings.Contains(logs.String(), `"msg":"job succeeded"`) {
		t.Errorf("the JSON log lacks the job outcome:\n%s", logs.String())
	}
}

// syncBuffer collects a child process's output while the test reads it.
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

func waitReady(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("server not ready at %s", url)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return readAll(t, resp)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func attr(t *testing.T, doc, name string) string {
	t.Helper()
	m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(doc)
	if m == nil {
		t.Fatalf("no %s in\n%s", name, doc)
	}
	return m[1]
}

// complexData returns the text of the output's ComplexData, unescaped.
func complexData(t *testing.T, doc string) string {
	t.Helper()
	var r struct {
		Data string `xml:"ProcessOutputs>Output>Data>ComplexData"`
	}
	if err := xml.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(r.Data)
}

// TestSeparateWorker runs the HTTP server without workers and a separate
// `compute-wps worker` process on the same job store: the job submitted to
// the one is run by the other.
func TestSeparateWorker(t *testing.T) {
	data := t.TempDir()
	samples := filepath.Join(data, "sample")
	if out, code := run(t, nil, "sample", samples); code != 0 {
		t.Fatalf("sample: %s", out)
	}
	addr := freeAddr(t)
	base := "http://" + addr
	common := []string{"PATH=" + os.Getenv("PATH"), "AUTH_ENABLED=false", "DATA_PATH=" + data, "WPS_DATA_ROOTS=" + samples,
		"WPS_BASE_URL=" + base, "WPS_ADDR=" + addr}
	startProc := func(args string, workers string) (*exec.Cmd, *syncBuffer) {
		cmd := exec.Command(binary, args)
		var logs syncBuffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		cmd.Env = append(common, "WPS_WORKERS="+workers)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, &logs
	}
	_, serverLog := startProc("serve", "0")
	waitReady(t, base+"/wps/api/ping/")
	v := fmt.Sprintf(`[{"uri":"file://%s","id":"pr|p"}]`, filepath.Join(samples, "pr_mon_360day.nc"))
	q := "service=WPS&request=Execute&version=1.0.0&identifier=CDAT.subset&DataInputs=" +
		strings.NewReplacer(`"`, "%22", " ", "%20", "{", "%7B", "}", "%7D", "|", "%7C").Replace(
			"variable="+v+`;domain=[{"id":"d","time":{"start":0,"end":1,"crs":"indices"}}];operation=[{"name":"CDAT.subset","result":"s","domain":"d","input":["p"]}]`)
	location := attr(t, get(t, base+"/wps?"+q), "statusLocation")
	time.Sleep(500 * time.Millisecond)
	if doc := get(t, location); !strings.Contains(doc, "ProcessAccepted") {
		t.Fatalf("with no workers anywhere the job should wait in the queue:\n%s", doc)
	}
	metricsAddr := freeAddr(t)
	common = append(common, "WPS_METRICS_ADDR="+metricsAddr)
	_, workerLog := startProc("worker", "1")
	var status string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if status = get(t, location); strings.Contains(status, "ProcessSucceeded") || strings.Contains(status, "ProcessFailed") {
			break
		}
	}
	if !strings.Contains(status, "ProcessSucceeded") {
		t.Fatalf("job did not succeed:\n%s\nserver:\n%s\nworker:\n%s", status, serverLog.String(), workerLog.String())
	}
	if !strings.Contains(workerLog.String(), `"msg":"job succeeded"`) {
		t.Errorf("the worker process did not run the job:\n%s", workerLog.String())
	}
	if m := get(t, "http://"+metricsAddr+"/metrics"); !strings.Contains(m, `wps_jobs_finished_total{process="CDAT.subset",state="ProcessSucceeded"} 1`) {
		t.Errorf("the worker's metrics lack its job:\n%.2000s", m)
	}
}

// liveServer is a running compute-wps serve for one test.
type liveServer struct {
	base, samples string
	logs          *syncBuffer
}

func startServer(t *testing.T, env ...string) *liveServer {
	t.Helper()
	data := t.TempDir()
	samples := filepath.Join(data, "sample")
	if out, code := run(t, nil, "sample", samples); code != 0 {
		t.Fatalf("sample: %s", out)
	}
	addr := freeAddr(t)
	s := &liveServer{base: "http://" + addr, samples: samples, logs: &syncBuffer{}}
	cmd := exec.Command(binary, "serve")
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "AUTH_ENABLED=false", "DATA_PATH=" + data, "WPS_ADDR=" + addr,
		"WPS_DATA_ROOTS=" + samples, "WPS_WORKERS=2"}, env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	waitReady(t, s.base+"/wps/api/ping/")
	return s
}

// execute runs a request to the end over KVP and returns its output URI.
func (s *liveServer) execute(t *testing.T, identifier, variable, domain, operation string) string {
	t.Helper()
	q := url.Values{"service": {"WPS"}, "request": {"Execute"}, "version": {"1.0.0"}, "identifier": {identifier},
		"DataInputs": {"variable=" + variable + ";domain=" + domain + ";operation=" + operation}}
	location := attr(t, get(t, s.base+"/wps?"+q.Encode()), "statusLocation")
	var status string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if status = get(t, location); strings.Contains(status, "ProcessSucceeded") || strings.Contains(status, "ProcessFailed") {
			break
		}
	}
	if !strings.Contains(status, "ProcessSucceeded") {
		t.Fatalf("%s did not succeed:\n%s", identifier, status)
	}
	var out struct{ URI string }
	if err := json.Unmarshal([]byte(complexData(t, status)), &out); err != nil {
		t.Fatal(err)
	}
	return out.URI
}

// TestOutputsOverOPeNDAP reads a job's output in place through its
// OPeNDAP URL with libnetcdf (our binding, in this process, while the
// server is another) and ncdump, and compares everything with the file.
func TestOutputsOverOPeNDAP(t *testing.T) {
	s := startServer(t, "WPS_DAP_MAX_BYTES=8KB")
	v := fmt.Sprintf(`[{"uri":"%s","id":"tas|v"}]`, filepath.Join(s.samples, "tas_day_2000.nc"))
	uri := s.execute(t, "CDAT.subset", v, `[{"id":"d","time":{"start":0,"end":40,"crs":"indices"},"lat":{"start":-30,"end":30,"crs":"values"},"lon":{"start":-20,"end":20,"crs":"values"}}]`,
		`[{"name":"CDAT.subset","result":"s","domain":"d","input":["v"]}]`)
	if !strings.HasPrefix(uri, s.base+"/wps/dap/") {
		t.Fatalf("output uri %q is not an OPeNDAP URL", uri)
	}
	// The same URL downloads the file.
	local := filepath.Join(t.TempDir(), "out.nc")
	if err := os.WriteFile(local, []byte(get(t, uri)), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := netcdf.Open(local)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	got, err := netcdf.Open(uri)
	if err != nil {
		t.Fatalf("libnetcdf cannot open %s: %v", uri, err)
	}
	defer got.Close()
	wv, _ := want.Vars()
	for _, w := range wv {
		g, err := got.Var(w.Name)
		if err != nil {
			t.Errorf("variable %s is not served: %v", w.Name, err)
			continue
		}
		if fmt.Sprint(g.Shape()) != fmt.Sprint(w.Shape()) {
			t.Errorf("%s: shape %v over DAP, %v in the file", w.Name, g.Shape(), w.Shape())
			continue
		}
		for _, a := range w.Attrs {
			ga, ok := g.Attr(a.Name)
			wf, wnum := a.Float64s()
			gf, _ := ga.Float64s()
			if !ok || (wnum && fmt.Sprint(gf) != fmt.Sprint(wf)) || (!wnum && fmt.Sprint(ga.Value) != fmt.Sprint(a.Value)) {
				t.Errorf("%s:%s = %v over DAP, %v in the file", w.Name, a.Name, ga.Value, a.Value)
			}
		}
		shape := w.Shape()
		n := 1
		for _, x := range shape {
			n *= x
		}
		if n*8 > 1500 {
			continue // over the response limit: checked below with hyperslabs
		}
		wd, gd := make([]float64, n), make([]float64, n)
		want.Read(w.ID, make([]int, len(shape)), shape, nil, wd)
		if err := got.Read(g.ID, make([]int, len(shape)), shape, nil, gd); err != nil {
			t.Fatalf("%s over DAP: %v", w.Name, err)
		}
		if fmt.Sprint(wd) != fmt.Sprint(gd) {
			t.Errorf("%s: values differ over DAP", w.Name)
		}
	}
	// Hyperslabs of tas, strided, in the middle.
	wt, _ := want.Var("tas")
	gt, _ := got.Var("tas")
	for _, slab := range [][3][]int{
		{{0, 0, 0}, {1, 12, 9}, {1, 1, 1}},
		{{2, 1, 2}, {4, 5, 3}, {2, 2, 3}},
		{{9, 11, 8}, {1, 1, 1}, {1, 1, 1}},
	} {
		n := slab[1][0] * slab[1][1] * slab[1][2]
		wd, gd := make([]float64, n), make([]float64, n)
		if err := want.Read(wt.ID, slab[0], slab[1], slab[2], wd); err != nil {
			t.Fatal(err)
		}
		if err := got.Read(gt.ID, slab[0], slab[1], slab[2], gd); err != nil {
			t.Fatalf("hyperslab %v over DAP: %v", slab, err)
		}
		if fmt.Sprint(wd) != fmt.Sprint(gd) {
			t.Errorf("hyperslab %v differs over DAP", slab)
		}
	}
	// ncdump reads it too, with a constraint.
	out, err := exec.Command("ncdump", "-v", "lat", uri+"?lat").CombinedOutput()
	if err != nil || !strings.Contains(strings.Join(strings.Fields(string(out)), " "), "lat = -27.5, -22.5, -17.5, -12.5, -7.5, -2.5, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5 ;") {
		t.Errorf("ncdump over DAP: %v\n%s", err, out)
	}
	// Errors are DAP errors, not crashes.
	for _, c := range []struct {
		path   string
		status int
		want   string
	}{
		{".dods?tas[0:1:x]", 400, "constraint"},
		{".dods?tas[0:1:99][0][0]", 400, "tas"},
		{".dods?nope", 404, "nope"},
		{".dods?tas", 413, "more than the 8000 bytes"},
	} {
		resp, err := http.Get(uri + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != c.status || resp.Header.Get("Content-Description") != "dods-error" || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %q %s", c.path, resp.StatusCode, resp.Header.Get("Content-Description"), body)
		}
	}
	if page := get(t, uri+".html"); !strings.Contains(page, "tas") {
		t.Errorf("the HTML form page lacks the variable")
	}
}

// TestChainedJobs feeds one job's output URI to the next: the server reads
// its own output from disk, not over HTTP.
func TestChainedJobs(t *testing.T) {
	s := startServer(t)
	v := fmt.Sprintf(`[{"uri":"%s","id":"tas|v"}]`, filepath.Join(s.samples, "tas_day_2000.nc"))
	dom := `[{"id":"d","time":{"start":"2000-06","end":"2000-08","crs":"timestamps"},"lat":{"start":0,"end":60,"crs":"values"}}]`
	first := s.execute(t, "CDAT.subset", v, dom, `[{"name":"CDAT.subset","result":"s","domain":"d","input":["v"]}]`)
	chained := s.execute(t, "CDAT.average", fmt.Sprintf(`[{"uri":"%s","id":"tas|u"}]`, first), "[]",
		`[{"name":"CDAT.average","result":"a","input":["u"],"axes":"lat|lon"}]`)
	direct := s.execute(t, "CDAT.average", v, dom,
		`[{"name":"CDAT.average","result":"a","input":["s"],"axes":"lat|lon"},{"name":"CDAT.subset","result":"s","domain":"d","input":["v"]}]`)
	read := func(u string) []float64 {
		f := filepath.Join(t.TempDir(), "x.nc")
		os.WriteFile(f, []byte(get(t, u)), 0o644)
		nc, err := netcdf.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		tv, _ := nc.Var("tas")
		vals := make([]float64, tv.Shape()[0])
		nc.Read(tv.ID, []int{0}, tv.Shape(), nil, vals)
		return vals
	}
	a, b := read(chained), read(direct)
	if len(a) != 92 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("chained average (%d values) differs from the direct one (%d)", len(a), len(b))
	}
	// libnetcdf's DAP client starts with .dds: none means no job read over HTTP.
	if strings.Contains(s.logs.String(), `.nc.dds"`) {
		t.Errorf("the chained job read its input over OPeNDAP instead of from disk")
	}
}
