package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testPoll = 20 * time.Millisecond

// startRunner starts a runner that is stopped (gracefully, then by
// cancellation) when the test ends.
func startRunner(t *testing.T, s *Store, cfg RunnerConfig, run RunFunc) *Runner {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = testPoll
	}
	r, err := s.NewRunner(cfg, run)
	if err != nil {
		t.Fatalf("NewRunner: %v", err)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatalf("Runner.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("Runner.Stop: %v", err)
		}
	})
	return r
}

func stopRunner(t *testing.T, r *Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("Runner.Stop: %v", err)
	}
}

func waitDone(t *testing.T, s *Store, userID, jobID int64) Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	j, err := s.Wait(ctx, userID, jobID, 5*time.Millisecond)
	if err != nil {
		t.Fatalf("Wait(job %d): %v (state %s)", jobID, err, j.State)
	}
	return j
}

// calls counts RunFunc invocations per job.
type calls struct {
	mu sync.Mutex
	n  map[int64]int
}

func (c *calls) add(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[int64]int{}
	}
	c.n[id]++
}

func (c *calls) get(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id]
}

func (c *calls) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	sum := 0
	for _, n := range c.n {
		sum += n
	}
	return sum
}

func TestRunnerRunsEveryJobOnce(t *testing.T) { eachBackend(t, testRunnerRunsEveryJobOnce) }

func testRunnerRunsEveryJobOnce(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	u := mustUser(t, s, "alice")
	var jobs []Job
	for range 10 {
		jobs = append(jobs, mustSubmit(t, s, u.ID))
	}

	var seen calls
	var active, maxActive atomic.Int32
	var notStarted atomic.Int32
	run := func(ctx context.Context, job Job) error {
		n := active.Add(1)
		defer active.Add(-1)
		for m := maxActive.Load(); n > m && !maxActive.CompareAndSwap(m, n); m = maxActive.Load() {
		}
		seen.add(job.ID)
		if job.State != Started {
			notStarted.Add(1)
		}
		if err := s.Progress(ctx, job.ID, 50, "Processing"); err != nil {
			return err
		}
		time.Sleep(5 * time.Millisecond) // let jobs overlap
		_, err := s.Succeed(ctx, job.ID, []Output{{Name: "out.nc", Path: fmt.Sprintf("1/%d/out.nc", job.ID)}}, "done")
		return err
	}
	r := startRunner(t, s, RunnerConfig{Workers: 3}, run)
	// The other half arrives while workers hold the single SQLite connection
	// in turns: submissions and runs must interleave without deadlock.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			j, err := s.Submit(t.Context(), Submission{UserID: u.ID, Identifier: "CDAT.subset", DataInputs: `{}`})
			if err != nil {
				t.Errorf("Submit: %v", err)
				return
			}
			mu.Lock()
			jobs = append(jobs, j)
			mu.Unlock()
		})
	}
	wg.Wait()

	for _, j := range jobs {
		got := waitDone(t, s, u.ID, j.ID)
		if got.State != Succeeded || len(got.Outputs) != 1 || len(got.StatusIDs) != 3 {
			t.Errorf("job %d = %s, %d outputs, %d statuses", j.ID, got.State, len(got.Outputs), len(got.StatusIDs))
		}
	}
	stopRunner(t, r)

	for _, j := range jobs {
		if n := seen.get(j.ID); n != 1 {
			t.Errorf("job %d ran %d times", j.ID, n)
		}
	}
	if m := maxActive.Load(); m < 1 || m > 3 {
		t.Errorf("%d jobs ran at once with 3 workers", m)
	}
	if n := notStarted.Load(); n != 0 {
		t.Errorf("%d jobs were not Started when run", n)
	}
	for _, rj := range riverJobs(t, s) {
		if rj.State != "completed" || rj.Attempt != 1 {
			t.Errorf("River job %+v, want completed on attempt 1", rj)
		}
	}
}

