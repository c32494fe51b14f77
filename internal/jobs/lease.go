package jobs

// Leases: how each job runs exactly once at a time, over any number of
// worker processes, and how a job whose worker died runs again.
//
// A worker that gets a River ticket claims a waiting job in one transaction
// (claim): it sets a random lease token, its own name, lease_until = now +
// lease, and attempt + 1. Only a waiting job (unfinished, lease_until NULL)
// can be claimed, and the UPDATE re-checks that, so two workers never hold
// one job. While the job runs, the Runner's keeper renews lease_until every
// quarter lease and checks every CheckInterval that the job is still its own
// (not dismissed, deleted or reaped); if not, it cancels the job's context.
// An attempt that cannot renew for three quarters of the lease (database
// unreachable) cancels itself, so it has stopped before any other worker may
// take the job over.
//
// Every write of an attempt (Progress, Succeed, Fail with the context the
// Runner gave the RunFunc) requires its lease token: an attempt that lost
// its job can no longer record anything, in particular not its outputs.
//
// The reaper in every Runner finds leases that expired (their worker was
// killed, lost its machine, or hung) and either puts the job back to wait,
// with a new ticket and the message "Retrying after the worker running it
// stopped (attempt 2 of 3)", or, once it has had its attempts, fails it.
// A Runner that shuts down before its job finishes hands the job back at
// once, without counting the attempt.
//
// Times are the workers' clocks (the one code path for SQLite and
// PostgreSQL has no database clock): machines sharing a database must keep
// their clocks within a small fraction of the lease, as NTP does.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
)

// releaseLease is the SET clause that leaves a job held by no attempt.
const releaseLease = `lease_until = NULL, lease = '', worker = ''`

const (
	msgRetrying   = "Retrying after the worker running it stopped (attempt %d of %d)"
	msgGaveUp     = "Failed after %d attempts: each time, the worker running the job stopped before it finished"
	msgHandedBack = "Waiting for a worker: the one running this job shut down before it finished"
)

var (
	// errNothingWaiting: a ticket found no job waiting; it is used up.
	errNothingWaiting = errors.New("jobs: no job is waiting")
	// errAtLimit: jobs wait, but their users run as many as they may.
	errAtLimit = errors.New("jobs: every waiting job's user runs as many jobs as allowed")
	// errDismissed and errDeleted are the causes with which an attempt's
	// context is cancelled when its job is dismissed or deleted.
	errDismissed = errors.New("jobs: the job was dismissed by its owner")
	errDeleted   = errors.New("jobs: the job was deleted")
	// errFinished: the job finished while the keeper looked.
	errFinished = errors.New("jobs: the job finished")
)

type leaseKey struct{}

type heldLease struct {
	jobID int64
	token string
}

// withLease marks ctx as belonging to the attempt holding jobID with token.
func withLease(ctx context.Context, jobID int64, token string) context.Context {
	return context.WithValue(ctx, leaseKey{}, heldLease{jobID, token})
}

// leaseOf returns the lease token ctx carries for jobID, or "".
func leaseOf(ctx context.Context, jobID int64) string {
	if l, ok := ctx.Value(leaseKey{}).(heldLease); ok && l.jobID == jobID {
		return l.token
	}
	return ""
}

// leaseCond is the WHERE condition requiring lease, if set.
func leaseCond(lease string) (string, []any) {
	if lease == "" {
		return "", nil
	}
	return ` AND lease = ?`, []any{lease}
}

// defaultWorkerName names this process in Job.Worker.
func defaultWorkerName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

func newLeaseToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// claimTries bounds the retries of a claim that lost a race for its job.
const claimTries = 5

