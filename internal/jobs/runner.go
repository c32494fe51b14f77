package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// RunFunc executes one job. The job is already Started when it is called; it
// reports Progress and ends with Succeed, or returns an error. ctx is
// cancelled when the runner shuts down.
type RunFunc func(ctx context.Context, job Job) error

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	Workers      int           // jobs run at once by this process; default 1
	PollInterval time.Duration // how often idle workers look for new jobs; default 200ms
	Logger       *slog.Logger  // default: discard
}

// Messages recorded for failures the RunFunc did not describe itself. They
// are shown to users, so they name no internals.
const (
	msgPanic       = "internal error"
	msgNoResult    = "internal error: job finished without a result"
	msgInterrupted = "job interrupted: the server shut down before it finished"
	msgNoMessage   = "job failed"
)

const (
	defaultPollInterval = 200 * time.Millisecond
	// recordTimeout bounds the final store write after run returns, which
	// uses a context detached from the (possibly cancelled) job context.
	recordTimeout = 30 * time.Second
	// cancelGrace is how long Stop waits for cancelled jobs to return.
	cancelGrace = 30 * time.Second
)

// Runner executes queued jobs; see NewRunner.
type Runner struct {
	store    *Store
	run      RunFunc
	log      *slog.Logger
	queue    *workQueue
	running  atomic.Int64
	stopping atomic.Bool
}

// NewRunner returns a Runner that executes queued jobs with run, each once.
// If run returns an error the job is marked Failed with err.Error() and not
// retried. If run returns nil the job must already be Succeeded, else it is
// marked Failed. A panic in run is recovered and recorded as "internal error"
// (the panic value goes to the logger only). A queued job whose row was
// deleted is skipped.
func (s *Store) NewRunner(cfg RunnerConfig, run RunFunc) (*Runner, error) {
	if run == nil {
		return nil, errors.New("jobs: NewRunner: nil RunFunc")
	}
	if cfg.Workers < 0 {
		return nil, fmt.Errorf("jobs: NewRunner: %d workers", cfg.Workers)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = defaultPollInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{store: s, run: run, log: cfg.Logger}
	q, err := newWorkQueue(s.db, cfg, r.execute)
	if err != nil {
		return nil, err
	}
	r.queue = q
	return r, nil
}

// Start starts fetching and running jobs in the background. ctx bounds the
// start-up only: cancelling it later does not stop the runner, so that a
// signal context cannot skip the graceful Stop.
func (r *Runner) Start(ctx context.Context) error {
	r.stopping.Store(false)
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.queue.start(context.WithoutCancel(ctx))
}

// Stop stops fetching jobs and waits for running ones until ctx ends; then it
// cancels them, records them as interrupted, and waits for them to return.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopping.Store(true)
	err := r.queue.stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	r.log.Warn("cancelling running jobs", "running", r.running.Load())
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelGrace)
	defer cancel()
	if err := r.queue.stopAndCancel(cctx); err != nil {
		return fmt.Errorf("jobs: cancelled jobs did not return: %w", err)
	}
	return nil
}

// errRequeue asks the queue to keep a job for the next start: shutdown began
// before run was called, so nothing of the job has happened yet.
var errRequeue = errors.New("jobs: shutting down before the job ran")

// execute runs one queued job and records its outcome. It returns errRequeue,
// or another error when the outcome could not be recorded; the queue must not
// retry the latter.
func (r *Runner) execute(ctx context.Context, jobID int64) error {
	log := r.log.With("job_id", jobID)
	job, err := r.prepare(ctx, jobID)
	switch {
	case ctx.Err() != nil:
		return errRequeue
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrDone):
		log.Debug("skipping deleted or finished job")
		return nil
	case err != nil:
		return err
	}

	r.running.Add(1)
	panicked, runErr := r.call(ctx, job)
	r.running.Add(-1)

	// ctx may be cancelled by now; the outcome must still be written.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var msg string
	switch {
	case panicked:
		msg = msgPanic
	case runErr != nil && ctx.Err() != nil && r.stopping.Load():
		msg = msgInterrupted
	case runErr != nil:
		msg = runErr.Error()
		if msg == "" {
			msg = msgNoMessage
		}
	default:
		st, err := r.store.state(rctx, r.store.db, jobID)
		if errors.Is(err, ErrNotFound) || err == nil && st == Succeeded {
			return nil
		}
		if err != nil {
			return err
		}
		msg = msgNoResult
	}
	log.Info("job failed", "message", msg, "error", runErr)
	err = r.store.Fail(rctx, jobID, msg)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil // deleted while running
	case errors.Is(err, ErrDone):
		log.Warn("run failed after the job succeeded; keeping the success", "error", runErr)
		return nil
	}
	return err
}

// prepare marks the job Started and loads it for run.
func (r *Runner) prepare(ctx context.Context, jobID int64) (Job, error) {
	if err := r.store.Start(ctx, jobID); err != nil {
		return Job{}, err
	}
	return r.store.JobForWorker(ctx, jobID)
}

// call runs the RunFunc, turning a panic into panicked so that one bad job
// cannot take the process down.
func (r *Runner) call(ctx context.Context, job Job) (panicked bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("job panicked", "job_id", job.ID, "panic", v, "stack", string(debug.Stack()))
			panicked, err = true, nil
		}
	}()
	return false, r.run(ctx, job)
}
