package jobs

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file holds the store-level conformance tests of limits, dismissal,
// expiry, claims and leases; testStore runs them on every backend.

func mustClaim(t *testing.T, s *Store) (Job, context.Context) {
	t.Helper()
	job, token, err := s.claim(t.Context(), "test-worker", time.Minute)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return job, withLease(t.Context(), job.ID, token)
}

// expireLease makes the job's lease look as if its worker stopped renewing
// it a while ago.
func expireLease(t *testing.T, s *Store, jobID int64) {
	t.Helper()
	if _, err := s.exec(t.Context(), s.db, `UPDATE jobs SET lease_until = ? WHERE id = ?`,
		dbTime(now().Add(-time.Second)), jobID); err != nil {
		t.Fatal(err)
	}
}

func messagesOf(t *testing.T, s *Store, userID, jobID int64) []string {
	t.Helper()
	list, err := s.Statuses(t.Context(), userID, jobID)
	must(t, err)
	var out []string
	for _, st := range list {
		for _, m := range st.Messages {
			out = append(out, m.Text)
		}
	}
	return out
}

func testQueuedLimit(t *testing.T, s *Store) {
	s.SetLimits(Limits{MaxQueued: 3})
	a, b := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	for range 3 {
		mustSubmit(t, s, a.ID)
	}
	_, err := s.Submit(t.Context(), Submission{UserID: a.ID, Identifier: "CDAT.subset", DataInputs: `{}`})
	var le *LimitError
	if !errors.Is(err, ErrLimit) || !errors.As(err, &le) {
		t.Fatalf("fourth submission: %v, want a LimitError", err)
	}
	if le.Limit != "queued" || le.Used != 3 || le.Max != 3 ||
		!strings.Contains(le.Error(), "You already have 3 jobs waiting to run, the most one user may have (3)") {
		t.Errorf("refusal %+v: %q", le, le.Error())
	}
	if _, total, _ := s.List(t.Context(), a.ID, 0, 0); total != 3 {
		t.Errorf("the refused submission was recorded: %d jobs", total)
	}
	mustSubmit(t, s, b.ID) // other users are not limited by alice's queue

	// A running job no longer waits: alice may queue one more.
	if job, _ := mustClaim(t, s); job.UserID != a.ID {
		t.Fatalf("claimed %+v, want alice's oldest job", job)
	}
	mustSubmit(t, s, a.ID)
	_, err = s.Submit(t.Context(), Submission{UserID: a.ID, Identifier: "CDAT.subset", DataInputs: `{}`})
	wantErr(t, "submission over the limit", err, ErrLimit)
}

func testStorageLimit(t *testing.T, s *Store) {
	ctx := t.Context()
	s.SetLimits(Limits{MaxStorage: 1000})
	a := mustUser(t, s, "alice")
	j := mustSubmit(t, s, a.ID)
	must(t, s.Start(ctx, j.ID))
	_, err := s.Succeed(ctx, j.ID, []Output{{Name: "a.nc", Path: "p/a.nc", Size: 600}, {Name: "b.nc", Path: "p/b.nc", Size: 500}}, "")
	must(t, err)

	_, err = s.Submit(ctx, Submission{UserID: a.ID, Identifier: "CDAT.subset", DataInputs: `{}`})
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrLimit) {
		t.Fatalf("submission over the storage limit: %v", err)
	}
	if le.Limit != "storage" || le.Used != 1100 || le.Max != 1000 ||
		!strings.Contains(le.Error(), "Your stored outputs take 1.1 KiB (1100 bytes), and one user may keep at most 1000 bytes (1000 bytes)") {
		t.Errorf("refusal %+v: %q", le, le.Error())
	}
	// Dismissing the job frees the space.
	_, err = s.Cancel(ctx, a.ID, j.ID)
	must(t, err)
	mustSubmit(t, s, a.ID)
}