// claim takes the fairest waiting job for worker: the oldest job of the
// users who run the fewest jobs, among users below Limits.MaxRunning. It
// returns errNothingWaiting or errAtLimit when there is none.
func (s *Store) claim(ctx context.Context, worker string, lease time.Duration) (Job, string, error) {
	token := newLeaseToken()
	for range claimTries {
		jobID, err := s.tryClaim(ctx, worker, token, lease)
		if errors.Is(err, errClaimRace) {
			continue
		}
		if err != nil {
			return Job{}, "", err
		}
		job, err := s.JobForWorker(ctx, jobID)
		if err != nil {
			// Claimed but not loaded (shutdown, a dropped connection): give
			// it back now rather than leave it to the reaper as a dead attempt.
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if herr := s.handBack(hctx, jobID, token); herr != nil {
				err = errors.Join(err, herr)
			}
			return Job{}, "", err
		}
		return job, token, nil
	}
	return Job{}, "", errAtLimit // contended: the ticket tries again shortly
}

var errClaimRace = errors.New("jobs: another worker claimed the job first")

// running counts the user's jobs held by an attempt; ? is the user id.
const runningCount = `(SELECT COUNT(*) FROM jobs r WHERE r.user_id = ? AND r.lease_until IS NOT NULL)`

func (s *Store) tryClaim(ctx context.Context, worker, token string, lease time.Duration) (int64, error) {
	maxRunning := s.Limits().MaxRunning
	var jobID int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q := `SELECT j.id, j.user_id, j.state FROM jobs j WHERE ` + waitingCond
		var args []any
		// The correlated count names j.user_id, not a placeholder.
		running := `(SELECT COUNT(*) FROM jobs r WHERE r.user_id = j.user_id AND r.lease_until IS NOT NULL)`
		if maxRunning > 0 {
			q += ` AND ` + running + ` < ?`
			args = append(args, maxRunning)
		}
		var userID int64
		var st State
		err := s.queryRow(ctx, tx, q+` ORDER BY `+running+`, j.id LIMIT 1`, args...).Scan(&jobID, &userID, &st)
		if errors.Is(err, sql.ErrNoRows) {
			var one int
			err := s.queryRow(ctx, tx, `SELECT 1 FROM jobs WHERE `+waitingCond+` LIMIT 1`).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return errNothingWaiting
			}
			if err != nil {
				return fmt.Errorf("jobs: claim: %w", err)
			}
			return errAtLimit
		}
		if err != nil {
			return fmt.Errorf("jobs: claim: %w", err)
		}
		// Lock the user's row (PostgreSQL; SQLite runs one writer at a time)
		// so that two workers cannot both take the user's last free slot;
		// the UPDATE below then counts with the other's claim committed.
		if _, err := s.exec(ctx, tx, `UPDATE users SET name = name WHERE id = ?`, userID); err != nil {
			return fmt.Errorf("jobs: claim: %w", err)
		}
		t := now()
		q = `UPDATE jobs SET state = ?, attempt = attempt + 1, lease = ?, worker = ?, lease_until = ?,
			started_at = COALESCE(started_at, ?), updated_at = ?
			WHERE id = ? AND ` + waitingCond
		args = []any{Started, token, worker, dbTime(t.Add(lease)), dbTime(t), dbTime(t), jobID}
		if maxRunning > 0 {
			q += ` AND ` + runningCount + ` < ?`
			args = append(args, userID, maxRunning)
		}
		res, err := s.exec(ctx, tx, q, args...)
		if err != nil {
			return fmt.Errorf("jobs: claim job %d: %w", jobID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("jobs: claim job %d: %w", jobID, err)
		} else if n == 0 {
			return errClaimRace
		}
		if st == Accepted {
			if _, err := s.insertStatus(ctx, tx, jobID, Started, t); err != nil {
				return err
			}
		}
		return nil
	})
	return jobID, err
}

// renew extends the leases of tokens that still hold a Started job.
func (s *Store) renew(ctx context.Context, tokens []string, lease time.Duration) error {
	if len(tokens) == 0 {
		return nil
	}
	args := []any{dbTime(now().Add(lease)), Started}
	for _, t := range tokens {
		args = append(args, t)
	}
	_, err := s.exec(ctx, s.db, `UPDATE jobs SET lease_until = ? WHERE state = ? AND lease IN (`+
		placeholders(len(tokens))+`)`, args...)
	if err != nil {
		return fmt.Errorf("jobs: renew leases: %w", err)
	}
	return nil
}

