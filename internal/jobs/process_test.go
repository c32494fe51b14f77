package jobs

// Tests with real worker processes: the test binary re-executes itself as a
// worker (TestMain sees childEnv), so a worker can be killed with SIGKILL
// mid-job as a crashed or OOM-killed one would be.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/jobs/pgtest"
)

const (
	childEnv    = "JOBS_TEST_WORKER_DB" // the database URL; set only in worker processes
	markersEnv  = "JOBS_TEST_MARKERS"   // directory of marker files
	nameEnv     = "JOBS_TEST_NAME"
	workersEnv  = "JOBS_TEST_WORKERS"
	childLease  = 2 * time.Second
	childChecks = 100 * time.Millisecond
)

// childWorker is a worker process. Its jobs say what to do in their process
// identifier: "sleep:<ms>" works that long and succeeds, "block" waits to be
// stopped, "crash" kills its own process. Every attempt leaves marker files
// named <job>_<attempt>_<pid>_<event>, holding the time in Unix ns and a
// detail, for the parent to check.
func childWorker() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	markers := os.Getenv(markersEnv)
	s, err := Open(ctx, os.Getenv(childEnv), markers)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	defer s.Close()
	workers, _ := strconv.Atoi(os.Getenv(workersEnv))
	mark := func(job Job, event, detail string) {
		name := fmt.Sprintf("%d_%d_%d_%s", job.ID, job.Attempt, os.Getpid(), event)
		body := fmt.Sprintf("%d %s", time.Now().UnixNano(), detail)
		// Written then renamed, so the test never reads a half-written marker.
		tmp := filepath.Join(markers, "."+name)
		if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
		}
		if err := os.Rename(tmp, filepath.Join(markers, name)); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
		}
	}
	run := func(ctx context.Context, job Job) error {
		mark(job, "start", "")
		var wait <-chan time.Time // nil: block until stopped
		switch kind, arg, _ := strings.Cut(job.Identifier, ":"); kind {
		case "crash":
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		case "sleep":
			ms, _ := strconv.Atoi(arg)
			wait = time.After(time.Duration(ms) * time.Millisecond)
		}
		select {
		case <-wait:
		case <-ctx.Done():
			mark(job, "stopped", context.Cause(ctx).Error())
			return ctx.Err()
		}
		_, err := s.Succeed(ctx, job.ID, []Output{{Name: "out.nc", Path: JobDir(job.UserID, job.ID) + "/out.nc"}}, "done")
		if err != nil {
			mark(job, "refused", err.Error())
			return err
		}
		mark(job, "end", "")
		return nil
	}
	r, err := s.NewRunner(RunnerConfig{Workers: workers, PollInterval: 50 * time.Millisecond, Lease: childLease,
		Attempts: 3, CheckInterval: childChecks, Name: os.Getenv(nameEnv)}, run)
	if err == nil {
		err = r.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.Stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "worker: stop:", err)
		return 1
	}
	return 0
}

// child is a running worker process.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func startChild(t *testing.T, dsn, markers, name string, workers int) *child {
	t.Helper()
	log := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dsn, markersEnv+"="+markers, nameEnv+"="+name,
		workersEnv+"="+strconv.Itoa(workers))
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{}), log: log}
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.done
		if t.Failed() {
			out, _ := os.ReadFile(log)
			t.Logf("%s (pid %d) log:\n%s", name, cmd.Process.Pid, out)
		}
	})
	return c
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill kills the worker as the kernel's OOM killer would, and returns when.
func (c *child) kill(t *testing.T) time.Time {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
	return time.Now()
}

// stop stops the worker gracefully (SIGTERM) and waits for it.
func (c *child) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop on SIGTERM")
	}
	if code := c.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("worker exited with %d", code)
	}
}

// marker is one marker file.
type marker struct {
	job     int64
	attempt int
	pid     int
	event   string
	at      time.Time
	detail  string
}

