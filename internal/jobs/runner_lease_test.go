package jobs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// Runner tests of dismissal, fairness, limits, leases and expiry, on every
// backend.

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Dismissing a running job cancels its context with a cause that says so;
// the runner records nothing over the dismissal.
func TestRunnerCancelRunningJob(t *testing.T) { eachBackend(t, testRunnerCancelRunningJob) }

func testRunnerCancelRunningJob(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	u := mustUser(t, s, "alice")
	j := mustSubmit(t, s, u.ID)
	started, stopped := make(chan struct{}), make(chan error, 1)
	startRunner(t, s, RunnerConfig{Workers: 1}, func(ctx context.Context, job Job) error {
		close(started)
		<-ctx.Done()
		_, err := s.Succeed(ctx, job.ID, []Output{{Name: "late.nc", Path: "late.nc"}}, "too late")
		stopped <- context.Cause(ctx)
		return err
	})
	<-started
	d, err := s.Cancel(t.Context(), u.ID, j.ID)
	must(t, err)
	if !d.WasRunning {
		t.Error("dismissal of a running job says it was not running")
	}
	select {
	case cause := <-stopped:
		if !errors.Is(cause, errDismissed) {
			t.Errorf("the job stopped because %v", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the dismissed job kept running")
	}
	got := mustGet(t, s, u.ID, j.ID)
	if got.State != Failed || got.Message != msgDismissed || got.Outputs != nil || got.Dismissed == nil {
		t.Errorf("dismissed job %+v", got)
	}
}

// TestRunnerFairScheduling: user B's one job, submitted after user A queued
// twenty, starts as soon as a worker is free, not after A's jobs.
func TestRunnerFairScheduling(t *testing.T) { eachBackend(t, testRunnerFairScheduling) }

func testRunnerFairScheduling(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	a, b := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	var aJobs []Job
	for range 20 {
		aJobs = append(aJobs, mustSubmit(t, s, a.ID))
	}
	var mu sync.Mutex
	var order []int64 // users in the order their jobs started
	startRunner(t, s, RunnerConfig{Workers: 2}, func(ctx context.Context, job Job) error {
		mu.Lock()
		order = append(order, job.UserID)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond)
		_, err := s.Succeed(ctx, job.ID, nil, "")
		return err
	})
	waitFor(t, "alice's first job", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) > 0 })
	bJob := mustSubmit(t, s, b.ID)
	waitDone(t, s, b.ID, bJob.ID)
	for _, j := range aJobs {
		waitDone(t, s, a.ID, j.ID)
	}
	mu.Lock()
	defer mu.Unlock()
	pos := slices.Index(order, b.ID)
	// Two of alice's jobs may be running when bob submits, and one more may
	// start in the same instant; bob's comes next.
	if pos < 0 || pos > 3 {
		t.Errorf("bob's job started in position %d of %d: %v", pos, len(order), order)
	}
}

// TestRunnerMaxRunning: a user's jobs run at most Limits.MaxRunning at a
// time, while another user's job runs beside them.
func TestRunnerMaxRunning(t *testing.T) { eachBackend(t, testRunnerMaxRunning) }