func testCancelWaiting(t *testing.T, s *Store) {
	ctx := t.Context()
	a, b := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	j := mustSubmit(t, s, a.ID)

	_, err := s.Cancel(ctx, b.ID, j.ID)
	wantErr(t, "Cancel by another user", err, ErrNotFound)

	d, err := s.Cancel(ctx, a.ID, j.ID)
	must(t, err)
	got := d.Job
	if got.State != Failed || got.Message != "Dismissed by its owner" || got.Dismissed == nil || got.Finished == nil ||
		d.WasRunning || d.Dir != JobDir(a.ID, j.ID) || len(d.Outputs) != 0 {
		t.Errorf("dismissal %+v", d)
	}
	if !reflect.DeepEqual(got, mustGet(t, s, a.ID, j.ID)) {
		t.Errorf("Cancel returned %+v, Get %+v", got, mustGet(t, s, a.ID, j.ID))
	}
	// Again: nothing changes.
	d2, err := s.Cancel(ctx, a.ID, j.ID)
	must(t, err)
	if !reflect.DeepEqual(d2.Job, got) || len(d2.Outputs) != 0 {
		t.Errorf("second dismissal %+v", d2)
	}
	// Its ticket finds nothing to run.
	if _, _, err := s.claim(ctx, "w", time.Minute); !errors.Is(err, errNothingWaiting) {
		t.Errorf("claim after dismissal: %v, want nothing waiting", err)
	}
	if msgs := messagesOf(t, s, a.ID, j.ID); !reflect.DeepEqual(msgs, []string{"Dismissed by its owner"}) {
		t.Errorf("messages %q", msgs)
	}
}

func testCancelFinished(t *testing.T, s *Store) {
	ctx := t.Context()
	a := mustUser(t, s, "alice")
	j := mustSubmit(t, s, a.ID)
	must(t, s.Start(ctx, j.ID))
	outs, err := s.Succeed(ctx, j.ID, []Output{{Name: "a.nc", Path: "1/2/a.nc", Size: 3}}, "done")
	must(t, err)

	d, err := s.Cancel(ctx, a.ID, j.ID)
	must(t, err)
	if !reflect.DeepEqual(d.Outputs, outs) {
		t.Errorf("Cancel returned outputs %+v, want %+v", d.Outputs, outs)
	}
	if d.Job.State != Succeeded || d.Job.Message != "done" || d.Job.Dismissed == nil || d.Job.Outputs != nil || d.WasRunning {
		t.Errorf("dismissed finished job %+v", d.Job)
	}
	_, err = s.OutputByToken(ctx, outs[0].Token)
	wantErr(t, "download of a dismissed output", err, ErrNotFound)
}

func testCancelRunning(t *testing.T, s *Store) {
	ctx := t.Context()
	a := mustUser(t, s, "alice")
	j := mustSubmit(t, s, a.ID)
	job, lctx := mustClaim(t, s)
	if job.ID != j.ID || job.Worker != "test-worker" || job.Attempt != 1 {
		t.Fatalf("claimed %+v", job)
	}
	d, err := s.Cancel(ctx, a.ID, j.ID)
	must(t, err)
	if !d.WasRunning || d.Job.State != Failed || d.Job.Message != msgDismissed || d.Job.Worker != "" {
		t.Errorf("dismissal of a running job %+v", d)
	}
	// The attempt can record nothing more.
	if err := s.Progress(lctx, j.ID, 50, "still going"); err == nil {
		t.Error("Progress after dismissal succeeded")
	}
	if _, err := s.Succeed(lctx, j.ID, []Output{{Name: "x.nc", Path: "x.nc"}}, "done"); err == nil {
		t.Error("Succeed after dismissal succeeded")
	}
	if got := mustGet(t, s, a.ID, j.ID); got.State != Failed || got.Message != msgDismissed || got.Outputs != nil {
		t.Errorf("after the attempt's late writes: %+v", got)
	}
}

