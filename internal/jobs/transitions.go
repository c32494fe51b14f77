package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The worker-side transitions are not user-scoped. Each one first updates the
// jobs row conditionally on its current state ("compare and set"), so two
// workers racing on one job cannot both move it, on SQLite or on a database
// with row locks; only then are the status and message rows added.
//
//	Accepted -> Started -> Succeeded | Failed
//	Accepted -> Failed
//
// Called with the context a Runner gives its RunFunc, Progress, Succeed and
// Fail also require the attempt's lease (see lease.go): an attempt that lost
// its job records nothing and gets ErrLeaseLost.

// Start moves an Accepted job to Started without a lease, so a worker may
// still claim it; Runners claim jobs instead (claim in lease.go). Starting a
// Started job again is a no-op.
func (s *Store) Start(ctx context.Context, jobID int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		moved, current, err := s.transition(ctx, tx, jobID, Started, []State{Accepted}, 0, "", now(), "")
		switch {
		case err != nil || moved || current == Started:
			return err
		case current.Done():
			return fmt.Errorf("start job %d (%s): %w", jobID, current, ErrDone)
		default:
			return fmt.Errorf("start job %d (%s): %w", jobID, current, ErrTransition)
		}
	})
}

// Progress adds a message to the job's latest status; percent is clamped to 0..100.
func (s *Store) Progress(ctx context.Context, jobID int64, percent int, message string) error {
	percent = min(max(percent, 0), 100)
	t := now()
	lease := leaseOf(ctx, jobID)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		cond, args := leaseCond(lease)
		res, err := s.exec(ctx, tx, `UPDATE jobs SET percent = ?, message = ?, updated_at = ?
			WHERE id = ? AND state NOT IN (?, ?)`+cond,
			append([]any{percent, message, dbTime(t), jobID, Succeeded, Failed}, args...)...)
		if err != nil {
			return fmt.Errorf("jobs: progress of job %d: %w", jobID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("jobs: progress of job %d: %w", jobID, err)
		} else if n == 0 {
			current, err := s.state(ctx, tx, jobID)
			if err != nil {
				return err
			}
			if !current.Done() {
				return fmt.Errorf("progress of job %d: %w", jobID, ErrLeaseLost)
			}
			return fmt.Errorf("progress of job %d (%s): %w", jobID, current, ErrDone)
		}
		var statusID int64
		err = s.queryRow(ctx, tx, `SELECT id FROM statuses WHERE job_id = ? ORDER BY id DESC LIMIT 1`, jobID).Scan(&statusID)
		if err != nil {
			return fmt.Errorf("jobs: latest status of job %d: %w", jobID, err)
		}
		return s.insertMessage(ctx, tx, statusID, message, percent, t)
	})
}

