package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/sample"
)

// The tests of this package run the cwt binary as a user does, against the
// real compute-wps binary on 127.0.0.1 (and, for logins, real identity
// providers and headless Chromium: auth_test.go).

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cwt-cli-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var builds sync.Map // package -> *built

type built struct {
	once sync.Once
	path string
	err  error
}

// binary builds a command of this module once per test run, when a test
// first needs it.
func binary(t *testing.T, pkg, name string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &built{})
	b := v.(*built)
	b.once.Do(func() {
		b.path = filepath.Join(binDir, name)
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		out, err := exec.Command(gobin, "build", "-ldflags", "-X main.version=test", "-o", b.path, pkg).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("building %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func cwtBin(t *testing.T) string    { return binary(t, ".", "cwt") }
func serverBin(t *testing.T) string { return binary(t, "../compute-wps", "compute-wps") }

// server is a running compute-wps.
type server struct {
	url     string // the WPS endpoint
	samples string
	logs    *syncBuffer
}

// startServer runs compute-wps serve on a free loopback port with the
// sample data and the given settings.
func startServer(t *testing.T, settings map[string]string) *server {
	t.Helper()
	data := t.TempDir()
	samples := filepath.Join(data, "sample")
	if _, err := sample.Ensure(samples); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + data, "DATA_PATH=" + data, "WPS_ADDR=" + addr,
		"WPS_DATA_ROOTS=" + samples, "WPS_WORKERS=2", "WPS_LOG_FORMAT=text"}
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(serverBin(t), "serve")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr, cmd.Env = logs, logs, env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(base + "/wps/api/ping/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("compute-wps did not start:\n%s", logs.String())
		}
	}
	return &server{url: base + "/wps", samples: samples, logs: logs}
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

// user is a shell session: its own home and credential file.
type user struct {
	t    *testing.T
	home string
	env  []string
}

func newUser(t *testing.T, env ...string) *user {
	home := t.TempDir()
	return &user{t: t, home: home, env: append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}, env...)}
}

type result struct {
	stdout, stderr string
	code           int
}

