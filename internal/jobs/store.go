package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Store records jobs and queues them for the workers.
//
// SQLite runs with a single pooled connection, so no method issues a query on
// the pool while it holds a transaction or an unclosed *sql.Rows: that would
// wait forever for the connection it already holds.
type Store struct {
	db      *sql.DB
	dialect dialect
	queue   *insertQueue
	limits  atomic.Pointer[Limits]
	runners *runnerSet
}

// defaultPageSize is the reference's PAGE_SIZE, used when List gets no limit.
const defaultPageSize = 50

// Close closes the database. Stop every Runner first.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers, giving up after a few seconds: a
// readiness check must say "no" quickly when the database is unreachable.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("jobs: the job store does not answer: %w", err)
	}
	return nil
}

// SetLimits sets the per-user limits and the retention; the zero Limits (the
// default) limits nothing and keeps jobs forever. Every process sharing a
// database should set the same values.
func (s *Store) SetLimits(l Limits) { s.limits.Store(&l) }

// Limits returns what SetLimits set.
func (s *Store) Limits() Limits {
	if l := s.limits.Load(); l != nil {
		return *l
	}
	return Limits{}
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, s.dialect.rebind(query), args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, s.dialect.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, s.dialect.rebind(query), args...)
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: commit: %w", err)
	}
	return nil
}

// Times are stored as Unix nanoseconds in UTC; see the package comment.
func dbTime(t time.Time) int64 { return t.UnixNano() }

func goTime(n int64) time.Time { return time.Unix(0, n).UTC() }

func goTimePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := goTime(n.Int64)
	return &t
}

// now is UTC without a monotonic reading, so values returned by the store
// compare equal (==) to the same values read back.
func now() time.Time { return time.Now().UTC() }

// newToken returns 128 random bits, URL-safe base64 without padding (22 chars).
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// User returns the user called name, creating it on first use.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	if name == "" {
		return User{}, errors.New("jobs: empty user name")
	}
	// ON CONFLICT DO NOTHING makes concurrent first logins safe without a transaction.
	if _, err := s.exec(ctx, s.db,
		`INSERT INTO users (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, dbTime(now())); err != nil {
		return User{}, fmt.Errorf("jobs: create user: %w", err)
	}
	var u User
	var created int64
	err := s.queryRow(ctx, s.db, `SELECT id, name, created_at FROM users WHERE name = ?`, name).
		Scan(&u.ID, &u.Name, &created)
	if err != nil {
		return User{}, fmt.Errorf("jobs: read user: %w", err)
	}
	u.Created = goTime(created)
	return u, nil
}

// Submit records the job with an Accepted status and enqueues it for the
// workers in one transaction, so a job is never recorded without being queued
// or queued without being recorded. It refuses with a *LimitError (ErrLimit)
// when the user has Limits.MaxQueued jobs waiting, or outputs of
// Limits.MaxStorage bytes or more.
func (s *Store) Submit(ctx context.Context, sub Submission) (Job, error) {
	switch {
	case sub.Identifier == "":
		return Job{}, errors.New("jobs: submit: empty process identifier")
	case !json.Valid([]byte(sub.DataInputs)):
		return Job{}, errors.New("jobs: submit: data inputs are not valid JSON")
	}
	t := now()
	job := Job{
		UserID:     sub.UserID,
		Identifier: sub.Identifier,
		DataInputs: sub.DataInputs,
		Request:    sub.Request,
		State:      Accepted,
		Created:    t,
		Updated:    t,
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkLimits(ctx, tx, sub.UserID); err != nil {
			return err
		}
		err := s.queryRow(ctx, tx, `INSERT INTO jobs
			(user_id, identifier, data_inputs, request, state, percent, message, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, '', ?, ?) RETURNING id`,
			job.UserID, job.Identifier, job.DataInputs, job.Request, job.State, dbTime(t), dbTime(t)).
			Scan(&job.ID)
		if err != nil {
			return fmt.Errorf("jobs: insert job: %w", err)
		}
		statusID, err := s.insertStatus(ctx, tx, job.ID, Accepted, t)
		if err != nil {
			return err
		}
		job.StatusIDs = []int64{statusID}
		return s.queue.enqueueTx(ctx, tx, job.ID)
	})
	if err != nil {
		return Job{}, err
	}
	return job, nil
}

// checkLimits refuses a submission over the user's queued or storage limit.
// It first locks the user's row, so that on PostgreSQL concurrent
// submissions of one user queue up and each counts the others' jobs (SQLite
// runs one writing transaction at a time anyway).
func (s *Store) checkLimits(ctx context.Context, tx *sql.Tx, userID int64) error {
	res, err := s.exec(ctx, tx, `UPDATE users SET name = name WHERE id = ?`, userID)
	if err != nil {
		return fmt.Errorf("jobs: submit: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("jobs: submit: %w", err)
	} else if n == 0 {
		return fmt.Errorf("jobs: submit: user %d: %w", userID, ErrNotFound)
	}
	lim := s.Limits()
	if lim.MaxQueued > 0 {
		var waiting int64
		if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM jobs WHERE user_id = ? AND `+waitingCond,
			userID).Scan(&waiting); err != nil {
			return fmt.Errorf("jobs: count waiting jobs: %w", err)
		}
		if waiting >= int64(lim.MaxQueued) {
			return &LimitError{Limit: "queued", Used: waiting, Max: int64(lim.MaxQueued), Text: fmt.Sprintf(
				"You already have %d jobs waiting to run, the most one user may have (%d). "+
					"Submit more when some have started, or dismiss some.", waiting, lim.MaxQueued)}
		}
	}
	if lim.MaxStorage > 0 {
		var used int64
		if err := s.queryRow(ctx, tx, `SELECT CAST(COALESCE(SUM(o.size), 0) AS BIGINT)
			FROM outputs o JOIN jobs j ON j.id = o.job_id WHERE j.user_id = ?`, userID).Scan(&used); err != nil {
			return fmt.Errorf("jobs: sum output sizes: %w", err)
		}
		if used >= lim.MaxStorage {
			return &LimitError{Limit: "storage", Used: used, Max: lim.MaxStorage, Text: fmt.Sprintf(
				"Your stored outputs take %s (%d bytes), and one user may keep at most %s (%d bytes). "+
					"Dismiss (delete) jobs whose outputs you no longer need, then submit again.",
				formatBytes(used), used, formatBytes(lim.MaxStorage), lim.MaxStorage)}
		}
	}
	return nil
}