func TestRunnerRecordsFailures(t *testing.T) { eachBackend(t, testRunnerRecordsFailures) }

func testRunnerRecordsFailures(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	u := mustUser(t, s, "alice")
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	errJob, panicJob, silentJob, okJob := mustSubmit(t, s, u.ID), mustSubmit(t, s, u.ID), mustSubmit(t, s, u.ID), mustSubmit(t, s, u.ID)
	var seen calls
	run := func(ctx context.Context, job Job) error {
		seen.add(job.ID)
		switch job.ID {
		case errJob.ID:
			return errors.New("variable tas not found in file x.nc")
		case panicJob.ID:
			panic("secret-panic-value")
		case silentJob.ID:
			return nil // forgot to Succeed
		}
		_, err := s.Succeed(ctx, job.ID, nil, "ok")
		return err
	}
	r := startRunner(t, s, RunnerConfig{Workers: 2, Logger: logger}, run)

	for _, tc := range []struct {
		job   Job
		state State
		msg   string
	}{
		{errJob, Failed, "variable tas not found in file x.nc"},
		{panicJob, Failed, "internal error"},
		{silentJob, Failed, "internal error: job finished without a result"},
		{okJob, Succeeded, "ok"},
	} {
		got := waitDone(t, s, u.ID, tc.job.ID)
		if got.State != tc.state || got.Message != tc.msg {
			t.Errorf("job %d: %s %q, want %s %q", got.ID, got.State, got.Message, tc.state, tc.msg)
		}
	}
	stopRunner(t, r) // everything River had fetched is finished now

	for _, j := range []Job{errJob, panicJob, silentJob, okJob} {
		if n := seen.get(j.ID); n != 1 {
			t.Errorf("job %d ran %d times, want once (no retries)", j.ID, n)
		}
	}
	for _, rj := range riverJobs(t, s) {
		if rj.Attempt != 1 || rj.State == "retryable" || rj.State == "available" {
			t.Errorf("River job %+v could run again", rj)
		}
	}
	if !strings.Contains(logs.String(), "secret-panic-value") {
		t.Error("the panic value was not logged")
	}
}

func TestRunnerSkipsDeletedJob(t *testing.T) { eachBackend(t, testRunnerSkipsDeletedJob) }