// Succeed moves a Started job to Succeeded with its outputs and a final
// message (percent 100), all at once. It returns the outputs with their ids
// and freshly generated download tokens.
func (s *Store) Succeed(ctx context.Context, jobID int64, outputs []Output, message string) ([]Output, error) {
	t := now()
	stored := make([]Output, len(outputs))
	for i, o := range outputs {
		if o.Name == "" || o.Path == "" {
			return nil, fmt.Errorf("jobs: succeed job %d: output %d has no name or path", jobID, i)
		}
		o.JobID, o.Token, o.Created = jobID, newToken(), t
		stored[i] = o
	}
	lease := leaseOf(ctx, jobID)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		moved, current, err := s.transition(ctx, tx, jobID, Succeeded, []State{Started}, 100, message, t, lease)
		switch {
		case err != nil:
			return err
		case !moved && lease != "" && !current.Done():
			return fmt.Errorf("succeed job %d: %w", jobID, ErrLeaseLost)
		case !moved && current.Done():
			return fmt.Errorf("succeed job %d (%s): %w", jobID, current, ErrDone)
		case !moved:
			return fmt.Errorf("succeed job %d (%s): %w", jobID, current, ErrTransition)
		}
		for i := range stored {
			o := &stored[i]
			err := s.queryRow(ctx, tx, `INSERT INTO outputs
				(job_id, name, path, size, var_id, mime_type, token, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				o.JobID, o.Name, o.Path, o.Size, o.VarID, o.MimeType, o.Token, dbTime(o.Created)).Scan(&o.ID)
			if err != nil {
				return fmt.Errorf("jobs: insert output %q of job %d: %w", o.Name, jobID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// Fail moves an unfinished job to Failed with message (percent 0). Failing a
// Failed job is a no-op, so every error path may call it without checking first.
func (s *Store) Fail(ctx context.Context, jobID int64, message string) error {
	lease := leaseOf(ctx, jobID)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		moved, current, err := s.transition(ctx, tx, jobID, Failed, []State{Accepted, Started, Paused}, 0, message, now(), lease)
		switch {
		case err != nil || moved || current == Failed:
			return err
		case lease != "" && !current.Done():
			return fmt.Errorf("fail job %d: %w", jobID, ErrLeaseLost)
		default:
			return fmt.Errorf("fail job %d (%s): %w", jobID, current, ErrDone)
		}
	})
}

// transition sets the job's state to `to` if it is one of from (and, when
// lease is set, if that lease holds the job), then records the new status
// and, if message is set, its first message. A final state releases the
// lease. When the job is in another state it reports that state and changes
// nothing.
func (s *Store) transition(ctx context.Context, tx *sql.Tx, jobID int64, to State, from []State,
	percent int, message string, t time.Time, lease string) (moved bool, current State, err error) {
	if message == "" {
		percent = 0 // the job's percent is that of its latest message, 0 when none
	}
	set := `state = ?, percent = ?, message = ?, updated_at = ?`
	args := []any{to, percent, message, dbTime(t)}
	switch {
	case to == Started:
		set += `, started_at = ?`
		args = append(args, dbTime(t))
	case to.Done():
		set += `, finished_at = ?, ` + releaseLease
		args = append(args, dbTime(t))
	}
	args = append(args, jobID)
	for _, f := range from {
		args = append(args, f)
	}
	cond, largs := leaseCond(lease)
	args = append(args, largs...)
	res, err := s.exec(ctx, tx, `UPDATE jobs SET `+set+` WHERE id = ? AND state IN (`+placeholders(len(from))+`)`+cond, args...)
	if err != nil {
		return false, "", fmt.Errorf("jobs: move job %d to %s: %w", jobID, to, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, "", fmt.Errorf("jobs: move job %d to %s: %w", jobID, to, err)
	}
	if n == 0 {
		current, err := s.state(ctx, tx, jobID)
		return false, current, err
	}
	statusID, err := s.insertStatus(ctx, tx, jobID, to, t)
	if err != nil {
		return false, "", err
	}
	if message != "" {
		if err := s.insertMessage(ctx, tx, statusID, message, percent, t); err != nil {
			return false, "", err
		}
	}
	return true, to, nil
}

// state reads a job's current state, or ErrNotFound.
func (s *Store) state(ctx context.Context, q querier, jobID int64) (State, error) {
	var st State
	err := s.queryRow(ctx, q, `SELECT state FROM jobs WHERE id = ?`, jobID).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("job %d: %w", jobID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("jobs: read state of job %d: %w", jobID, err)
	}
	return st, nil
}

func (s *Store) insertStatus(ctx context.Context, tx *sql.Tx, jobID int64, st State, t time.Time) (int64, error) {
	var id int64
	err := s.queryRow(ctx, tx, `INSERT INTO statuses (job_id, state, created_at, updated_at)
		VALUES (?, ?, ?, ?) RETURNING id`, jobID, st, dbTime(t), dbTime(t)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("jobs: insert %s status of job %d: %w", st, jobID, err)
	}
	return id, nil
}

// insertMessage adds a message and bumps its status's updated time, which the
// job API uses for the elapsed time.
func (s *Store) insertMessage(ctx context.Context, tx *sql.Tx, statusID int64, text string, percent int, t time.Time) error {
	if _, err := s.exec(ctx, tx, `INSERT INTO messages (status_id, text, percent, created_at) VALUES (?, ?, ?, ?)`,
		statusID, text, percent, dbTime(t)); err != nil {
		return fmt.Errorf("jobs: insert message: %w", err)
	}
	if _, err := s.exec(ctx, tx, `UPDATE statuses SET updated_at = ? WHERE id = ?`, dbTime(t), statusID); err != nil {
		return fmt.Errorf("jobs: touch status %d: %w", statusID, err)
	}
	return nil
}