func testExpire(t *testing.T, s *Store) {
	ctx := t.Context()
	s.SetLimits(Limits{Retention: time.Hour})
	a, b := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	finish := func(userID int64, ok bool, age time.Duration) Job {
		j := mustSubmit(t, s, userID)
		must(t, s.Start(ctx, j.ID))
		if ok {
			_, err := s.Succeed(ctx, j.ID, []Output{{Name: "o.nc", Path: JobDir(userID, j.ID) + "/o.nc", Size: 1}}, "")
			must(t, err)
		} else {
			must(t, s.Fail(ctx, j.ID, "bad"))
		}
		if _, err := s.exec(ctx, s.db, `UPDATE jobs SET finished_at = ? WHERE id = ?`, dbTime(now().Add(-age)), j.ID); err != nil {
			t.Fatal(err)
		}
		return mustGet(t, s, userID, j.ID)
	}
	oldOK, oldFailed := finish(a.ID, true, 2*time.Hour), finish(b.ID, false, 3*time.Hour)
	recent := finish(a.ID, true, time.Minute)
	waiting := mustSubmit(t, s, a.ID)

	if oldOK.Expires == nil || !oldOK.Expires.Equal(oldOK.Finished.Add(time.Hour)) {
		t.Errorf("Expires = %v, want finished %v + 1h", oldOK.Expires, oldOK.Finished)
	}
	if w := mustGet(t, s, a.ID, waiting.ID); w.Expires != nil {
		t.Errorf("an unfinished job expires at %v", w.Expires)
	}
	list, _, err := s.List(ctx, a.ID, 0, 0)
	must(t, err)
	for _, j := range list {
		if (j.Finished != nil) != (j.Expires != nil) {
			t.Errorf("listed job %d: finished %v, expires %v", j.ID, j.Finished, j.Expires)
		}
	}

	expired, err := s.Expire(ctx, now().Add(-time.Hour))
	must(t, err)
	byID := map[int64]Expired{}
	for _, e := range expired {
		byID[e.JobID] = e
	}
	if len(expired) != 2 || byID[oldOK.ID].Dir != JobDir(a.ID, oldOK.ID) || byID[oldFailed.ID].UserID != b.ID ||
		!reflect.DeepEqual(byID[oldOK.ID].Outputs, oldOK.Outputs) || len(byID[oldFailed.ID].Outputs) != 0 {
		t.Fatalf("Expire = %+v", expired)
	}
	for _, j := range []Job{oldOK, oldFailed} {
		_, err := s.Get(ctx, j.UserID, j.ID)
		wantErr(t, "Get expired job", err, ErrNotFound)
		if n := countRows(t, s, `SELECT COUNT(*) FROM statuses WHERE job_id = ?`, j.ID); n != 0 {
			t.Errorf("%d statuses of expired job %d left", n, j.ID)
		}
	}
	_, err = s.OutputByToken(ctx, oldOK.Outputs[0].Token)
	wantErr(t, "download of an expired output", err, ErrNotFound)
	mustGet(t, s, a.ID, recent.ID)
	mustGet(t, s, a.ID, waiting.ID)
	if again, err := s.Expire(ctx, now().Add(-time.Hour)); err != nil || len(again) != 0 {
		t.Errorf("second Expire = %+v, %v", again, err)
	}

	s.SetLimits(Limits{}) // keep forever
	if got := mustGet(t, s, a.ID, recent.ID); got.Expires != nil {
		t.Errorf("with no retention the job expires at %v", got.Expires)
	}
}

// testClaimFairness: a user who runs fewer jobs goes first, whatever the
// order of submission.
func testClaimFairness(t *testing.T, s *Store) {
	a, b := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	var aJobs []Job
	for range 5 {
		aJobs = append(aJobs, mustSubmit(t, s, a.ID))
	}
	bJob := mustSubmit(t, s, b.ID)
	var order []int64
	for range 4 {
		j, _ := mustClaim(t, s)
		order = append(order, j.ID)
	}
	want := []int64{aJobs[0].ID, bJob.ID, aJobs[1].ID, aJobs[2].ID}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("claimed %v, want %v", order, want)
	}
}