func readMarkers(t *testing.T, dir string) []marker {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var list []marker
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") { // still being written
			continue
		}
		parts := strings.Split(e.Name(), "_")
		if len(parts) != 4 {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		ns, detail, _ := strings.Cut(string(body), " ")
		n, _ := strconv.ParseInt(ns, 10, 64)
		var m marker
		m.job, _ = strconv.ParseInt(parts[0], 10, 64)
		m.attempt, _ = strconv.Atoi(parts[1])
		m.pid, _ = strconv.Atoi(parts[2])
		m.event, m.at, m.detail = parts[3], time.Unix(0, n), detail
		list = append(list, m)
	}
	return list
}

// waitMarker polls until a marker matches, or fails the test after limit.
func waitMarker(t *testing.T, dir string, limit time.Duration, match func(marker) bool) marker {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, m := range readMarkers(t, dir) {
			if match(m) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no matching marker within %v", limit)
	return marker{}
}

func waitAll(t *testing.T, s *Store, userID int64, jobs []Job, limit time.Duration) map[int64]Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	done := map[int64]Job{}
	for _, j := range jobs {
		got, err := s.Wait(ctx, userID, j.ID, 20*time.Millisecond)
		if err != nil {
			t.Fatalf("job %d: %v (state %s, %q)", j.ID, err, got.State, got.Message)
		}
		done[j.ID] = got
	}
	return done
}

func submitAs(t *testing.T, s *Store, userID int64, identifier string) Job {
	t.Helper()
	j, err := s.Submit(t.Context(), Submission{UserID: userID, Identifier: identifier, DataInputs: `{}`})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestWorkerKilledMidJob: with two worker processes, one is killed with
// SIGKILL while it runs jobs. The survivor takes those jobs over once their
// leases expire and runs them again from the start; every job succeeds
// exactly once, and no job ever runs in two processes at a time.
func TestWorkerKilledMidJob(t *testing.T) {
	t.Parallel()
	eachDSN(t, func(t *testing.T, dsn string) {
		markers := t.TempDir()
		s := openStoreAt(t, dsn, markers)
		u := mustUser(t, s, "alice")
		var jobs []Job
		for range 8 {
			jobs = append(jobs, submitAs(t, s, u.ID, "sleep:1000"))
		}
		victim := startChild(t, dsn, markers, "victim", 2)
		// The victim starts first and takes two jobs before the survivor runs.
		waitMarker(t, markers, 30*time.Second, func(m marker) bool { return m.pid == victim.pid() && m.event == "start" })
		survivor := startChild(t, dsn, markers, "survivor", 2)
		time.Sleep(300 * time.Millisecond) // mid-job
		killed := victim.kill(t)

		done := waitAll(t, s, u.ID, jobs, 60*time.Second)
		survivor.stop(t)

		byJob := map[int64][]marker{}
		for _, m := range readMarkers(t, markers) {
			byJob[m.job] = append(byJob[m.job], m)
		}
		var retried int
		for _, j := range jobs {
			got := done[j.ID]
			if got.State != Succeeded || len(got.Outputs) != 1 {
				t.Errorf("job %d: %s %q with %d outputs", j.ID, got.State, got.Message, len(got.Outputs))
			}
			type run struct{ start, end time.Time }
			runs := map[string]*run{} // by attempt and pid
			var ends int
			for _, m := range byJob[j.ID] {
				key := fmt.Sprintf("%d/%d", m.attempt, m.pid)
				if runs[key] == nil {
					runs[key] = &run{}
				}
				switch m.event {
				case "start":
					runs[key].start = m.at
				case "end":
					ends++
					runs[key].end = m.at
				default:
					t.Errorf("job %d attempt %d: %s %s", j.ID, m.attempt, m.event, m.detail)
				}
			}
			if ends != 1 {
				t.Errorf("job %d succeeded in %d attempts, want exactly 1", j.ID, ends)
			}
			var list []run
			for _, r := range runs {
				if r.end.IsZero() {
					r.end = killed // the victim's attempts ended with it
				}
				list = append(list, *r)
			}
			sort.Slice(list, func(a, b int) bool { return list[a].start.Before(list[b].start) })
			for i := 1; i < len(list); i++ {
				if list[i].start.Before(list[i-1].end) {
					t.Errorf("job %d ran twice at once: %+v", j.ID, list)
				}
			}
			if len(list) > 1 {
				retried++
				if got.Attempt != len(list) {
					t.Errorf("job %d: Attempt %d after %d runs", j.ID, got.Attempt, len(list))
				}
				msgs := strings.Join(messagesOf(t, s, u.ID, j.ID), "\n")
				if !strings.Contains(msgs, "Retrying after the worker running it stopped (attempt 2 of 3)") {
					t.Errorf("job %d: messages %q", j.ID, msgs)
				}
			}
		}
		if retried == 0 {
			t.Error("no job was running in the killed worker")
		}
		t.Logf("%d of %d jobs ran again after the kill", retried, len(jobs))
	})
}

// TestWorkerKeepsDying: a job that kills every worker running it fails after
// three attempts with a message that says so, while workers are restarted as
// a service manager would.
func TestWorkerKeepsDying(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	markers := t.TempDir()
	s := openStoreAt(t, dsn, markers)
	u := mustUser(t, s, "alice")
	j := submitAs(t, s, u.ID, "crash")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var got Job
	for n := 0; ; n++ {
		w := startChild(t, dsn, markers, fmt.Sprintf("worker%d", n), 1)
		var err error
		for !w.exited() {
			if got, err = s.Get(ctx, u.ID, j.ID); err != nil {
				t.Fatal(err)
			}
			if got.State.Done() {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("job still %s after %d workers: %q", got.State, n+1, got.Message)
			case <-time.After(20 * time.Millisecond):
			}
		}
		if got.State.Done() {
			w.stop(t)
			break
		}
	}
	if got.State != Failed || got.Attempt != 3 ||
		got.Message != "Failed after 3 attempts: each time, the worker running the job stopped before it finished" {
		t.Errorf("job %s at attempt %d: %q", got.State, got.Attempt, got.Message)
	}
	want := []string{
		"Retrying after the worker running it stopped (attempt 2 of 3)",
		"Retrying after the worker running it stopped (attempt 3 of 3)",
		"Failed after 3 attempts: each time, the worker running the job stopped before it finished",
	}
	if msgs := messagesOf(t, s, u.ID, j.ID); strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages %q, want %q", msgs, want)
	}
	starts := 0
	for _, m := range readMarkers(t, markers) {
		if m.event == "start" {
			starts++
		}
	}
	if starts != 3 {
		t.Errorf("the job started %d times, want 3", starts)
	}
}

