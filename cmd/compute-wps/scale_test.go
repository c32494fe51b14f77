package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/jobs/pgtest"
	"github.com/computewps/computewps/internal/netcdf"
)

// TestScaleOutOnPostgreSQL: a server and two worker processes share a
// PostgreSQL job store and DATA_PATH; 50 jobs are submitted and one worker
// is killed with SIGKILL in the middle of a job. Every job must succeed,
// with the right result, once: the killed worker's job is taken over by
// the other after its lease ends.
func TestScaleOutOnPostgreSQL(t *testing.T) {
	dsn := pgtest.DSN(t)
	data := t.TempDir()
	samples := filepath.Join(data, "sample")
	if out, code := run(t, nil, "sample", samples); code != 0 {
		t.Fatalf("sample: %s", out)
	}
	// A year of daily data on a 1° grid (95 MB), so a job lasts long enough
	// to be killed in the middle.
	big := filepath.Join(samples, "tas_1deg.nc")
	if out, err := exec.Command("cdo", "-s", "-f", "nc4", "remapbil,r360x180", filepath.Join(samples, "tas_day_2000.nc"), big).CombinedOutput(); err != nil {
		t.Fatalf("cdo: %v %s", err, out)
	}
	ref := filepath.Join(data, "ref.nc")
	if out, err := exec.Command("cdo", "-s", "timmean", big, ref).CombinedOutput(); err != nil {
		t.Fatalf("cdo: %v %s", err, out)
	}
	addr := freeAddr(t)
	base := "http://" + addr
	env := []string{"PATH=" + os.Getenv("PATH"), "AUTH_ENABLED=false", "DATA_PATH=" + data, "DATABASE_URL=" + dsn,
		"WPS_DATA_ROOTS=" + samples, "WPS_BASE_URL=" + base, "WPS_ADDR=" + addr, "WPS_USER_MAX_QUEUED=0",
		"WPS_JOB_LEASE=2s", "WPS_READ_PROCESSES=1",
		// Small slabs make each job last long enough to be killed in the middle.
		"WPS_SLAB_BYTES=65536"}
	if out, code := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", out)
	}
	start := func(what, workers string) (*exec.Cmd, *syncBuffer) {
		cmd := exec.Command(binary, what)
		logs := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		cmd.Env = append(env, "WPS_WORKERS="+workers)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, logs
	}
	_, serverLog := start("serve", "0")
	waitReady(t, base+"/wps/api/ping/")
	victim, victimLog := start("worker", "2")
	_, survivorLog := start("worker", "2")

	v := fmt.Sprintf(`[{"uri":"%s","id":"tas|v"}]`, big)
	q := url.Values{"service": {"WPS"}, "request": {"Execute"}, "version": {"1.0.0"}, "identifier": {"CDAT.mean"},
		"DataInputs": {"variable=" + v + `;domain=[];operation=[{"name":"CDAT.mean","result":"m","input":["v"],"axes":"time"}]`}}
	var locations []string
	for i := 0; i < 50; i++ {
		locations = append(locations, attr(t, get(t, base+"/wps?"+q.Encode()), "statusLocation"))
	}
	// Kill the victim while it runs a job: right after it logs a start.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(victimLog.String(), `"msg":"job started"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the first worker never started a job:\n%s", victimLog.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	victim.Process.Signal(syscall.SIGKILL)
	victim.Wait()

	var retried int
	for _, loc := range locations {
		var status string
		for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if status = get(t, loc); strings.Contains(status, "ProcessSucceeded") || strings.Contains(status, "ProcessFailed") {
				break
			}
		}
		if !strings.Contains(status, "ProcessSucceeded") {
			t.Fatalf("job %s did not succeed:\n%s\nserver:\n%s\nsurvivor:\n%s", loc, status, serverLog.String(), survivorLog.String())
		}
		id := loc[strings.LastIndex(loc, "/")+1 : len(loc)-len(".wps")]
		var job struct {
			Attempt int `json:"attempt"`
			Output  []struct {
				Download string `json:"download"`
			} `json:"output"`
			StatusLinks []string `json:"status_links"`
		}
		if err := json.Unmarshal([]byte(get(t, base+"/wps/api/job/"+id+"/")), &job); err != nil {
			t.Fatal(err)
		}
		if len(job.Output) != 1 {
			t.Fatalf("job %s has %d outputs, want 1", id, len(job.Output))
		}
		files, _ := filepath.Glob(filepath.Join(data, "1", id, "*.nc"))
		if len(files) != 1 {
			t.Errorf("job %s left %d files, want its one output: %v", id, len(files), files)
		}
		if job.Attempt > 1 {
			retried++
			var messages []string
			for _, l := range job.StatusLinks {
				messages = append(messages, get(t, l))
			}
			if !strings.Contains(strings.Join(messages, " "), "Retrying after the worker running it stopped") {
				t.Errorf("retried job %s does not say why", id)
			}
		}
		if id == "1" || job.Attempt > 1 {
			checkMean(t, job.Output[0].Download, ref)
		}
	}
	if retried == 0 {
		t.Errorf("no job was taken over after the SIGKILL; the test did not exercise recovery")
	}
	t.Logf("50 jobs succeeded; %d taken over after the SIGKILL", retried)
}