func testClaimMaxRunning(t *testing.T, s *Store) {
	ctx := t.Context()
	s.SetLimits(Limits{MaxRunning: 1})
	a, b := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	a1, a2 := mustSubmit(t, s, a.ID), mustSubmit(t, s, a.ID)
	j, lctx := mustClaim(t, s)
	if j.ID != a1.ID {
		t.Fatalf("claimed %d, want %d", j.ID, a1.ID)
	}
	if _, _, err := s.claim(ctx, "w", time.Minute); !errors.Is(err, errAtLimit) {
		t.Errorf("claim with only alice's second job waiting: %v, want errAtLimit", err)
	}
	b1 := mustSubmit(t, s, b.ID)
	if j, _ := mustClaim(t, s); j.ID != b1.ID {
		t.Errorf("claimed %d, want bob's %d", j.ID, b1.ID)
	}
	_, err := s.Succeed(lctx, a1.ID, nil, "done")
	must(t, err)
	if j, _ := mustClaim(t, s); j.ID != a2.ID {
		t.Errorf("claimed %d, want %d once alice's first finished", j.ID, a2.ID)
	}
	if _, _, err := s.claim(ctx, "w", time.Minute); !errors.Is(err, errNothingWaiting) {
		t.Errorf("claim with nothing waiting: %v", err)
	}
}

// testClaimConcurrent: claims racing from many goroutines (and connections,
// on PostgreSQL) never share a job nor exceed a user's running limit.
func testClaimConcurrent(t *testing.T, s *Store) {
	s.SetLimits(Limits{MaxRunning: 3})
	users := []User{mustUser(t, s, "alice"), mustUser(t, s, "bob")}
	for i := range 20 {
		mustSubmit(t, s, users[i%2].ID)
	}
	var mu sync.Mutex
	claimed := map[int64]int{}
	perUser := map[int64]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				j, _, err := s.claim(context.Background(), "w", time.Minute)
				if errors.Is(err, errAtLimit) || errors.Is(err, errNothingWaiting) {
					return
				}
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				mu.Lock()
				claimed[j.ID]++
				perUser[j.UserID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("job %d claimed %d times", id, n)
		}
	}
	for _, u := range users {
		if perUser[u.ID] != 3 {
			t.Errorf("%s runs %d jobs, want the limit of 3", u.Name, perUser[u.ID])
		}
	}
}

// testLeaseFencing: an attempt whose lease expired and whose job went to a
// new attempt records nothing, while the new attempt does.
func testLeaseFencing(t *testing.T, s *Store) {
	ctx := t.Context()
	a := mustUser(t, s, "alice")
	j := mustSubmit(t, s, a.ID)
	first, old := mustClaim(t, s)
	must(t, s.Progress(old, j.ID, 40, "first attempt"))
	expireLease(t, s, j.ID)
	if requeued, failed, err := s.reap(ctx, 3); err != nil || requeued != 1 || failed != 0 {
		t.Fatalf("reap = %d requeued, %d failed, %v", requeued, failed, err)
	}
	waiting := mustGet(t, s, a.ID, j.ID)
	if waiting.State != Started || waiting.Worker != "" || waiting.Percent != 0 ||
		waiting.Message != "Retrying after the worker running it stopped (attempt 2 of 3)" {
		t.Errorf("requeued job %+v", waiting)
	}
	second, cur := mustClaim(t, s)
	if first.Attempt != 1 || second.Attempt != 2 || second.ID != j.ID {
		t.Fatalf("attempts %d then %d", first.Attempt, second.Attempt)
	}

	wantErr(t, "Progress of the old attempt", s.Progress(old, j.ID, 90, "late"), ErrLeaseLost)
	_, err := s.Succeed(old, j.ID, []Output{{Name: "stale.nc", Path: "stale.nc"}}, "old")
	wantErr(t, "Succeed of the old attempt", err, ErrLeaseLost)
	wantErr(t, "Fail of the old attempt", s.Fail(old, j.ID, "old"), ErrLeaseLost)

	outs, err := s.Succeed(cur, j.ID, []Output{{Name: "fresh.nc", Path: "fresh.nc"}}, "done")
	must(t, err)
	got := mustGet(t, s, a.ID, j.ID)
	if got.State != Succeeded || got.Attempt != 2 || !reflect.DeepEqual(got.Outputs, outs) || got.Worker != "" {
		t.Errorf("job after the second attempt %+v", got)
	}
	want := []string{"first attempt", "Retrying after the worker running it stopped (attempt 2 of 3)", "done"}
	if msgs := messagesOf(t, s, a.ID, j.ID); !reflect.DeepEqual(msgs, want) {
		t.Errorf("messages %q, want %q", msgs, want)
	}
}