// waitingCond selects unfinished jobs no attempt holds. The states are
// literals, not parameters, so that both databases can use the partial
// index jobs_waiting, whose condition this repeats.
const waitingCond = `lease_until IS NULL AND state IN ('ProcessAccepted', 'ProcessStarted')`

const jobColumns = `id, user_id, identifier, data_inputs, request, state, percent, message,
	created_at, updated_at, started_at, finished_at, attempt, worker, dismissed_at`

type scanner interface{ Scan(dest ...any) error }

func scanJob(row scanner) (Job, error) {
	var j Job
	var created, updated int64
	var started, finished, dismissed sql.NullInt64
	err := row.Scan(&j.ID, &j.UserID, &j.Identifier, &j.DataInputs, &j.Request, &j.State,
		&j.Percent, &j.Message, &created, &updated, &started, &finished, &j.Attempt, &j.Worker, &dismissed)
	if err != nil {
		return Job{}, err
	}
	j.Created, j.Updated = goTime(created), goTime(updated)
	j.Started, j.Finished = goTimePtr(started), goTimePtr(finished)
	j.Dismissed = goTimePtr(dismissed)
	return j, nil
}

// setExpires fills Job.Expires from the retention.
func (s *Store) setExpires(j *Job) {
	if r := s.Limits().Retention; r > 0 && j.Finished != nil {
		t := j.Finished.Add(r)
		j.Expires = &t
	}
}

// Get returns the user's job with its outputs and status ids.
func (s *Store) Get(ctx context.Context, userID, jobID int64) (Job, error) {
	return s.getJob(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ? AND user_id = ?`, jobID, userID)
}

// JobForWorker loads a job by id without owner scoping: workers run
// everyone's jobs.
func (s *Store) JobForWorker(ctx context.Context, jobID int64) (Job, error) {
	return s.getJob(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, jobID)
}

func (s *Store) getJob(ctx context.Context, query string, jobID int64, args ...any) (Job, error) {
	j, err := scanJob(s.queryRow(ctx, s.db, query, append([]any{jobID}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("job %d: %w", jobID, ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("jobs: read job %d: %w", jobID, err)
	}
	s.setExpires(&j)
	// The job row is read before its children: a concurrent Succeed commits
	// outputs and state together, so a Succeeded job always has its outputs.
	list := []Job{j}
	if err := s.attachChildren(ctx, list); err != nil {
		return Job{}, err
	}
	return list[0], nil
}

// List returns a page of the user's jobs, newest first, and how many they have.
// limit <= 0 means the reference's page size of 50.
func (s *Store) List(ctx context.Context, userID int64, limit, offset int) ([]Job, int, error) {
	if limit <= 0 {
		limit = defaultPageSize
	}
	offset = max(offset, 0)
	var total int
	if err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM jobs WHERE user_id = ?`, userID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("jobs: count jobs: %w", err)
	}
	rows, err := s.query(ctx, s.db, `SELECT `+jobColumns+` FROM jobs WHERE user_id = ?
		ORDER BY id DESC LIMIT ? OFFSET ?`, userID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("jobs: list jobs: %w", err)
	}
	var list []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("jobs: list jobs: %w", err)
		}
		s.setExpires(&j)
		list = append(list, j)
	}
	rows.Close() // before the next query: it holds the only SQLite connection
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("jobs: list jobs: %w", err)
	}
	if err := s.attachChildren(ctx, list); err != nil {
		return nil, 0, err
	}
	return list, total, nil
}