func testRunnerSkipsDeletedJob(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	u := mustUser(t, s, "alice")
	gone := mustSubmit(t, s, u.ID)
	if _, err := s.Delete(t.Context(), u.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	next := mustSubmit(t, s, u.ID)

	var seen calls
	r := startRunner(t, s, RunnerConfig{Workers: 1}, func(ctx context.Context, job Job) error {
		seen.add(job.ID)
		_, err := s.Succeed(ctx, job.ID, nil, "")
		return err
	})
	waitDone(t, s, u.ID, next.ID)
	stopRunner(t, r)

	if n := seen.get(gone.ID); n != 0 {
		t.Errorf("deleted job ran %d times", n)
	}
	if seen.total() != 1 {
		t.Errorf("%d runs, want 1", seen.total())
	}
	// The deleted job's ticket ran the next job; the spare one finds nothing
	// when it comes. No ticket failed.
	for _, rj := range riverJobs(t, s) {
		if rj.State != "completed" && rj.State != "available" {
			t.Errorf("River job %+v, want completed or available", rj)
		}
	}
}

// A job still running when Stop gives up waiting goes back to the queue,
// without using up an attempt, and another runner finishes it.
func TestRunnerStopHandsBackRunningJob(t *testing.T) {
	eachBackend(t, testRunnerStopHandsBackRunningJob)
}

func testRunnerStopHandsBackRunningJob(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	u := mustUser(t, s, "alice")
	j := mustSubmit(t, s, u.ID)

	started := make(chan struct{})
	var sawCancel atomic.Bool
	r := startRunner(t, s, RunnerConfig{Workers: 1, Name: "first"}, func(ctx context.Context, job Job) error {
		close(started)
		<-ctx.Done()
		sawCancel.Store(true)
		return ctx.Err()
	})
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("job never started")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !sawCancel.Load() {
		t.Error("the running job did not see cancellation")
	}
	got := mustGet(t, s, u.ID, j.ID)
	if got.State != Started || got.Worker != "" || got.Attempt != 0 || got.Message != msgHandedBack {
		t.Fatalf("handed back job: %+v", got)
	}

	var attempts []int
	startRunner(t, s, RunnerConfig{Workers: 1, Name: "second"}, func(ctx context.Context, job Job) error {
		attempts = append(attempts, job.Attempt)
		_, err := s.Succeed(ctx, job.ID, nil, "finished by the second runner")
		return err
	})
	got = waitDone(t, s, u.ID, j.ID)
	if got.State != Succeeded || got.Attempt != 1 || !reflect.DeepEqual(attempts, []int{1}) {
		t.Errorf("job %s at attempt %d, runs %v; want Succeeded at attempt 1", got.State, got.Attempt, attempts)
	}
}

func TestRunnerStopWaitsForRunningJob(t *testing.T) { eachBackend(t, testRunnerStopWaitsForRunningJob) }

func testRunnerStopWaitsForRunningJob(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	u := mustUser(t, s, "alice")
	j := mustSubmit(t, s, u.ID)

	started, release := make(chan struct{}), make(chan struct{})
	r := startRunner(t, s, RunnerConfig{Workers: 1}, func(ctx context.Context, job Job) error {
		close(started)
		<-release
		_, err := s.Succeed(ctx, job.ID, nil, "finished during shutdown")
		return err
	})
	<-started
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(release)
	}()
	stopRunner(t, r) // graceful: the job is allowed to finish
	if got := mustGet(t, s, u.ID, j.ID); got.State != Succeeded {
		t.Errorf("job finished as %s %q", got.State, got.Message)
	}
}

// TestDurability: a job submitted while no runner works survives a restart.
func TestDurability(t *testing.T) {
	dir := t.TempDir()
	s1, err := Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, s1, "alice")
	j := mustSubmit(t, s1, u.ID)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openStoreAt(t, "", dir)
	startRunner(t, s2, RunnerConfig{Workers: 1}, func(ctx context.Context, job Job) error {
		_, err := s2.Succeed(ctx, job.ID, nil, "after restart")
		return err
	})
	if got := waitDone(t, s2, u.ID, j.ID); got.State != Succeeded || got.Message != "after restart" {
		t.Errorf("job after restart: %s %q", got.State, got.Message)
	}
}

func TestNewRunnerValidates(t *testing.T) {
	s := openSQLiteStore(t)
	if _, err := s.NewRunner(RunnerConfig{}, nil); err == nil {
		t.Error("nil RunFunc accepted")
	}
	if _, err := s.NewRunner(RunnerConfig{Workers: -1}, func(context.Context, Job) error { return nil }); err == nil {
		t.Error("negative workers accepted")
	}
}

// syncBuffer is a bytes.Buffer safe for a logger writing from worker goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A job reached only after shutdown began is handed back untouched, so the
// next runner starts it from scratch.
func TestRunnerRequeuesJobReachedDuringShutdown(t *testing.T) {
	s := openSQLiteStore(t)
	u := mustUser(t, s, "alice")
	j := mustSubmit(t, s, u.ID)
	var seen calls
	r, err := s.NewRunner(RunnerConfig{}, func(_ context.Context, job Job) error {
		seen.add(job.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.execute(ctx, j.ID); !errors.Is(err, errRequeue) {
		t.Errorf("execute with a cancelled context = %v, want errRequeue", err)
	}
	if seen.total() != 0 {
		t.Error("run was called")
	}
	if got := mustGet(t, s, u.ID, j.ID); got.State != Accepted {
		t.Errorf("job is %s, want %s", got.State, Accepted)
	}
}