// TestCancelInAnotherProcess: dismissing a job stops its attempt in the
// worker process running it within a few check intervals.
func TestCancelInAnotherProcess(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	markers := t.TempDir()
	s := openStoreAt(t, dsn, markers)
	u := mustUser(t, s, "alice")
	j := submitAs(t, s, u.ID, "block")
	w := startChild(t, dsn, markers, "worker", 1)
	waitMarker(t, markers, 30*time.Second, func(m marker) bool { return m.job == j.ID && m.event == "start" })

	d, err := s.Cancel(t.Context(), u.ID, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	cancelled := time.Now()
	if !d.WasRunning || d.Job.State != Failed || d.Job.Message != "Dismissed by its owner" {
		t.Errorf("dismissal %+v", d)
	}
	m := waitMarker(t, markers, 10*time.Second, func(m marker) bool { return m.job == j.ID && m.event == "stopped" })
	if !strings.Contains(m.detail, "dismissed by its owner") {
		t.Errorf("the attempt stopped because %q", m.detail)
	}
	t.Logf("the attempt stopped %v after Cancel", m.at.Sub(cancelled).Round(time.Millisecond))
	w.stop(t)
	if got := mustGet(t, s, u.ID, j.ID); got.State != Failed || got.Message != "Dismissed by its owner" || got.Outputs != nil {
		t.Errorf("job after dismissal %+v", got)
	}
}

// eachDSN runs fn with a fresh database of each backend shared by processes:
// a PostgreSQL database, or a SQLite file.
func eachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		fn(t, "sqlite://"+filepath.Join(t.TempDir(), "jobs.db"))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		t.Parallel()
		fn(t, pgtest.DSN(t))
	})
}