// leaseState is what the keeper reads of a held job.
type leaseState struct {
	lease     string
	state     State
	dismissed bool
}

func (s *Store) leaseStates(ctx context.Context, jobIDs []int64) (map[int64]leaseState, error) {
	args := make([]any, len(jobIDs))
	for i, id := range jobIDs {
		args[i] = id
	}
	rows, err := s.query(ctx, s.db, `SELECT id, lease, state, dismissed_at FROM jobs WHERE id IN (`+
		placeholders(len(args))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs: read leases: %w", err)
	}
	defer rows.Close()
	m := make(map[int64]leaseState, len(jobIDs))
	for rows.Next() {
		var id int64
		var ls leaseState
		var dismissed sql.NullInt64
		if err := rows.Scan(&id, &ls.lease, &ls.state, &dismissed); err != nil {
			return nil, fmt.Errorf("jobs: read leases: %w", err)
		}
		ls.dismissed = dismissed.Valid
		m[id] = ls
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: read leases: %w", err)
	}
	return m, nil
}

// reapBatch bounds the expired leases handled per reaper pass.
const reapBatch = 100

// reap puts back, or fails after attempts, every job whose lease expired.
// It returns how many it put back and how many it failed.
func (s *Store) reap(ctx context.Context, attempts int) (requeued, failed int, err error) {
	t := now()
	rows, err := s.query(ctx, s.db, `SELECT id, lease, attempt FROM jobs
		WHERE lease_until IS NOT NULL AND lease_until < ? ORDER BY lease_until LIMIT ?`, dbTime(t), reapBatch)
	if err != nil {
		return 0, 0, fmt.Errorf("jobs: find expired leases: %w", err)
	}
	type expired struct {
		id      int64
		lease   string
		attempt int
	}
	var list []expired
	for rows.Next() {
		var e expired
		if err := rows.Scan(&e.id, &e.lease, &e.attempt); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("jobs: find expired leases: %w", err)
		}
		list = append(list, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("jobs: find expired leases: %w", err)
	}
	for _, e := range list {
		var retry bool
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			// Take the job from the dead attempt, unless it renewed or
			// finished since the query above.
			res, err := s.exec(ctx, tx, `UPDATE jobs SET `+releaseLease+` WHERE id = ? AND lease = ? AND lease_until < ?`,
				e.id, e.lease, dbTime(t))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err
			}
			if e.attempt >= attempts {
				_, _, err := s.transition(ctx, tx, e.id, Failed, []State{Started}, 0, fmt.Sprintf(msgGaveUp, e.attempt), now(), "")
				failed++
				return err
			}
			retry = true
			return s.requeueTx(ctx, tx, e.id, fmt.Sprintf(msgRetrying, e.attempt+1, attempts))
		})
		if err != nil {
			return requeued, failed, fmt.Errorf("jobs: recover job %d: %w", e.id, err)
		}
		if retry {
			requeued++
		}
	}
	return requeued, failed, nil
}

// requeueTx records why a job waits again (percent 0) and queues a ticket
// for it. The job must already be released.
func (s *Store) requeueTx(ctx context.Context, tx *sql.Tx, jobID int64, message string) error {
	t := now()
	if _, err := s.exec(ctx, tx, `UPDATE jobs SET percent = 0, message = ?, updated_at = ? WHERE id = ?`,
		message, dbTime(t), jobID); err != nil {
		return err
	}
	var statusID int64
	if err := s.queryRow(ctx, tx, `SELECT id FROM statuses WHERE job_id = ? ORDER BY id DESC LIMIT 1`, jobID).Scan(&statusID); err != nil {
		return fmt.Errorf("jobs: latest status of job %d: %w", jobID, err)
	}
	if err := s.insertMessage(ctx, tx, statusID, message, 0, t); err != nil {
		return err
	}
	return s.queue.enqueueTx(ctx, tx, jobID)
}

