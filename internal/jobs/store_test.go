package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/computewps/computewps/internal/jobs/pgtest"
	"github.com/riverqueue/river"
)

// openSQLiteStore opens and migrates a fresh SQLite store in a temporary directory.
func openSQLiteStore(t *testing.T) *Store {
	t.Helper()
	return openStoreAt(t, "", t.TempDir())
}

func openStoreAt(t *testing.T, databaseURL, dataPath string) *Store {
	t.Helper()
	s, err := Open(t.Context(), databaseURL, dataPath)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// openPostgresStore opens and migrates a store on a fresh database of the
// test binary's PostgreSQL server.
func openPostgresStore(t *testing.T) *Store {
	t.Helper()
	return openStoreAt(t, pgtest.DSN(t), t.TempDir())
}

// backends are the databases every behaviour is checked on.
var backends = []struct {
	name string
	open func(t *testing.T) *Store
}{
	{"SQLite", openSQLiteStore},
	{"PostgreSQL", openPostgresStore},
}

// eachBackend runs fn as a parallel subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, open func(t *testing.T) *Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.open)
		})
	}
}

func TestSQLiteStore(t *testing.T) {
	testStore(t, openSQLiteStore)
}

func TestPostgresStore(t *testing.T) {
	testStore(t, openPostgresStore)
}