// cwt runs the binary to its end.
func (u *user) cwt(stdin string, args ...string) result {
	u.t.Helper()
	cmd := exec.Command(cwtBin(u.t), args...)
	cmd.Env = u.env
	cmd.Dir = u.home
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// ok runs cwt and fails the test unless it exits 0.
func (u *user) ok(args ...string) string {
	u.t.Helper()
	r := u.cwt("", args...)
	if r.code != 0 {
		u.t.Fatalf("cwt %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs cwt and checks its exit code and that stderr says what.
func (u *user) fails(code int, want string, args ...string) result {
	u.t.Helper()
	r := u.cwt("", args...)
	if r.code != code || !strings.Contains(r.stderr, want) {
		u.t.Errorf("cwt %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, want, r.stdout, r.stderr)
	}
	return r
}

// background starts cwt and returns a channel of the lines it writes to
// stderr, and a wait function for its end.
func (u *user) background(stdin io.Reader, args ...string) (<-chan string, func() result) {
	u.t.Helper()
	cmd := exec.Command(cwtBin(u.t), args...)
	cmd.Env, cmd.Dir, cmd.Stdin = u.env, u.home, stdin
	var out bytes.Buffer
	cmd.Stdout = &out
	pipe, err := cmd.StderrPipe()
	if err != nil {
		u.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		u.t.Fatal(err)
	}
	u.t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 100)
	var all strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	return lines, func() result {
		<-done
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{out.String(), all.String(), code}
	}
}

// addressIn returns the first printed address (an indented http URL).
func addressIn(t *testing.T, lines <-chan string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("cwt ended without printing an address")
			}
			if s := strings.TrimSpace(l); strings.HasPrefix(s, "http://") {
				return s
			}
		case <-timeout:
			t.Fatal("cwt printed no address within 20 s")
		}
	}
}

type execJSON struct {
	Job            int64  `json:"job"`
	Process        string `json:"process"`
	Status         string `json:"status"`
	Message        string `json:"message"`
	StatusLocation string `json:"status_location"`
	Outputs        []struct {
		URI string `json:"uri"`
		ID  string `json:"id"`
	} `json:"outputs"`
	Error string `json:"error"`
}

type jobsJSON struct {
	Count   int `json:"count"`
	Results []struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	} `json:"results"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not the JSON expected: %v\n%s", err, s)
	}
	return v
}

// TestShellSession is the README's session, auth off: list, describe,
// execute and wait, status, jobs, download (the values compared with the
// sample data), cancel; and the exit codes of what goes wrong.
func TestShellSession(t *testing.T) {
	srv := startServer(t, map[string]string{"AUTH_ENABLED": "false"})
	u := newUser(t, "CWT_URL="+srv.url)
	tas := filepath.Join(srv.samples, "tas_day_2000.nc")

	if out := u.ok("processes", "--filter", "subset|aggregate"); !strings.Contains(out, "CDAT.subset") || !strings.Contains(out, "CDAT.aggregate") || strings.Contains(out, "CDAT.max") {
		t.Errorf("processes --filter:\n%s", out)
	}
	if out := u.ok("describe", "CDAT.subset"); !strings.Contains(out, "CDAT.subset (version 1.0.0)") || !strings.Contains(out, "operation") {
		t.Errorf("describe:\n%s", out)
	}

	// Five days, lat -10..10 (four rows), the first four longitudes.
	res := decode[execJSON](t, u.ok("execute", "CDAT.subset", "--var", tas+":tas",
		"--domain", "time=2000-01-01:2000-01-05,lat=-10:10,lon=i0:4", "--wait", "--json"))
	if res.Status != "ProcessSucceeded" || res.Job == 0 || len(res.Outputs) != 1 || !strings.HasPrefix(res.Outputs[0].ID, "tas|") {
		t.Fatalf("execute --wait --json: %+v", res)
	}
	job := fmt.Sprint(res.Job)
	if out := u.ok("status", job); !strings.Contains(out, "ProcessSucceeded") || !strings.Contains(out, "Output CDAT.subset_") {
		t.Errorf("status:\n%s", out)
	}
	dir := filepath.Join(u.home, "results")
	files := strings.Fields(u.ok("download", job, "-o", dir))
	if len(files) != 1 {
		t.Fatalf("download printed %v", files)
	}
	checkSubset(t, files[0], 5, 16, 4, 0, 4)
	if st, err := os.Stat(files[0]); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("downloaded file: %v %v", st, err)
	}

	// Without --wait: the job id at once; status --wait follows it. The
	// same request as a KVP GET.
	r := u.cwt("", "execute", "CDAT.average", "--var", tas+":tas", "--domain", "time=i0:10", "--param", "axes=time", "--get")
	if r.code != 0 || !strings.Contains(r.stdout, "accepted (CDAT.average)") || !strings.Contains(r.stderr, "cwt status") {
		t.Fatalf("execute: %+v", r)
	}
	second := strings.Fields(r.stdout)[1]
	if out := u.ok("status", second, "--wait"); !strings.Contains(out, "Job "+second+" succeeded") || !strings.Contains(out, "http://") {
		t.Errorf("status --wait:\n%s", out)
	}
	jobs := decode[jobsJSON](t, u.ok("jobs", "--json", "--limit", "1"))
	if jobs.Count != 2 || len(jobs.Results) != 1 || fmt.Sprint(jobs.Results[0].ID) != second {
		t.Errorf("jobs --limit 1: %+v", jobs)
	}
	if out := u.ok("jobs", "--all"); strings.Count(out, "ProcessSucceeded") != 2 {
		t.Errorf("jobs --all:\n%s", out)
	}

	// A job that fails: exit 3 with the server's reason, also in --json.
	r = u.fails(exitJobFailed, "selects nothing", "execute", "CDAT.subset", "--var", tas+":tas", "--domain", "lat=100:120", "--wait", "--json")
	if f := decode[execJSON](t, r.stdout); f.Status != "ProcessFailed" || !strings.Contains(f.Error, "selects nothing") {
		t.Errorf("failed job JSON: %+v", f)
	}
	failed := fmt.Sprint(decode[execJSON](t, r.stdout).Job)
	u.fails(exitJobFailed, "failed", "status", failed)
	u.fails(exitJobFailed, "failed", "download", failed)

	// Waiting runs out: exit 5, and the job goes on.
	u.fails(exitTimeout, "cwt status JOB --wait", "execute", "CDAT.subset", "--var", tas+":tas", "--wait", "--timeout", "50ms")

	// Usage errors: exit 2, saying what is wrong.
	u.fails(exitUsage, "too many parts", "execute", "CDAT.subset", "--var", tas+":tas", "--domain", "time=2000-01-01T00:00:00:2000-01-02")
	u.fails(exitUsage, "URI:VAR", "execute", "CDAT.subset", "--var", tas)
	u.fails(exitUsage, "not a job id", "status", "latest")
	u.fails(exitUsage, "unknown command", "frobnicate")
	// The server refuses a request: exit 1 with its reason.
	u.fails(exitError, "unknown process", "execute", "CDAT.nothing", "--var", tas+":tas")

	// cancel dismisses the job and deletes its files; the record stays.
	if out := u.ok("cancel", job); !strings.Contains(out, "Dismissed job "+job) {
		t.Errorf("cancel: %s", out)
	}
	if out := u.ok("status", job); strings.Contains(out, res.Outputs[0].URI) {
		t.Errorf("status of a dismissed job still lists its output: %s", out)
	}
	resp, err := http.Get(res.Outputs[0].URI)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("the output of a deleted job: %d", resp.StatusCode)
	}

	// No server there: exit 1 with what to check.
	u.fails(exitError, "check that the server runs", "--url", "http://127.0.0.1:1/wps", "processes")
	newUser(t).fails(exitUsage, "no server given", "jobs")
}

// checkSubset compares the file's tas with the sample's values for days
// [0,days), latitude rows [j0,j0+nj) and longitudes [i0,i0+ni).
func checkSubset(t *testing.T, path string, days, j0, nj, i0, ni int) {
	t.Helper()
	f, err := netcdf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := f.Var("tas")
	if err != nil {
		t.Fatal(err)
	}
	var shape []int
	for _, d := range v.Dims {
		shape = append(shape, d.Len)
	}
	if fmt.Sprint(shape) != fmt.Sprint([]int{days, nj, ni}) {
		t.Fatalf("tas has shape %v, want %v", shape, []int{days, nj, ni})
	}
	got := make([]float64, days*nj*ni)
	if err := f.Read(v.ID, []int{0, 0, 0}, shape, nil, got); err != nil {
		t.Fatal(err)
	}
	for d := 0; d < days; d++ {
		for j := 0; j < nj; j++ {
			for i := 0; i < ni; i++ {
				want := sample.Tas(d, j0+j, i0+i)
				if g := got[(d*nj+j)*ni+i]; math.Abs(g-want) > 1e-4 {
					t.Fatalf("tas[%d,%d,%d] = %v, want %v", d, j, i, g, want)
				}
			}
		}
	}
}

// syncBuffer collects a child's output while the test reads it.
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