// handBack returns a job whose Runner shuts down to the waiting jobs, with
// a new ticket so that another worker takes it at once. The interrupted
// attempt is not counted: the next one has the same number.
func (s *Store) handBack(ctx context.Context, jobID int64, lease string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE jobs SET `+releaseLease+`, attempt = attempt - 1
			WHERE id = ? AND lease = ? AND state = ?`, jobID, lease, Started)
		if err != nil {
			return fmt.Errorf("jobs: hand back job %d: %w", jobID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // no longer ours: nothing to hand back
		}
		return s.requeueTx(ctx, tx, jobID, msgHandedBack)
	})
}

// keeper renews the leases of a Runner's running jobs and cancels an
// attempt whose job is no longer its own.
type keeper struct {
	store *Store
	lease time.Duration
	check time.Duration
	log   *slog.Logger
	kickc chan struct{}

	mu   sync.Mutex
	held map[string]*hold // by lease token
}

type hold struct {
	jobID   int64
	cancel  context.CancelCauseFunc
	renewed time.Time // when lease_until was last set to renewed + lease
}

func newKeeper(s *Store, lease, check time.Duration, log *slog.Logger) *keeper {
	return &keeper{store: s, lease: lease, check: check, log: log,
		kickc: make(chan struct{}, 1), held: map[string]*hold{}}
}

// add starts watching an attempt claimed at claimed.
func (k *keeper) add(token string, jobID int64, claimed time.Time, cancel context.CancelCauseFunc) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.held[token] = &hold{jobID: jobID, cancel: cancel, renewed: claimed}
}

func (k *keeper) remove(token string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.held, token)
}

// kick makes the keeper check at once.
func (k *keeper) kick() {
	select {
	case k.kickc <- struct{}{}:
	default:
	}
}

func (k *keeper) run(ctx context.Context) {
	ticker := time.NewTicker(k.check)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-k.kickc:
		}
		k.tick(ctx)
	}
}

func (k *keeper) tick(ctx context.Context) {
	k.mu.Lock()
	held := make(map[string]hold, len(k.held))
	for token, h := range k.held {
		held[token] = *h
	}
	k.mu.Unlock()
	if len(held) == 0 {
		return
	}
	t := now()
	var due, ids = []string{}, []int64{}
	for token, h := range held {
		if t.Sub(h.renewed) >= k.lease/4 {
			due = append(due, token)
		}
		ids = append(ids, h.jobID)
	}
	renewErr := k.store.renew(ctx, due, k.lease)
	states, err := k.store.leaseStates(ctx, ids)
	if err == nil {
		err = renewErr
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		k.log.Warn("cannot renew job leases", "error", err)
		// Give the job up before the lease expires and another worker may
		// take it: the lease is long enough for an attempt to stop first.
		for token, h := range held {
			if t.Sub(h.renewed) >= k.lease*3/4 {
				h.cancel(fmt.Errorf("%w: the job store could not be reached for %v", ErrLeaseLost, t.Sub(h.renewed).Round(time.Second)))
				k.remove(token)
			}
		}
		return
	}
	renewed := map[string]bool{}
	for _, token := range due {
		renewed[token] = true
	}
	for token, h := range held {
		st, ok := states[h.jobID]
		var cause error
		switch {
		case !ok:
			cause = errDeleted
		case st.dismissed:
			cause = errDismissed
		case st.lease == token && st.state == Started:
			if renewed[token] {
				k.mu.Lock()
				if cur := k.held[token]; cur != nil {
					cur.renewed = t
				}
				k.mu.Unlock()
			}
			continue
		case st.state.Done() && st.lease == "":
			cause = errFinished
		default:
			cause = ErrLeaseLost
		}
		h.cancel(cause)
		k.remove(token)
	}
}