// attachChildren fills StatusIDs and Outputs of the given jobs with one query each.
func (s *Store) attachChildren(ctx context.Context, list []Job) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]any, len(list))
	index := make(map[int64]int, len(list))
	for i, j := range list {
		ids[i] = j.ID
		index[j.ID] = i
	}
	in := placeholders(len(ids))

	rows, err := s.query(ctx, s.db, `SELECT id, job_id FROM statuses WHERE job_id IN (`+in+`) ORDER BY id`, ids...)
	if err != nil {
		return fmt.Errorf("jobs: read statuses: %w", err)
	}
	for rows.Next() {
		var id, jobID int64
		if err := rows.Scan(&id, &jobID); err != nil {
			rows.Close()
			return fmt.Errorf("jobs: read statuses: %w", err)
		}
		j := &list[index[jobID]]
		j.StatusIDs = append(j.StatusIDs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("jobs: read statuses: %w", err)
	}

	outputs, err := s.readOutputs(ctx, s.db, `SELECT `+outputColumns+` FROM outputs o
		WHERE o.job_id IN (`+in+`) ORDER BY o.id`, ids...)
	if err != nil {
		return err
	}
	for _, o := range outputs {
		j := &list[index[o.JobID]]
		j.Outputs = append(j.Outputs, o)
	}
	return nil
}

const outputColumns = `o.id, o.job_id, o.name, o.path, o.size, o.var_id, o.mime_type, o.token, o.created_at`

