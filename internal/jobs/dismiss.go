package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// msgDismissed is the final message of a job its owner dismissed before it
// finished.
const msgDismissed = "Dismissed by its owner"

// Cancel dismisses the user's job (WPS 1.0.0 has no dismissed state, so
// documents show it as ProcessFailed with the message "Dismissed by its
// owner", and Job.Dismissed is set):
//
//   - a waiting job never runs: a worker that gets its ticket finds it
//     finished;
//   - a running job becomes Failed at once; its attempt, in this process or
//     another, sees that within Runner's CheckInterval and its context is
//     cancelled with a cause that tells the Runner to record nothing more;
//   - a finished job keeps its state and message but loses its outputs.
//
// Cancel removes the job's output records and returns them with the job's
// directory: the caller deletes the files (RemoveFiles). Dismissing a
// dismissed job again does nothing and returns no outputs. Another user's
// job is ErrNotFound.
func (s *Store) Cancel(ctx context.Context, userID, jobID int64) (Dismissal, error) {
	var d Dismissal
	t := now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var st State
		var lease string
		var dismissed sql.NullInt64
		err := s.queryRow(ctx, tx, `SELECT state, lease, dismissed_at FROM jobs WHERE id = ? AND user_id = ?`,
			jobID, userID).Scan(&st, &lease, &dismissed)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("job %d: %w", jobID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("jobs: read job %d: %w", jobID, err)
		}
		if dismissed.Valid {
			return nil
		}
		if !st.Done() {
			moved, current, err := s.transition(ctx, tx, jobID, Failed, []State{Accepted, Started, Paused}, 0, msgDismissed, t, "")
			if err != nil {
				return err
			}
			if !moved { // finished in between: cannot happen in this transaction, but be exact
				return fmt.Errorf("dismiss job %d (%s): %w", jobID, current, ErrDone)
			}
			d.WasRunning = lease != ""
		}
		if _, err := s.exec(ctx, tx, `UPDATE jobs SET dismissed_at = ? WHERE id = ?`, dbTime(t), jobID); err != nil {
			return fmt.Errorf("jobs: dismiss job %d: %w", jobID, err)
		}
		d.Outputs, err = s.readOutputs(ctx, tx, `SELECT `+outputColumns+` FROM outputs o WHERE o.job_id = ? ORDER BY o.id`, jobID)
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM outputs WHERE job_id = ?`, jobID); err != nil {
			return fmt.Errorf("jobs: remove outputs of job %d: %w", jobID, err)
		}
		return nil
	})
	if err != nil {
		return Dismissal{}, err
	}
	if d.WasRunning {
		s.runners.kick() // a Runner of this process may hold it: stop it now
	}
	if d.Job, err = s.Get(ctx, userID, jobID); err != nil {
		return Dismissal{}, err
	}
	d.Dir = JobDir(userID, jobID)
	return d, nil
}

// expireBatch bounds one expiry transaction.
const expireBatch = 200

// Expire removes the jobs that finished before olderThan, with their
// statuses, messages and output records, and returns them so the caller can
// delete their files (RemoveFiles). Several processes may expire at once:
// each removed job is returned by exactly one of them.
func (s *Store) Expire(ctx context.Context, olderThan time.Time) ([]Expired, error) {
	var all []Expired
	for {
		batch, err := s.expireBatch(ctx, dbTime(olderThan))
		if err != nil {
			return all, err
		}
		all = append(all, batch...)
		if len(batch) < expireBatch {
			return all, nil
		}
	}
}

// expireBatch reads the outputs of the oldest expired jobs, then deletes
// those jobs. It keeps only what its own DELETE removed: on PostgreSQL a
// concurrent expirer's DELETE waits for ours, then finds the rows gone.
func (s *Store) expireBatch(ctx context.Context, before int64) ([]Expired, error) {
	var list []Expired
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		list = nil
		rows, err := s.query(ctx, tx, `SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?
			ORDER BY finished_at LIMIT ?`, before, expireBatch)
		if err != nil {
			return fmt.Errorf("jobs: expire: %w", err)
		}
		var ids []any
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("jobs: expire: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("jobs: expire: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		in := placeholders(len(ids))
		outputs, err := s.readOutputs(ctx, tx, `SELECT `+outputColumns+` FROM outputs o
			WHERE o.job_id IN (`+in+`) ORDER BY o.id`, ids...)
		if err != nil {
			return err
		}
		rows, err = s.query(ctx, tx, `DELETE FROM jobs WHERE id IN (`+in+`) AND finished_at < ?
			RETURNING id, user_id`, append(ids, before)...)
		if err != nil {
			return fmt.Errorf("jobs: expire: %w", err)
		}
		index := map[int64]int{}
		for rows.Next() {
			var e Expired
			if err := rows.Scan(&e.JobID, &e.UserID); err != nil {
				rows.Close()
				return fmt.Errorf("jobs: expire: %w", err)
			}
			e.Dir = JobDir(e.UserID, e.JobID)
			index[e.JobID] = len(list)
			list = append(list, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("jobs: expire: %w", err)
		}
		for _, o := range outputs {
			if i, ok := index[o.JobID]; ok {
				list[i].Outputs = append(list[i].Outputs, o)
			}
		}
		return nil
	})
	return list, err
}

// RemoveFiles deletes the files of a dismissed or expired job under
// dataPath: its outputs, then its directory with anything an attempt left
// there. Paths that would leave dataPath are ignored. Files already gone
// are not an error.
func RemoveFiles(dataPath, dir string, outputs []Output) error {
	var errs []error
	for _, o := range outputs {
		if !filepath.IsLocal(o.Path) {
			continue
		}
		if err := os.Remove(filepath.Join(dataPath, o.Path)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if dir != "" && filepath.IsLocal(dir) {
		if err := os.RemoveAll(filepath.Join(dataPath, dir)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