// checkMean compares a job's time mean with CDO's.
func checkMean(t *testing.T, uri, ref string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "out.nc")
	os.WriteFile(file, []byte(get(t, uri)), 0o644)
	read := func(p string) []float64 {
		f, err := netcdf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		v, _ := f.Var("tas")
		shape := v.Shape()
		n := 1
		for _, s := range shape {
			n *= s
		}
		out := make([]float64, n)
		if err := f.Read(v.ID, make([]int, len(shape)), shape, nil, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got, want := read(file), read(ref)
	if len(got) != len(want) {
		t.Fatalf("%d values, CDO %d", len(got), len(want))
	}
	for i := range got {
		if d := got[i] - want[i]; d > 1e-3 || d < -1e-3 {
			t.Fatalf("value %d: %v, CDO %v", i, got[i], want[i])
		}
	}
}

// TestCancelRunningJob: DELETE on a running job stops it within seconds,
// marks it dismissed and removes its files.
func TestCancelRunningJob(t *testing.T) {
	s := startServer(t, "WPS_SLAB_BYTES=65536", "WPS_READ_PROCESSES=1")
	big := filepath.Join(s.samples, "tas_1deg.nc")
	if out, err := exec.Command("cdo", "-s", "-f", "nc4", "remapbil,r720x360", filepath.Join(s.samples, "tas_day_2000.nc"), big).CombinedOutput(); err != nil {
		t.Fatalf("cdo: %v %s", err, out)
	}
	v := fmt.Sprintf(`[{"uri":"%s","id":"tas|v"}]`, big)
	q := url.Values{"service": {"WPS"}, "request": {"Execute"}, "version": {"1.0.0"}, "identifier": {"CDAT.mean"},
		"DataInputs": {"variable=" + v + `;domain=[];operation=[{"name":"CDAT.mean","result":"m","input":["v"],"axes":"time"}]`}}
	loc := attr(t, get(t, s.base+"/wps?"+q.Encode()), "statusLocation")
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(get(t, loc), "ProcessStarted"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the job never started")
		}
	}
	id := loc[strings.LastIndex(loc, "/")+1 : len(loc)-len(".wps")]
	req, _ := http.NewRequest(http.MethodDelete, s.base+"/wps/api/job/"+id+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", err, resp)
	}
	dismissed := time.Now()
	var status string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if status = get(t, loc); strings.Contains(status, "ProcessFailed") {
			break
		}
	}
	if !strings.Contains(status, "Dismissed by its owner") {
		t.Fatalf("after DELETE:\n%s", status)
	}
	t.Logf("the running job stopped %v after DELETE", time.Since(dismissed).Round(time.Millisecond))
	var job struct {
		Dismissed *string `json:"dismissed"`
		Output    []any   `json:"output"`
	}
	json.Unmarshal([]byte(get(t, s.base+"/wps/api/job/"+id+"/")), &job)
	if job.Dismissed == nil || len(job.Output) != 0 {
		t.Errorf("job after dismissal: %+v", job)
	}
	time.Sleep(500 * time.Millisecond) // the stopped attempt removes nothing it should keep
	if files, _ := filepath.Glob(filepath.Join(filepath.Dir(s.samples), "1", id, "*")); len(files) != 0 {
		t.Errorf("files left after dismissal: %v", files)
	}
}