func (s *Store) readOutputs(ctx context.Context, q querier, query string, args ...any) ([]Output, error) {
	rows, err := s.query(ctx, q, query, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs: read outputs: %w", err)
	}
	defer rows.Close()
	var list []Output
	for rows.Next() {
		var o Output
		var created int64
		if err := rows.Scan(&o.ID, &o.JobID, &o.Name, &o.Path, &o.Size, &o.VarID, &o.MimeType, &o.Token, &created); err != nil {
			return nil, fmt.Errorf("jobs: read outputs: %w", err)
		}
		o.Created = goTime(created)
		list = append(list, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: read outputs: %w", err)
	}
	return list, nil
}

// Statuses returns the states the user's job went through, oldest first,
// each with its messages.
func (s *Store) Statuses(ctx context.Context, userID, jobID int64) ([]StatusRecord, error) {
	var one int
	err := s.queryRow(ctx, s.db, `SELECT 1 FROM jobs WHERE id = ? AND user_id = ?`, jobID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("job %d: %w", jobID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: read job %d: %w", jobID, err)
	}
	rows, err := s.query(ctx, s.db, `SELECT id, job_id, state, created_at, updated_at
		FROM statuses WHERE job_id = ? ORDER BY id`, jobID)
	if err != nil {
		return nil, fmt.Errorf("jobs: read statuses: %w", err)
	}
	var list []StatusRecord
	for rows.Next() {
		st, err := scanStatus(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("jobs: read statuses: %w", err)
		}
		list = append(list, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: read statuses: %w", err)
	}
	msgs, err := s.readMessages(ctx, `SELECT m.id, m.status_id, m.text, m.percent, m.created_at
		FROM messages m JOIN statuses s ON s.id = m.status_id WHERE s.job_id = ? ORDER BY m.id`, jobID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Messages = msgs[list[i].ID]
	}
	return list, nil
}

// Status returns one status of one of the user's jobs, with its messages.
func (s *Store) Status(ctx context.Context, userID, statusID int64) (StatusRecord, error) {
	st, err := scanStatus(s.queryRow(ctx, s.db, `SELECT s.id, s.job_id, s.state, s.created_at, s.updated_at
		FROM statuses s JOIN jobs j ON j.id = s.job_id WHERE s.id = ? AND j.user_id = ?`, statusID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return StatusRecord{}, fmt.Errorf("status %d: %w", statusID, ErrNotFound)
	}
	if err != nil {
		return StatusRecord{}, fmt.Errorf("jobs: read status %d: %w", statusID, err)
	}
	msgs, err := s.readMessages(ctx, `SELECT id, status_id, text, percent, created_at
		FROM messages WHERE status_id = ? ORDER BY id`, statusID)
	if err != nil {
		return StatusRecord{}, err
	}
	st.Messages = msgs[st.ID]
	return st, nil
}

func scanStatus(row scanner) (StatusRecord, error) {
	var st StatusRecord
	var created, updated int64
	if err := row.Scan(&st.ID, &st.JobID, &st.State, &created, &updated); err != nil {
		return StatusRecord{}, err
	}
	st.Created, st.Updated = goTime(created), goTime(updated)
	return st, nil
}

// readMessages returns messages by status id, each list in query order.
func (s *Store) readMessages(ctx context.Context, query string, args ...any) (map[int64][]Message, error) {
	rows, err := s.query(ctx, s.db, query, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs: read messages: %w", err)
	}
	defer rows.Close()
	byStatus := make(map[int64][]Message)
	for rows.Next() {
		var m Message
		var statusID, created int64
		if err := rows.Scan(&m.ID, &statusID, &m.Text, &m.Percent, &created); err != nil {
			return nil, fmt.Errorf("jobs: read messages: %w", err)
		}
		m.Created = goTime(created)
		byStatus[statusID] = append(byStatus[statusID], m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: read messages: %w", err)
	}
	return byStatus, nil
}

// OutputByToken returns the output a download token names. The token is the
// capability, so this is not scoped to a user.
func (s *Store) OutputByToken(ctx context.Context, token string) (Output, error) {
	return s.oneOutput(ctx, `SELECT `+outputColumns+` FROM outputs o WHERE o.token = ?`, token)
}

// Output returns the output called name of one of the user's jobs.
func (s *Store) Output(ctx context.Context, userID, jobID int64, name string) (Output, error) {
	return s.oneOutput(ctx, `SELECT `+outputColumns+` FROM outputs o JOIN jobs j ON j.id = o.job_id
		WHERE o.job_id = ? AND o.name = ? AND j.user_id = ?`, jobID, name, userID)
}

func (s *Store) oneOutput(ctx context.Context, query string, args ...any) (Output, error) {
	list, err := s.readOutputs(ctx, s.db, query, args...)
	if err != nil {
		return Output{}, err
	}
	if len(list) == 0 {
		return Output{}, fmt.Errorf("output: %w", ErrNotFound)
	}
	return list[0], nil
}

// Delete removes the user's job with its statuses, messages and outputs, and
// returns the removed outputs so the caller can delete their files. A running
// attempt of the job is stopped like a dismissed one; a waiting job simply
// never runs. Cancel keeps the record and is what users' DELETE should use.
func (s *Store) Delete(ctx context.Context, userID, jobID int64) ([]Output, error) {
	var outputs []Output
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		outputs, err = s.readOutputs(ctx, tx, `SELECT `+outputColumns+` FROM outputs o JOIN jobs j ON j.id = o.job_id
			WHERE o.job_id = ? AND j.user_id = ? ORDER BY o.id`, jobID, userID)
		if err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, `DELETE FROM jobs WHERE id = ? AND user_id = ?`, jobID, userID)
		if err != nil {
			return fmt.Errorf("jobs: delete job %d: %w", jobID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("jobs: delete job %d: %w", jobID, err)
		} else if n == 0 {
			return fmt.Errorf("job %d: %w", jobID, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return outputs, nil
}

// Wait polls the store until the user's job is done or ctx ends; polling
// works across processes. On ctx end it returns the last job read and ctx's error.
func (s *Store) Wait(ctx context.Context, userID, jobID int64, poll time.Duration) (Job, error) {
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	var last Job
	for {
		job, err := s.Get(ctx, userID, jobID)
		switch {
		case err != nil && ctx.Err() != nil:
			return last, ctx.Err()
		case err != nil:
			return Job{}, err
		case job.State.Done():
			return job, nil
		}
		last = job
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-ticker.C:
		}
	}
}