// testStore is the behaviour every Store backend must show. open returns a
// fresh, migrated, empty store.
func testStore(t *testing.T, open func(t *testing.T) *Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *Store)
	}{
		{"MigrateIdempotent", testMigrateIdempotent},
		{"User", testUser},
		{"SubmitGetList", testSubmitGetList},
		{"SubmitValidates", testSubmitValidates},
		{"SubmitAtomic", testSubmitAtomic},
		{"Ownership", testOwnership},
		{"StateMachine", testStateMachine},
		{"Statuses", testStatuses},
		{"Outputs", testOutputs},
		{"Delete", testDelete},
		{"Wait", testWait},
		{"QueuedLimit", testQueuedLimit},
		{"StorageLimit", testStorageLimit},
		{"CancelWaiting", testCancelWaiting},
		{"CancelFinished", testCancelFinished},
		{"CancelRunning", testCancelRunning},
		{"Expire", testExpire},
		{"ClaimFairness", testClaimFairness},
		{"ClaimMaxRunning", testClaimMaxRunning},
		{"ClaimConcurrent", testClaimConcurrent},
		{"LeaseFencing", testLeaseFencing},
		{"Reap", testReap},
		{"HandBack", testHandBack},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func mustUser(t *testing.T, s *Store, name string) User {
	t.Helper()
	u, err := s.User(t.Context(), name)
	if err != nil {
		t.Fatalf("User(%q): %v", name, err)
	}
	return u
}

func mustSubmit(t *testing.T, s *Store, userID int64) Job {
	t.Helper()
	j, err := s.Submit(t.Context(), Submission{
		UserID:     userID,
		Identifier: "CDAT.subset",
		DataInputs: `{"variable":[],"domain":[],"operation":[]}`,
		Request:    "<wps:Execute/>",
	})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return j
}

func mustGet(t *testing.T, s *Store, userID, jobID int64) Job {
	t.Helper()
	j, err := s.Get(t.Context(), userID, jobID)
	if err != nil {
		t.Fatalf("Get(%d, %d): %v", userID, jobID, err)
	}
	return j
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func countRows(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.queryRow(t.Context(), s.db, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func testMigrateIdempotent(t *testing.T, s *Store) {
	for range 2 {
		must(t, s.Migrate(t.Context()))
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM schema_migrations`); n != len(migrations) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(migrations))
	}
	must(t, s.Ping(t.Context()))
	mustSubmit(t, s, mustUser(t, s, "alice").ID) // tables usable after re-migration
}

func testUser(t *testing.T, s *Store) {
	a1 := mustUser(t, s, "alice")
	a2 := mustUser(t, s, "alice")
	b := mustUser(t, s, "bob")
	if a1 != a2 {
		t.Errorf("same name, different users: %+v %+v", a1, a2)
	}
	if a1.ID == b.ID {
		t.Errorf("alice and bob share id %d", a1.ID)
	}
	if a1.Name != "alice" || a1.Created.IsZero() {
		t.Errorf("user = %+v", a1)
	}
	if _, err := s.User(t.Context(), ""); err == nil {
		t.Error("User(\"\") succeeded")
	}
}

func testSubmitGetList(t *testing.T, s *Store) {
	a, b := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	var aJobs []Job
	for i := range 5 {
		aJobs = append(aJobs, mustSubmit(t, s, a.ID))
		if i < 2 {
			mustSubmit(t, s, b.ID)
		}
	}

	got := mustGet(t, s, a.ID, aJobs[0].ID)
	if !reflect.DeepEqual(got, aJobs[0]) {
		t.Errorf("Get = %+v\nSubmit returned %+v", got, aJobs[0])
	}
	if got.State != Accepted || got.Percent != 0 || got.Message != "" || got.Started != nil ||
		got.Finished != nil || len(got.StatusIDs) != 1 || got.Outputs != nil || got.Created.IsZero() ||
		got.Request != "<wps:Execute/>" || got.Identifier != "CDAT.subset" {
		t.Errorf("fresh job = %+v", got)
	}

	ids := func(list []Job) []int64 {
		var out []int64
		for _, j := range list {
			out = append(out, j.ID)
		}
		return out
	}
	for _, tc := range []struct {
		limit, offset int
		want          []int64
	}{
		{0, 0, []int64{aJobs[4].ID, aJobs[3].ID, aJobs[2].ID, aJobs[1].ID, aJobs[0].ID}},
		{2, 0, []int64{aJobs[4].ID, aJobs[3].ID}},
		{2, 2, []int64{aJobs[2].ID, aJobs[1].ID}},
		{2, 4, []int64{aJobs[0].ID}},
		{2, 10, nil},
	} {
		list, total, err := s.List(t.Context(), a.ID, tc.limit, tc.offset)
		must(t, err)
		if total != 5 || !reflect.DeepEqual(ids(list), tc.want) {
			t.Errorf("List(limit %d, offset %d) = %v, total %d; want %v, total 5",
				tc.limit, tc.offset, ids(list), total, tc.want)
		}
		for _, j := range list {
			if j.UserID != a.ID || len(j.StatusIDs) != 1 {
				t.Errorf("listed job %+v", j)
			}
		}
	}
	list, total, err := s.List(t.Context(), b.ID, 50, 0)
	must(t, err)
	if total != 2 || len(list) != 2 {
		t.Errorf("bob lists %d jobs, total %d; want 2", len(list), total)
	}
}

func testSubmitValidates(t *testing.T, s *Store) {
	a := mustUser(t, s, "alice")
	for _, sub := range []Submission{
		{UserID: a.ID, Identifier: "", DataInputs: `{}`},
		{UserID: a.ID, Identifier: "CDAT.subset", DataInputs: `{"variable":`},
		{UserID: a.ID + 1000, Identifier: "CDAT.subset", DataInputs: `{}`}, // no such user
	} {
		if _, err := s.Submit(t.Context(), sub); err == nil {
			t.Errorf("Submit(%+v) succeeded", sub)
		}
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM jobs`); n != 0 {
		t.Errorf("%d jobs recorded by failed submissions", n)
	}
}

// testSubmitAtomic checks that a job is recorded only when it is also queued.
func testSubmitAtomic(t *testing.T, s *Store) {
	a := mustUser(t, s, "alice")
	j := mustSubmit(t, s, a.ID)
	queued := riverJobs(t, s)
	if len(queued) != 1 || queued[0].JobID != j.ID || queued[0].MaxAttempts != ticketMaxAttempts || queued[0].Queue != "default" {
		t.Fatalf("queued River jobs = %+v, want one for job %d", queued, j.ID)
	}
	if _, err := s.exec(t.Context(), s.db, `DROP TABLE river_job`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(t.Context(), Submission{UserID: a.ID, Identifier: "CDAT.subset", DataInputs: `{}`}); err == nil {
		t.Fatal("Submit succeeded without a queue table")
	}
	if _, total, _ := s.List(t.Context(), a.ID, 0, 0); total != 1 {
		t.Errorf("after a failed enqueue the user has %d jobs, want 1", total)
	}
}

func testOwnership(t *testing.T, s *Store) {
	a, b := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	j := mustSubmit(t, s, a.ID)
	must(t, s.Start(t.Context(), j.ID))
	outs, err := s.Succeed(t.Context(), j.ID, []Output{{Name: "x.nc", Path: "1/1/x.nc"}}, "done")
	must(t, err)
	job := mustGet(t, s, a.ID, j.ID)
	ctx := t.Context()

	for _, tc := range []struct{ user, job, status int64 }{
		{b.ID, j.ID, job.StatusIDs[0]},             // another user's
		{a.ID, j.ID + 100, job.StatusIDs[0] + 100}, // nobody's
	} {
		_, err := s.Get(ctx, tc.user, tc.job)
		wantErr(t, "Get", err, ErrNotFound)
		_, err = s.Statuses(ctx, tc.user, tc.job)
		wantErr(t, "Statuses", err, ErrNotFound)
		_, err = s.Status(ctx, tc.user, tc.status)
		wantErr(t, "Status", err, ErrNotFound)
		_, err = s.Output(ctx, tc.user, tc.job, "x.nc")
		wantErr(t, "Output", err, ErrNotFound)
		_, err = s.Wait(ctx, tc.user, tc.job, time.Millisecond)
		wantErr(t, "Wait", err, ErrNotFound)
		_, err = s.Delete(ctx, tc.user, tc.job)
		wantErr(t, "Delete", err, ErrNotFound)
	}
	if list, total, _ := s.List(ctx, b.ID, 0, 0); total != 0 || len(list) != 0 {
		t.Errorf("bob lists alice's jobs: %v", list)
	}
	// The failed deletes left everything in place.
	if _, err := s.Output(ctx, a.ID, j.ID, "x.nc"); err != nil {
		t.Errorf("owner's Output: %v", err)
	}
	if _, err := s.OutputByToken(ctx, outs[0].Token); err != nil {
		t.Errorf("OutputByToken: %v", err)
	}
}

func testStateMachine(t *testing.T, s *Store) {
	ctx := t.Context()
	a := mustUser(t, s, "alice")
	j := mustSubmit(t, s, a.ID)

	_, err := s.Succeed(ctx, j.ID, nil, "too early")
	wantErr(t, "Succeed before Start", err, ErrTransition)

	must(t, s.Start(ctx, j.ID))
	must(t, s.Start(ctx, j.ID)) // no-op
	got := mustGet(t, s, a.ID, j.ID)
	if got.State != Started || got.Started == nil || got.Finished != nil || len(got.StatusIDs) != 2 {
		t.Errorf("started job = %+v", got)
	}

	for _, tc := range []struct{ in, want int }{{150, 100}, {-5, 0}, {42, 42}} {
		must(t, s.Progress(ctx, j.ID, tc.in, fmt.Sprintf("Processing %d", tc.in)))
		got := mustGet(t, s, a.ID, j.ID)
		if got.Percent != tc.want || got.Message != fmt.Sprintf("Processing %d", tc.in) {
			t.Errorf("after Progress(%d): percent %d message %q, want %d", tc.in, got.Percent, got.Message, tc.want)
		}
	}

	outs, err := s.Succeed(ctx, j.ID, []Output{
		{Name: "a.nc", Path: "1/1/a.nc", Size: 10, VarID: "tas|a", MimeType: "application/netcdf"},
		{Name: "b.nc", Path: "1/1/b.nc", Size: 20, VarID: "tas|b", MimeType: "application/netcdf"},
	}, "done")
	must(t, err)
	if len(outs) != 2 || outs[0].ID == 0 || outs[1].ID == 0 || outs[0].Token == outs[1].Token {
		t.Fatalf("Succeed returned %+v", outs)
	}
	for _, o := range outs {
		if len(o.Token) < 22 || o.JobID != j.ID || o.Created.IsZero() {
			t.Errorf("output %+v", o)
		}
	}
	got = mustGet(t, s, a.ID, j.ID)
	if got.State != Succeeded || got.Percent != 100 || got.Message != "done" || got.Finished == nil ||
		!reflect.DeepEqual(got.Outputs, outs) {
		t.Errorf("succeeded job = %+v", got)
	}

	// Nothing moves a finished job.
	wantErr(t, "Start after success", s.Start(ctx, j.ID), ErrDone)
	wantErr(t, "Progress after success", s.Progress(ctx, j.ID, 1, "late"), ErrDone)
	wantErr(t, "Fail after success", s.Fail(ctx, j.ID, "late"), ErrDone)
	_, err = s.Succeed(ctx, j.ID, nil, "again")
	wantErr(t, "Succeed twice", err, ErrDone)
	if again := mustGet(t, s, a.ID, j.ID); !reflect.DeepEqual(again, got) {
		t.Errorf("rejected transitions changed the job:\n%+v\n%+v", again, got)
	}

	// Accepted -> Failed, and failing again is a no-op.
	f := mustSubmit(t, s, a.ID)
	must(t, s.Fail(ctx, f.ID, "bad domain"))
	must(t, s.Fail(ctx, f.ID, "second reason"))
	got = mustGet(t, s, a.ID, f.ID)
	if got.State != Failed || got.Message != "bad domain" || got.Finished == nil || got.Started != nil ||
		len(got.StatusIDs) != 2 {
		t.Errorf("failed job = %+v", got)
	}
	wantErr(t, "Start after failure", s.Start(ctx, f.ID), ErrDone)

	// A rejected output list leaves the job Started with no outputs.
	d := mustSubmit(t, s, a.ID)
	must(t, s.Start(ctx, d.ID))
	if _, err := s.Succeed(ctx, d.ID, []Output{{Name: "x.nc", Path: "x"}, {Name: "x.nc", Path: "y"}}, ""); err == nil {
		t.Error("Succeed with duplicate output names succeeded")
	}
	if _, err := s.Succeed(ctx, d.ID, []Output{{Name: "", Path: "x"}}, ""); err == nil {
		t.Error("Succeed with a nameless output succeeded")
	}
	if got := mustGet(t, s, a.ID, d.ID); got.State != Started || got.Outputs != nil {
		t.Errorf("after rejected Succeed: %+v", got)
	}

	missing := d.ID + 100
	wantErr(t, "Start missing", s.Start(ctx, missing), ErrNotFound)
	wantErr(t, "Progress missing", s.Progress(ctx, missing, 1, ""), ErrNotFound)
	wantErr(t, "Fail missing", s.Fail(ctx, missing, ""), ErrNotFound)
	_, err = s.Succeed(ctx, missing, nil, "")
	wantErr(t, "Succeed missing", err, ErrNotFound)
	_, err = s.JobForWorker(ctx, missing)
	wantErr(t, "JobForWorker missing", err, ErrNotFound)
}

func testStatuses(t *testing.T, s *Store) {
	ctx := t.Context()
	a := mustUser(t, s, "alice")
	j := mustSubmit(t, s, a.ID)
	must(t, s.Progress(ctx, j.ID, 0, "validated"))
	must(t, s.Start(ctx, j.ID))
	must(t, s.Progress(ctx, j.ID, 10, "first"))
	must(t, s.Progress(ctx, j.ID, 60, "second"))
	_, err := s.Succeed(ctx, j.ID, nil, "done")
	must(t, err)

	list, err := s.Statuses(ctx, a.ID, j.ID)
	must(t, err)
	type msg struct {
		text    string
		percent int
	}
	want := []struct {
		state State
		msgs  []msg
	}{
		{Accepted, []msg{{"validated", 0}}},
		{Started, []msg{{"first", 10}, {"second", 60}}},
		{Succeeded, []msg{{"done", 100}}},
	}
	if len(list) != len(want) {
		t.Fatalf("Statuses = %+v", list)
	}
	job := mustGet(t, s, a.ID, j.ID)
	for i, st := range list {
		if st.State != want[i].state || st.JobID != j.ID || st.ID != job.StatusIDs[i] {
			t.Errorf("status %d = %+v, want %s with id %d", i, st, want[i].state, job.StatusIDs[i])
		}
		var got []msg
		for _, m := range st.Messages {
			got = append(got, msg{m.Text, m.Percent})
			if m.Created.Before(st.Created) {
				t.Errorf("message %q older than its status", m.Text)
			}
		}
		if !reflect.DeepEqual(got, want[i].msgs) {
			t.Errorf("%s messages = %v, want %v", st.State, got, want[i].msgs)
		}
		if !st.Updated.Equal(st.Messages[len(st.Messages)-1].Created) {
			t.Errorf("%s updated %v, want its last message's time", st.State, st.Updated)
		}
		one, err := s.Status(ctx, a.ID, st.ID)
		must(t, err)
		if !reflect.DeepEqual(one, st) {
			t.Errorf("Status(%d) = %+v\nwant %+v", st.ID, one, st)
		}
	}
}

func testOutputs(t *testing.T, s *Store) {
	ctx := t.Context()
	a := mustUser(t, s, "alice")
	j1, j2 := mustSubmit(t, s, a.ID), mustSubmit(t, s, a.ID)
	var tokens []string
	for _, j := range []Job{j1, j2} {
		must(t, s.Start(ctx, j.ID))
		// The same name in two jobs is fine.
		outs, err := s.Succeed(ctx, j.ID, []Output{{Name: "out.nc", Path: fmt.Sprintf("1/%d/out.nc", j.ID), Size: 7}}, "")
		must(t, err)
		tokens = append(tokens, outs[0].Token)

		byName, err := s.Output(ctx, a.ID, j.ID, "out.nc")
		must(t, err)
		byToken, err := s.OutputByToken(ctx, outs[0].Token)
		must(t, err)
		if !reflect.DeepEqual(byName, outs[0]) || !reflect.DeepEqual(byToken, outs[0]) {
			t.Errorf("Output %+v, OutputByToken %+v, want %+v", byName, byToken, outs[0])
		}
	}
	if tokens[0] == tokens[1] {
		t.Error("two outputs share a token")
	}
	_, err := s.OutputByToken(ctx, "")
	wantErr(t, "OutputByToken(\"\")", err, ErrNotFound)
	_, err = s.OutputByToken(ctx, tokens[0]+"x")
	wantErr(t, "OutputByToken(wrong)", err, ErrNotFound)
	_, err = s.Output(ctx, a.ID, j1.ID, "other.nc")
	wantErr(t, "Output(other name)", err, ErrNotFound)
}

func testDelete(t *testing.T, s *Store) {
	ctx := t.Context()
	a := mustUser(t, s, "alice")
	keep, j := mustSubmit(t, s, a.ID), mustSubmit(t, s, a.ID)
	must(t, s.Start(ctx, j.ID))
	must(t, s.Progress(ctx, j.ID, 50, "half"))
	outs, err := s.Succeed(ctx, j.ID, []Output{{Name: "a.nc", Path: "p/a.nc"}, {Name: "b.nc", Path: "p/b.nc"}}, "done")
	must(t, err)
	job := mustGet(t, s, a.ID, j.ID)

	removed, err := s.Delete(ctx, a.ID, j.ID)
	must(t, err)
	if !reflect.DeepEqual(removed, outs) {
		t.Errorf("Delete returned %+v, want %+v", removed, outs)
	}
	_, err = s.Get(ctx, a.ID, j.ID)
	wantErr(t, "Get deleted", err, ErrNotFound)
	_, err = s.Statuses(ctx, a.ID, j.ID)
	wantErr(t, "Statuses deleted", err, ErrNotFound)
	_, err = s.Status(ctx, a.ID, job.StatusIDs[0])
	wantErr(t, "Status deleted", err, ErrNotFound)
	_, err = s.OutputByToken(ctx, outs[0].Token)
	wantErr(t, "OutputByToken deleted", err, ErrNotFound)
	_, err = s.Delete(ctx, a.ID, j.ID)
	wantErr(t, "Delete twice", err, ErrNotFound)

	for _, table := range []string{"statuses", "outputs"} {
		if n := countRows(t, s, `SELECT COUNT(*) FROM `+table+` WHERE job_id = ?`, j.ID); n != 0 {
			t.Errorf("%d %s rows left", n, table)
		}
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM messages`); n != 0 {
		t.Errorf("%d messages left", n)
	}
	mustGet(t, s, a.ID, keep.ID)

	// A new job never reuses a deleted job's id: a queued run for the old id
	// must not pick up someone else's job.
	if next := mustSubmit(t, s, a.ID); next.ID <= j.ID {
		t.Errorf("new job id %d reuses or precedes deleted id %d", next.ID, j.ID)
	}
}

func testWait(t *testing.T, s *Store) {
	a := mustUser(t, s, "alice")
	j := mustSubmit(t, s, a.ID)
	go func() {
		time.Sleep(30 * time.Millisecond)
		_ = s.Start(context.Background(), j.ID)
		_, _ = s.Succeed(context.Background(), j.ID, nil, "done")
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := s.Wait(ctx, a.ID, j.ID, 5*time.Millisecond)
	must(t, err)
	if got.State != Succeeded {
		t.Errorf("Wait returned %s", got.State)
	}

	pending := mustSubmit(t, s, a.ID)
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	got, err = s.Wait(ctx, a.ID, pending.ID, 5*time.Millisecond)
	wantErr(t, "Wait on a pending job", err, context.DeadlineExceeded)
	if got.ID != pending.ID || got.State != Accepted {
		t.Errorf("Wait on timeout returned %+v, want the pending job", got)
	}
}

// riverJob is the part of a River job row the tests look at.
type riverJob struct {
	JobID       int64
	State       string
	Attempt     int
	MaxAttempts int
	Queue       string
}

func riverJobs(t *testing.T, s *Store) []riverJob {
	t.Helper()
	res, err := s.queue.client.JobList(t.Context(), river.NewJobListParams().Kinds(runKind).First(1000))
	if err != nil {
		t.Fatal(err)
	}
	var list []riverJob
	for _, row := range res.Jobs {
		var args runArgs
		if err := json.Unmarshal(row.EncodedArgs, &args); err != nil {
			t.Fatalf("River args %s: %v", row.EncodedArgs, err)
		}
		list = append(list, riverJob{JobID: args.JobID, State: string(row.State), Attempt: row.Attempt,
			MaxAttempts: row.MaxAttempts, Queue: row.Queue})
	}
	return list
}