// testReap: a job whose workers keep dying fails after its attempts, with a
// ticket queued for every retry; a live lease is left alone.
func testReap(t *testing.T, s *Store) {
	ctx := t.Context()
	a := mustUser(t, s, "alice")
	j := mustSubmit(t, s, a.ID)
	for attempt := 1; attempt <= 3; attempt++ {
		job, _ := mustClaim(t, s)
		if job.Attempt != attempt {
			t.Fatalf("attempt %d, want %d", job.Attempt, attempt)
		}
		if requeued, failed, err := s.reap(ctx, 3); err != nil || requeued+failed != 0 {
			t.Fatalf("reap of a live lease = %d, %d, %v", requeued, failed, err)
		}
		expireLease(t, s, j.ID)
		requeued, failed, err := s.reap(ctx, 3)
		must(t, err)
		if last := attempt == 3; requeued != map[bool]int{false: 1}[last] || failed != map[bool]int{true: 1}[last] {
			t.Fatalf("attempt %d: reap = %d requeued, %d failed", attempt, requeued, failed)
		}
	}
	got := mustGet(t, s, a.ID, j.ID)
	if got.State != Failed || got.Attempt != 3 || got.Worker != "" ||
		got.Message != "Failed after 3 attempts: each time, the worker running the job stopped before it finished" {
		t.Errorf("job after three dead workers: %+v", got)
	}
	if n := len(riverJobs(t, s)); n != 3 {
		t.Errorf("%d tickets, want 3 (submission and two retries)", n)
	}
	if _, _, err := s.claim(ctx, "w", time.Minute); !errors.Is(err, errNothingWaiting) {
		t.Errorf("claim after giving up: %v", err)
	}
}

func testHandBack(t *testing.T, s *Store) {
	ctx := t.Context()
	a := mustUser(t, s, "alice")
	j := mustSubmit(t, s, a.ID)
	job, lctx := mustClaim(t, s)
	must(t, s.handBack(ctx, j.ID, leaseOf(lctx, j.ID)))
	got := mustGet(t, s, a.ID, j.ID)
	if got.State != Started || got.Worker != "" || got.Attempt != 0 || got.Message != msgHandedBack {
		t.Errorf("handed back job %+v", got)
	}
	again, _ := mustClaim(t, s)
	if again.ID != j.ID || again.Attempt != job.Attempt {
		t.Errorf("reclaimed %+v, want job %d at attempt %d", again, j.ID, job.Attempt)
	}
	if n := len(riverJobs(t, s)); n != 2 {
		t.Errorf("%d tickets, want 2", n)
	}
	wantErr(t, "Progress of the handed-back attempt", s.Progress(lctx, j.ID, 1, "x"), ErrLeaseLost)
}