func testRunnerMaxRunning(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	s.SetLimits(Limits{MaxRunning: 1})
	a, b := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	var jobs []Job
	for range 3 {
		jobs = append(jobs, mustSubmit(t, s, a.ID))
	}
	jobs = append(jobs, mustSubmit(t, s, b.ID))
	var mu sync.Mutex
	running := map[int64]int{}
	peak := map[int64]int{}
	var overlap bool // bob ran while alice did
	startRunner(t, s, RunnerConfig{Workers: 3}, func(ctx context.Context, job Job) error {
		mu.Lock()
		running[job.UserID]++
		peak[job.UserID] = max(peak[job.UserID], running[job.UserID])
		overlap = overlap || running[a.ID] > 0 && running[b.ID] > 0
		mu.Unlock()
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		running[job.UserID]--
		mu.Unlock()
		_, err := s.Succeed(ctx, job.ID, nil, "")
		return err
	})
	for _, j := range jobs {
		if got := waitDone(t, s, j.UserID, j.ID); got.State != Succeeded {
			t.Errorf("job %d: %s %q", j.ID, got.State, got.Message)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if peak[a.ID] != 1 || !overlap {
		t.Errorf("alice ran up to %d jobs at once (limit 1); bob's job overlapped hers: %v", peak[a.ID], overlap)
	}
}

// TestRunnerRecoversDeadWorkersJob: a job held by a worker that stopped
// renewing its lease is taken over by a live runner, which runs it again
// from the start as attempt 2.
func TestRunnerRecoversDeadWorkersJob(t *testing.T) { eachBackend(t, testRunnerRecoversDeadWorkersJob) }

func testRunnerRecoversDeadWorkersJob(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	u := mustUser(t, s, "alice")
	j := mustSubmit(t, s, u.ID)
	// A worker claims the job and dies: nobody renews its lease.
	if _, _, err := s.claim(t.Context(), "dead-worker", time.Second); err != nil {
		t.Fatal(err)
	}
	var attempts []int
	startRunner(t, s, RunnerConfig{Workers: 1, Lease: time.Second}, func(ctx context.Context, job Job) error {
		attempts = append(attempts, job.Attempt)
		_, err := s.Succeed(ctx, job.ID, nil, "done")
		return err
	})
	got := waitDone(t, s, u.ID, j.ID)
	if got.State != Succeeded || got.Attempt != 2 || !reflect.DeepEqual(attempts, []int{2}) {
		t.Errorf("job %s at attempt %d after runs %v", got.State, got.Attempt, attempts)
	}
	want := []string{"Retrying after the worker running it stopped (attempt 2 of 3)", "done"}
	if msgs := messagesOf(t, s, u.ID, j.ID); !reflect.DeepEqual(msgs, want) {
		t.Errorf("messages %q, want %q", msgs, want)
	}
}

// TestRunnerStopsAttemptThatLostItsLease: when another attempt holds the
// job (its lease expired, say, while this worker was cut off), the runner
// cancels its own attempt, which can no longer record anything.
func TestRunnerStopsAttemptThatLostItsLease(t *testing.T) {
	eachBackend(t, testRunnerStopsAttemptThatLostItsLease)
}

func testRunnerStopsAttemptThatLostItsLease(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	u := mustUser(t, s, "alice")
	j := mustSubmit(t, s, u.ID)
	started, stopped := make(chan struct{}), make(chan error, 1)
	var once sync.Once
	startRunner(t, s, RunnerConfig{Workers: 1, Lease: time.Second, CheckInterval: 20 * time.Millisecond},
		func(ctx context.Context, job Job) error {
			once.Do(func() { close(started) }) // the reaper may give it back once the stolen lease expires
			if job.Attempt > 1 {
				return nil
			}
			<-ctx.Done()
			_, err := s.Succeed(ctx, job.ID, nil, "stale")
			stopped <- errors.Join(context.Cause(ctx), err)
			return err
		})
	<-started
	if _, err := s.exec(t.Context(), s.db, `UPDATE jobs SET lease = 'another-attempt' WHERE id = ?`, j.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if !errors.Is(err, ErrLeaseLost) {
			t.Errorf("the attempt stopped with %v, want ErrLeaseLost for cause and Succeed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the attempt kept running without its lease")
	}
	if got := mustGet(t, s, u.ID, j.ID); got.State != Started {
		t.Errorf("the stale attempt changed the job: %+v", got)
	}
}

// TestRunnerExpiresOldJobs: the runner removes jobs past the retention and
// hands them to OnExpire, which deletes their files.
func TestRunnerExpiresOldJobs(t *testing.T) { eachBackend(t, testRunnerExpiresOldJobs) }

func testRunnerExpiresOldJobs(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	s.SetLimits(Limits{Retention: time.Hour})
	dataPath := t.TempDir()
	u := mustUser(t, s, "alice")
	old, recent := mustSubmit(t, s, u.ID), mustSubmit(t, s, u.ID)
	for _, j := range []Job{old, recent} {
		dir := filepath.Join(dataPath, JobDir(u.ID, j.ID))
		must(t, os.MkdirAll(dir, 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "out.nc"), []byte("x"), 0o644))
		must(t, s.Start(t.Context(), j.ID))
		_, err := s.Succeed(t.Context(), j.ID, []Output{{Name: "out.nc", Path: JobDir(u.ID, j.ID) + "/out.nc", Size: 1}}, "")
		must(t, err)
	}
	if _, err := s.exec(t.Context(), s.db, `UPDATE jobs SET finished_at = ? WHERE id = ?`,
		dbTime(now().Add(-2*time.Hour)), old.ID); err != nil {
		t.Fatal(err)
	}
	got := make(chan []Expired, 1)
	startRunner(t, s, RunnerConfig{ExpireInterval: 50 * time.Millisecond, OnExpire: func(_ context.Context, list []Expired) {
		for _, e := range list {
			if err := RemoveFiles(dataPath, e.Dir, e.Outputs); err != nil {
				t.Error(err)
			}
		}
		got <- list
	}}, func(context.Context, Job) error { return nil })
	select {
	case list := <-got:
		if len(list) != 1 || list[0].JobID != old.ID || len(list[0].Outputs) != 1 {
			t.Errorf("expired %+v", list)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nothing expired")
	}
	if _, err := os.Stat(filepath.Join(dataPath, JobDir(u.ID, old.ID))); !os.IsNotExist(err) {
		t.Errorf("the expired job's directory is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataPath, JobDir(u.ID, recent.ID), "out.nc")); err != nil {
		t.Errorf("the recent job's output: %v", err)
	}
	mustGet(t, s, u.ID, recent.ID)
}
